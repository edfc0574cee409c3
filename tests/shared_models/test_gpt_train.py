"""Training the small GPT: it learns, stops when asked with a usable model, and round-trips on disk."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import torch

from shared_models.exceptions import InputError, ModelError
from shared_models.gpt import GPT, CharTokenizer, SampleOptions, sample
from shared_models.gpt_train import GPTTask, GPTTrainSpec, load_gpt, save_gpt, split_corpus, train_gpt
from shared_models.progress import Progress

CORPUS = (
    "The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun.\n"
    "A small bird sings on the old fence, and the fox listens.\n"
) * 60
STEPS = GPTTrainSpec(
    preset="tiny", seconds=600, max_steps=150, learning_rate=5e-3, batch_size=16, eval_every=50
)


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    torch.set_num_threads(2)
    return train_gpt(CORPUS, STEPS)


def test_training_learns_the_corpus(trained) -> None:  # type: ignore[no-untyped-def]
    uniform = math.log(trained.tokenizer.vocab_size)
    assert trained.steps == 150 and not trained.stopped
    assert trained.history[0].train_loss > uniform - 0.3
    assert trained.val_loss is not None and trained.val_loss < 1.0  # a repetitive text is easy to learn
    assert [p.step for p in trained.history if p.val_loss is not None] == [50, 100, 150]
    assert trained.tokens_per_s > 0


def test_training_is_reproducible_with_a_seed() -> None:
    spec = GPTTrainSpec(preset="tiny", seconds=600, max_steps=5, batch_size=4)
    one, two = train_gpt(CORPUS, spec), train_gpt(CORPUS, spec)
    assert [p.train_loss for p in one.history] == [p.train_loss for p in two.history]


def test_samples_look_like_the_corpus(trained) -> None:  # type: ignore[no-untyped-def]
    text = sample(trained.model, trained.tokenizer, "The ", SampleOptions(max_new_tokens=200, seed=0)).text
    words = set(CORPUS.split())
    produced = text.split()[1:-1]  # the last word may be cut off
    assert sum(w in words for w in produced) / len(produced) > 0.7


def test_progress_returning_false_stops_with_a_usable_model() -> None:
    seen: list[Progress] = []

    def on_progress(p: Progress) -> bool:
        seen.append(p)
        return p.step < 3

    spec = GPTTrainSpec(preset="tiny", seconds=600, batch_size=4, log_every=1, eval_every=5)
    result = train_gpt(CORPUS, spec, on_progress=on_progress)
    assert "loss" in seen[0].metrics and seen[0].metrics["tokens_per_s"] > 0
    assert result.stopped and result.steps == 3 and [p.step for p in seen] == [1, 2, 3]
    assert result.val_loss is not None  # measured at the end even when stopped early
    assert len(sample(result.model, result.tokenizer, "", SampleOptions(max_new_tokens=5)).text) == 5


def test_stop_event_ends_training() -> None:
    stop = threading.Event()
    stop.set()
    result = train_gpt(CORPUS, GPTTrainSpec(preset="tiny", seconds=600), stop=stop)
    assert result.stopped and result.steps <= 1  # the step under way when it was set completes


def test_a_stop_cuts_the_validation_estimate_short() -> None:
    spec = GPTTrainSpec(preset="tiny", seconds=600, batch_size=4, eval_batches=8)
    tokenizer = CharTokenizer.from_text(CORPUS)
    config = spec.model_config(tokenizer.vocab_size)
    train_ids, val_ids = split_corpus(CORPUS, tokenizer, spec.val_fraction, config.block_size)
    stop = threading.Event()
    task = GPTTask(GPT(config), train_ids, val_ids, spec, stop)
    stop.set()
    assert math.isfinite(task.validation_loss())
    one_batch = torch.Generator().manual_seed(spec.seed + 1)
    torch.randint(len(val_ids) - config.block_size - 1, (spec.batch_size,), generator=one_batch)
    assert torch.equal(task.eval_gen.get_state(), one_batch.get_state())  # one batch, not eight


def test_save_and_load_round_trip(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = save_gpt(trained, tmp_path / "model", dataset="fox")
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.safetensors"]
    loaded = load_gpt(folder)
    options = SampleOptions(max_new_tokens=50, seed=4)
    assert (
        sample(loaded.model, loaded.tokenizer, "A ", options).text
        == sample(trained.model, trained.tokenizer, "A ", options).text
    )
    assert loaded.val_loss == trained.val_loss and loaded.spec == trained.spec
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not a valid safetensors"):
        load_gpt(folder)


def test_bad_specs_and_short_corpora_are_refused() -> None:
    with pytest.raises(InputError, match="unknown GPT preset"):
        GPTTrainSpec(preset="huge")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="too short"):
        train_gpt("abc " * 20, GPTTrainSpec(preset="small", max_steps=1))

"""Train your own: corpus checks and a tiny GPT that continues a scene."""

from __future__ import annotations

import pytest

from domains.entertainment.scripts.voice import VoiceOptions, check_script_corpus, continue_scene, train_voice
from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.gpt_train import GPTTrainSpec

SCENES = [
    "INT. KITCHEN - NIGHT\n\nThe kettle hisses.\n\nANNA\nYou are late again.\n\nBEN\nThe ferry was slow.\n\n",
    "EXT. HARBOUR - DAY\n\nGulls circle the boats.\n\nBEN\nShe never writes.\n\nANNA\nThen write to her.\n\n",
]
CORPUS = "".join(SCENES) * 40


def test_script_corpus_is_counted() -> None:
    report = check_script_corpus(CORPUS.encode())
    assert report.looks_like_scripts
    assert (report.scene_headings, report.character_cues, report.dialogue_lines) == (80, 160, 160)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00" + b"x" * 400, InputError, "binary"),
        ("Café ".encode("latin-1") * 100, InputError, "not UTF-8"),
        (b"too short", InputError, "at least"),
        (b"a" * 3_000_001, ResourceLimitError, "limit"),
    ],
)
def test_bad_corpora_are_refused(data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        check_script_corpus(data)


def test_trained_voice_continues_a_scene_reproducibly() -> None:
    spec = GPTTrainSpec(preset="tiny", seconds=30, max_steps=150, eval_every=50, log_every=10, seed=0)
    trained = train_voice(CORPUS, spec)
    assert trained.val_loss is not None and trained.val_loss < 1.5  # well under uniform (~3.3 nats)
    options = VoiceOptions(chars=120, temperature=0.5, seed=3)
    first = continue_scene(trained, "INT. KITCHEN - NIGHT\n\nANNA\n", options)
    assert len(first.continuation) == 120 and first.text.startswith("INT. KITCHEN")
    assert continue_scene(trained, "INT. KITCHEN - NIGHT\n\nANNA\n", options) == first
    assert continue_scene(trained, "RÜCH\n", options).dropped_characters == "Ü"
    with pytest.raises(InputError):
        continue_scene(trained, "   ", options)

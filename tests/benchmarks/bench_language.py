"""Language core: local LM speed beside raw llama.cpp, MiniLM throughput, small GPT on Tiny Shakespeare.

- Local backend vs raw ``llama_cpp.Llama``: the same GGUF, the same rendered prompt tokens, greedy,
  128 new tokens, in the same process; five rounds, alternating which goes first, medians reported
  (on a shared machine a burst of other load can still skew one side; rerun when in doubt). Both
  evaluate the prompt afresh each round (the wrapper does so whenever a seed is given).
- MiniLM: sentences per second embedding 1,000 short sentences (model loaded beforehand).
- Small GPT: nanoGPT's CPU config (4 layers, 4 heads, 128 dims, context 64) trained 3 minutes on
  ``../shared/data/tinyshakespeare/input.txt`` (skipped when absent) through the shared trainer.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from tests.benchmarks import Figure

ROUNDS = 5
NEW_TOKENS = 128
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
SHAKESPEARE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tinyshakespeare" / "input.txt"
GPT_SECONDS = float(os.environ.get("BENCH_GPT_SECONDS", 180))


def _timed(pieces: object) -> tuple[float, float, int]:
    """(time to first token, decode tokens/s, tokens) of a stream of text pieces, one per token."""
    start = time.perf_counter()
    first, count = None, 0
    for piece in pieces:  # type: ignore[attr-defined]
        if not piece:
            continue  # the closing piece that only carries the finish reason
        if first is None:
            first = time.perf_counter() - start
        count += 1
    total = time.perf_counter() - start
    first = first or total
    return first, (count - 1) / max(total - first, 1e-9), count


def _local_vs_raw() -> list[Figure]:
    from llama_cpp import Llama

    from shared_models.lm import GenerationOptions, LMConfig, build_text_generator, bundled_gguf_path

    threads = int(os.environ.get("AIGC_LLM_THREADS", os.cpu_count() or 1))
    lm = build_text_generator(LMConfig(engine="llama_cpp", n_ctx=2048, n_threads=threads))
    raw = Llama(model_path=str(bundled_gguf_path()), n_ctx=2048, n_threads=threads, verbose=False)
    messages = [{"role": "user", "content": PROMPT}]
    tokens, stops = lm.prompt_tokens(messages)  # type: ignore[attr-defined]
    options = GenerationOptions(max_tokens=NEW_TOKENS, temperature=0.0, repeat_penalty=1.1, seed=0)
    wrapper_runs, raw_runs = [], []

    def wrapper_round() -> None:
        stream = lm.stream(messages, options)
        first, _, _ = _timed(stream)
        result = stream.result
        wrapper_runs.append((first, result.tokens_per_s, result.completion_tokens))

    def raw_round() -> None:
        raw.reset()
        pieces = (
            chunk["choices"][0]["text"]
            for chunk in raw.create_completion(
                prompt=tokens,
                max_tokens=NEW_TOKENS,
                temperature=0.0,
                repeat_penalty=1.1,
                stop=stops,
                seed=0,
                stream=True,
            )
        )
        raw_runs.append(_timed(pieces))

    for i in range(ROUNDS):  # alternate which goes first, so a burst of other load hits both alike
        for measure in (wrapper_round, raw_round) if i % 2 == 0 else (raw_round, wrapper_round):
            measure()
    w_first = statistics.median(r[0] for r in wrapper_runs)
    w_speed = statistics.median(r[1] for r in wrapper_runs)
    r_first = statistics.median(r[0] for r in raw_runs)
    r_speed = statistics.median(r[1] for r in raw_runs)
    note = (
        f"SmolLM2-135M Q4_1, {threads} threads, greedy, {wrapper_runs[0][2]} new tokens, median of {ROUNDS}"
    )
    return [
        Figure("language", "local backend: time to first token", w_first, "s", note),
        Figure("language", "raw llama_cpp.Llama: time to first token", r_first, "s", "same prompt tokens"),
        Figure("language", "local backend: decode speed", w_speed, "tokens/s", note),
        Figure("language", "raw llama_cpp.Llama: decode speed", r_speed, "tokens/s", "same prompt tokens"),
        Figure("language", "wrapper / raw decode speed", 100 * w_speed / r_speed, "%", "target >= 95 %"),
    ]


def _minilm() -> list[Figure]:
    from shared_models.embeddings import embed, load_embedder

    load_embedder()
    subjects = ["The cat", "A trader", "My bank", "The engineer", "Our robot", "The weather", "A customer"]
    verbs = ["likes", "checks", "reports", "designs", "fixes", "predicts", "asks about"]
    objects = ["the invoice", "a new part", "the market", "the forecast", "a refund", "the schedule"]
    sentences = [
        f"{subjects[i % 7]} {verbs[(i // 7) % 7]} {objects[(i // 49) % 6]} number {i}." for i in range(1000)
    ]
    embed(sentences[:64])  # warm-up
    start = time.perf_counter()
    vectors = embed(sentences)
    seconds = time.perf_counter() - start
    assert vectors.shape == (1000, 384)
    return [
        Figure(
            "language",
            "MiniLM-L6 embeddings",
            1000 / seconds,
            "sentences/s",
            "1,000 short sentences, batch 64",
        )
    ]


def _small_gpt() -> list[Figure]:
    if not SHAKESPEARE.is_file():
        return [
            Figure(
                "language",
                "small GPT on Tiny Shakespeare",
                float("nan"),
                "",
                f"skipped: {SHAKESPEARE} absent",
            )
        ]
    from shared_models.gpt import SampleOptions, sample
    from shared_models.gpt_train import GPTTrainSpec, train_gpt

    text = SHAKESPEARE.read_text(encoding="utf-8")
    spec = GPTTrainSpec(
        preset="small",
        seconds=GPT_SECONDS,
        batch_size=32,
        learning_rate=2e-3,
        eval_every=200,
        eval_batches=20,
        log_every=20,
        seed=0,
    )
    trained = train_gpt(text, spec)
    curve = ", ".join(f"{p.step}:{p.val_loss:.2f}" for p in trained.history if p.val_loss is not None)
    print(f"<!-- small GPT validation loss by step: {curve} -->")
    print(
        "<!-- sample: "
        + sample(
            trained.model, trained.tokenizer, "ROMEO:", SampleOptions(max_new_tokens=200, seed=0)
        ).text.replace("\n", " / ")
        + " -->"
    )
    config = "4 layers, 4 heads, 128 dims, context 64"
    return [
        Figure(
            "language",
            "small GPT validation loss",
            trained.val_loss or float("nan"),
            "nats/char",
            f"{config}, {trained.seconds:.0f} s, {trained.steps} steps; target <= 1.95",
        ),
        Figure(
            "language",
            "small GPT training speed",
            trained.tokens_per_s,
            "tokens/s",
            f"batch 32 x 64, {config}",
        ),
    ]


def run() -> list[Figure]:
    return [*_local_vs_raw(), *_minilm(), *_small_gpt()]

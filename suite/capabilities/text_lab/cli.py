"""`aigc text`: generate with the shared language model, train and sample the small GPT.

Example:
    $ aigc text generate "Write a tagline for a bakery" --max-tokens 60 --seed 1
    $ aigc text train corpus.txt --seconds 120 --sample 300
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from shared_models.exceptions import InputError
from shared_models.lm import GenerationOptions, LMConfig, build_text_generator
from suite.workspace import Run, Workspace, default_root

__all__ = ["GPT_PRESETS", "register"]

# The GPT modules import torch, so they load inside the handler, keeping `aigc runs` fast; a test
# checks this list against shared_models.gpt_train.PRESETS.
GPT_PRESETS = ("small", "tiny")


def register(commands: Any) -> None:
    parser = commands.add_parser("text", help="language model: generate text, train a small GPT")
    sub = parser.add_subparsers(dest="text_command", required=True, metavar="ACTION")

    gen = sub.add_parser("generate", help="answer a prompt with the configured model (AIGC_LLM_*)")
    gen.add_argument("prompt")
    gen.add_argument("--system", help="system prompt")
    gen.add_argument("--max-tokens", type=int, default=256)
    gen.add_argument("--temperature", type=float, default=0.7)
    gen.add_argument("--top-p", type=float, default=0.95)
    gen.add_argument("--repeat-penalty", type=float, default=1.15)
    gen.add_argument("--seed", type=int, help="fixes the sampling for a reproducible answer")
    gen.add_argument("--gguf", help="local GGUF file (default: $AIGC_LLM_GGUF, else the bundled SmolLM2)")
    gen.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $AIGC_LLM_BASE_URL)")
    gen.add_argument("--model", help="model id on the endpoint (default: $AIGC_LLM_MODEL)")
    gen.add_argument("--stats", action="store_true", help="print tokens/s and the model to stderr")
    gen.set_defaults(handler=generate)

    train = sub.add_parser("train", help="train a small character-level GPT on a UTF-8 text file")
    train.add_argument("corpus", type=Path, help=".txt file, UTF-8, at most 5 MB")
    train.add_argument("--seconds", type=float, default=120.0, help="training time budget (default 120)")
    train.add_argument("--preset", choices=GPT_PRESETS, default="small", help="model size (default small)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--sample", type=int, default=300, metavar="N", help="characters to sample after (0: none)"
    )
    train.add_argument("--prompt", default="", help="start of the sample")
    train.add_argument("--temperature", type=float, default=0.8)
    train.add_argument("--top-k", type=int, default=40)
    train.set_defaults(handler=train_command)


def generate(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"cache_dir": str(default_root() / "cache" / "lm")}
    if args.gguf:
        overrides.update(backend="local", gguf_path=args.gguf)
    if args.base_url:
        overrides.update(backend="openai", base_url=args.base_url)
    if args.model:
        overrides["model"] = args.model
    lm = build_text_generator(LMConfig.from_env(**overrides))
    if lm.notice:
        print(f"note: {lm.notice}", file=sys.stderr)
    options = GenerationOptions(
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        repeat_penalty=args.repeat_penalty,
        seed=args.seed,
    )
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.prompt}
    ]
    params = {"backend": lm.backend, "model": lm.model_name, "prompt": args.prompt, **options.__dict__}
    with Workspace.from_env().start_run("text.generate", params) as run:
        stream = lm.stream(messages, options)
        for piece in stream:
            print(piece, end="", flush=True)
        print()
        result = stream.result
        run.log_metrics(
            {
                "tokens_per_s": result.tokens_per_s,
                "first_token_s": result.first_token_s,
                "completion_tokens": result.completion_tokens,
            }
        )
        run.save_text("answer.txt", result.text)
    if args.stats:
        print(
            f"[{result.model} via {lm.backend}/{lm.engine}: {result.completion_tokens} tokens, "
            f"{result.tokens_per_s:.1f} tokens/s, first token {result.first_token_s or 0:.2f} s]",
            file=sys.stderr,
        )
    return 0


def _progress_printer() -> Any:
    from shared_models.progress import Progress

    last = [0.0]

    def show(p: Progress) -> None:
        val_loss = p.metrics.get("val_loss")
        if val_loss is None and time.monotonic() - last[0] < 1.0:
            return
        last[0] = time.monotonic()
        val = f" val {val_loss:.3f}" if val_loss is not None else ""
        print(
            f"\r{p.fraction or 0:4.0%} step {p.step:5d} loss {p.metrics['loss']:.3f}{val} "
            f"{p.metrics.get('tokens_per_s', 0):,.0f} tok/s",
            end="\n" if val else "",
            file=sys.stderr,
            flush=True,
        )

    return show


def train_command(args: argparse.Namespace) -> int:
    from shared_models.gpt import SampleOptions, check_corpus, sample
    from shared_models.gpt_train import GPTTrainSpec
    from suite.capabilities.text_lab.runner import train_gpt_and_record

    try:
        data = args.corpus.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the corpus {args.corpus}: {exc.strerror}") from exc
    text = check_corpus(data)
    spec = GPTTrainSpec(preset=args.preset, seconds=args.seconds, seed=args.seed)
    options = SampleOptions(
        max_new_tokens=max(args.sample, 1), temperature=args.temperature, top_k=args.top_k, seed=args.seed
    )
    stop = threading.Event()
    workspace = Workspace.from_env()
    # Ctrl+C asks the trainer to stop after its current step, so the partial model is still saved.
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        outcome = train_gpt_and_record(workspace, text, spec, args.corpus.name, _progress_printer(), stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    trained = outcome.trained
    status = "stopped early" if trained.stopped else "done"
    print(
        f"\nrun {outcome.run_id} {status}: {trained.steps} steps in {trained.seconds:.0f} s, validation loss "
        f"{trained.val_loss:.3f}, {trained.tokens_per_s:,.0f} tokens/s",
        file=sys.stderr,
    )
    if args.sample > 0:
        text_out = sample(trained.model, trained.tokenizer, args.prompt, options).text
        Run(workspace, outcome.run_id).save_text("sample.txt", text_out)
        print(text_out)
    return 0

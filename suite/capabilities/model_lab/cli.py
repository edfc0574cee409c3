"""`aigc lab`: train and sample the Model Lab's image generators."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domains.lab.image_lab import MODEL_KINDS, ImageLabSpec, class_grid, sample_grid
from shared_models.datasets import DATASETS, load_dataset
from shared_models.exceptions import InputError
from shared_models.images import to_png
from suite.capabilities.model_lab.runner import open_model, train_and_record
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("lab", help="Model Lab: train and sample GANs and VAEs")
    sub = parser.add_subparsers(dest="lab_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train an image generator as a workspace run")
    train.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    train.add_argument("--model", choices=list(MODEL_KINDS), default="cvae")
    train.add_argument("--seconds", type=float, help="wall-clock budget (default 60 unless --steps is given)")
    train.add_argument("--steps", type=int, help="step budget instead of (or as well as) seconds")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--latent-dim", type=int, help="size of z (default: 64 GAN, 16 VAE)")
    train.add_argument("--temperature", type=float, default=1.0, help="sampling temperature for the metrics")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=train_command)

    sample = sub.add_parser("sample", help="write a grid of samples from a trained run")
    sample.add_argument("run_id", type=int, metavar="RUN_ID")
    sample.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    sample.add_argument("--out", type=Path, default=Path("grid.png"), help="PNG file to write")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--temperature", type=float, default=1.0)
    sample.add_argument("--per-class", action="store_true", help="one row per class (conditional models)")
    sample.set_defaults(handler=sample_command)


def train_command(args: argparse.Namespace) -> int:
    seconds = args.seconds if args.seconds is not None else (None if args.steps else 60.0)
    spec = ImageLabSpec(
        model=args.model,
        dataset=args.dataset,
        seconds=seconds,
        steps=args.steps,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        seed=args.seed,
    )
    data = load_dataset(args.dataset, image_size=32 if args.dataset == "shapes" else 28)
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = train_and_record(
            Workspace.from_env(), spec, data, progress, stop, temperature=args.temperature
        )
    progress.close()
    print(json.dumps({"run_id": outcome.run_id, **outcome.metrics}, indent=2))
    return 0


def sample_command(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= 1024:
        raise InputError(f"--n must be between 1 and 1024, got {args.n}")
    model, _ = open_model(Workspace.from_env(), args.run_id)
    if args.per_class:
        grid = class_grid(
            model,
            per_class=max(1, args.n // max(model.num_classes, 1)),
            seed=args.seed,
            temperature=args.temperature,
        )
    else:
        grid = sample_grid(model, args.n, seed=args.seed, temperature=args.temperature)
    args.out.write_bytes(to_png(grid, scale=2))
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]} pixels)")
    return 0

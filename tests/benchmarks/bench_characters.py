"""Character Design (issue figures): attribute accuracy per attribute for the cVAE and the cGAN, judged by
the attribute classifier; novelty (nearest training image); diversity within one attribute setting;
time to generate 16 characters; time to train to the 90 % bar. CPU, 2 threads.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from domains.entertainment.characters.models import (
    CharacterModel,
    CharacterModelSpec,
    _build,
    attribute_accuracy,
    character_set,
    get_attribute_classifier,
)
from domains.entertainment.characters.operations import generate
from domains.entertainment.characters.sprites import attribute_codes, draw_sprite, to_rgb
from shared_models.trainer import TrainConfig, seed_everything, train
from tests.benchmarks import Figure

SCALE = float(os.environ.get("AIGC_BENCH_SCALE", "1"))  # < 1 only for a quick look; figures use 1
# Which generators to measure (default both); e.g. AIGC_BENCH_CHARACTER_MODELS=cvae for a shorter run.
KINDS = os.environ.get("AIGC_BENCH_CHARACTER_MODELS", "cvae,cgan").split(",")
BAR = 0.9
EVAL_SAMPLES = 512
PIXEL_TOLERANCE = 0.15  # a channel difference above this counts as a different pixel
NOVEL_SHARE = 0.03  # novel: more than 3 % of pixels differ from the nearest training character
BUDGETS = {"cvae": (2400, 300), "cgan": (6000, 750)}  # (steps at most, steps between measurements)
FIXED = {
    "body": "broad",
    "skin": "tan",
    "hair_style": "long",
    "hair": "red",
    "outfit": "armour",
    "outfit_colour": "green",
    "accessory": "none",
    "expression": "happy",
}


def _accuracy(model: CharacterModel, judge: torch.nn.Module) -> dict[str, float]:
    raws, codes = [], []
    for seed in range(EVAL_SAMPLES // 256):
        batch = generate(model, 256, seed=100 + seed)
        raws.append(batch.raw)
        codes.append(attribute_codes(batch.attributes))
    return attribute_accuracy(judge, torch.cat(raws), torch.cat(codes))


def _train_to_bar(
    spec: CharacterModelSpec, judge: torch.nn.Module
) -> tuple[CharacterModel, float | None, int]:
    """Train in chunks, measuring after each; returns the model, seconds to the bar (None: not reached)."""
    total, chunk = (max(1, round(v * SCALE)) for v in BUDGETS[spec.model])
    data = character_set(spec.dataset_size, spec.data_seed)
    seed_everything(spec.seed)
    model, task = _build(spec)
    seconds, steps, reached = 0.0, 0, None
    while steps < total:
        config = TrainConfig(steps=chunk, batch_size=spec.batch_size, seed=spec.seed + steps, log_every=chunk)
        result = train(task, (data.images, data.codes, data.vectors), config)
        seconds += result.seconds
        steps += result.steps
        model.eval()
        average = float(np.mean(list(_accuracy(model, judge).values())))
        print(f"  {spec.model} step {steps}: {average:.3f} ({seconds:.0f}s)", file=sys.stderr, flush=True)
        if reached is None and average >= BAR:
            reached = seconds
    return model, reached, steps


def _novelty(model: CharacterModel, train_images: torch.Tensor) -> float:
    batch = generate(model, 256, seed=21)
    flat_train = train_images.flatten(1)
    nearest = torch.cat([torch.cdist(g.flatten(1), flat_train).argmin(1) for g in batch.raw.split(64)])
    differs = (batch.raw - train_images[nearest]).abs().amax(1) > PIXEL_TOLERANCE  # (N, H, W)
    return float((differs.float().mean((1, 2)) > NOVEL_SHARE).float().mean())


def _diversity(images: torch.Tensor) -> float:
    """Mean pairwise RMS pixel distance."""
    flat = images.flatten(1)
    d = torch.cdist(flat, flat) / flat.shape[1] ** 0.5
    n = len(flat)
    return float(d.sum() / (n * (n - 1)))


def run() -> list[Figure]:
    torch.manual_seed(0)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        judge, judge_accuracy = get_attribute_classifier(Path(tmp))
    figures.append(
        Figure(
            "characters",
            "attribute classifier held-out accuracy (mean)",
            100 * float(np.mean(list(judge_accuracy.values()))),
            "%",
            ", ".join(f"{k} {100 * v:.0f}" for k, v in judge_accuracy.items()),
        )
    )
    real_fixed = torch.from_numpy(to_rgb(np.stack([draw_sprite(FIXED, s).image for s in range(64)])))
    real_fixed = real_fixed.permute(0, 3, 1, 2).float() / 255
    for kind in KINDS:
        spec = CharacterModelSpec(model=kind, width=16 if kind == "cvae" else 32)
        model, to_bar, steps = _train_to_bar(spec, judge)
        accuracy = _accuracy(model, judge)
        average = 100 * float(np.mean(list(accuracy.values())))
        notes = ", ".join(f"{k} {100 * v:.0f}" for k, v in accuracy.items())
        figures.append(
            Figure("characters", f"{kind} attribute accuracy (mean, {steps} steps)", average, "%", notes)
        )
        figures.append(
            Figure(
                "characters",
                f"{kind} time to train to {BAR:.0%} attribute accuracy",
                to_bar if to_bar is not None else float("nan"),
                "s",
                "not reached within the budget"
                if to_bar is None
                else f"measured every {BUDGETS[kind][1]} steps",
            )
        )
        data = character_set(spec.dataset_size, spec.data_seed)
        figures.append(
            Figure(
                "characters",
                f"{kind} novelty",
                100 * _novelty(model, data.images),
                "%",
                f"share of 256 whose nearest training character differs in > {NOVEL_SHARE:.0%} of pixels",
            )
        )
        same = generate(model, 64, FIXED, seed=5)
        figures.append(
            Figure(
                "characters",
                f"{kind} diversity within one attribute setting",
                _diversity(same.raw),
                "RMS px",
                f"procedural sprites of that setting: {_diversity(real_fixed):.3f}",
            )
        )
        timings = []
        for i in range(20):
            start = time.perf_counter()
            generate(model, 16, {"hair": "red"}, seed=i)
            timings.append(time.perf_counter() - start)
        figures.append(
            Figure(
                "characters",
                f"{kind} time to generate 16 characters",
                float(np.median(timings)),
                "s",
                "median of 20",
            )
        )
        for f in figures:  # as each generator finishes, so a long run that is cut short keeps them
            print(f"  {f.figure}: {f.value:.4g} {f.unit} ({f.notes})", file=sys.stderr, flush=True)
    return figures

"""Defect Inspection, supervised option (issue figures): the defect-type classifier on the NEU steel
surface sample in ``../shared/data/neu-det-sample/images`` (119 images, 6 classes; skipped when absent),
with a stratified 70/30 split per seed: held-out accuracy (mean over seeds, min and max in the notes),
training seconds and prediction ms per image.

Environment: ``AIGC_BENCH_DEFECT_SEEDS`` (default 3) seeds, ``AIGC_BENCH_DEFECT_STEPS`` (default 400)
training steps per seed; ``AIGC_BENCH_DEFECT_THREADS`` overrides the harness's 2 torch threads (on a
loaded 2-core machine, 2 threads made training ~5x slower than 1 thread alone).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from domains.manufacturing.inspection.classifier import ClassifierTrainConfig, evaluate_classifier
from domains.manufacturing.inspection.labelled import load_labelled_folder
from tests.benchmarks import Figure

NAME = "defect_classifier"
NEU = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "neu-det-sample" / "images"
SEEDS = int(os.environ.get("AIGC_BENCH_DEFECT_SEEDS", "3"))
STEPS = int(os.environ.get("AIGC_BENCH_DEFECT_STEPS", "400"))
SIZE = 64


def run() -> list[Figure]:
    if not NEU.is_dir():
        return [Figure(NAME, "NEU defect classifier", float("nan"), "", f"skipped: {NEU} absent")]
    if "AIGC_BENCH_DEFECT_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["AIGC_BENCH_DEFECT_THREADS"]))
    data, _ = load_labelled_folder(NEU, image_size=SIZE)
    evaluations = [
        evaluate_classifier(
            data, ClassifierTrainConfig(image_size=SIZE, steps=STEPS, seed=seed), test_fraction=0.3
        )
        for seed in range(SEEDS)
    ]
    accuracies = np.array([e.accuracy for e in evaluations])
    confusion = sum(e.confusion for e in evaluations)
    per_class = ", ".join(
        f"{name} {confusion[i, i] / confusion[i].sum():.2f}" for i, name in enumerate(data.class_names)
    )
    setting = f"{len(data.labels)} images, {len(data.class_names)} classes, {SIZE} px, {STEPS} steps"
    return [
        Figure(
            NAME,
            f"NEU held-out accuracy (stratified 70/30, mean of {SEEDS} seeds)",
            float(accuracies.mean()),
            "fraction",
            f"min {accuracies.min():.3f}, max {accuracies.max():.3f}; chance 0.167; {setting}",
        ),
        Figure(
            NAME,
            "NEU accuracy pooled over seeds (notes: recall per class)",
            float(np.trace(confusion) / confusion.sum()),
            "fraction",
            per_class,
        ),
        Figure(
            NAME,
            "training time per model",
            float(np.mean([e.train_seconds for e in evaluations])),
            "s",
            f"{evaluations[0].train_count} training images, CPU",
        ),
        Figure(
            NAME,
            "prediction time",
            float(np.mean([e.ms_per_image for e in evaluations])),
            "ms/image",
            f"batch of {evaluations[0].test_count}",
        ),
    ]

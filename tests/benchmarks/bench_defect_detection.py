"""Defect Inspection (issue figures): every detector on every category of the built-in benchmark.

Per category and detector: image AUROC, pixel AUROC, PRO (FPR <= 0.3), training seconds and ms per
256 x 256 image, with image AUROC per defect type in the notes; then each detector's average over the
categories against the bar (image AUROC >= 0.95, pixel AUROC >= 0.90, <= 15 min CPU training per
category).

Environment:
    AIGC_BENCH_DEFECT_SURFACES   comma list (default: all eight surfaces)
    AIGC_BENCH_DEFECT_DETECTORS  comma list (default: patch_stats,autoencoder,draem)
    AIGC_BENCH_DEFECT_SECONDS    DRAEM training budget per category (default 900: the issue's 15 min)
    AIGC_BENCH_DEFECT_AE_SECONDS autoencoder training budget per category (default 300)
    AIGC_BENCH_DEFECT_SIZE       tile side (default 256)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.pipeline import InspectorSpec, evaluate, train_inspector
from domains.manufacturing.inspection.surfaces import SURFACES
from tests.benchmarks import Figure

NAME = "defect_detection"
SURFACE_LIST = os.environ.get("AIGC_BENCH_DEFECT_SURFACES", ",".join(SURFACES)).split(",")
DETECTOR_LIST = os.environ.get("AIGC_BENCH_DEFECT_DETECTORS", "patch_stats,autoencoder,draem").split(",")
DRAEM_SECONDS = float(os.environ.get("AIGC_BENCH_DEFECT_SECONDS", "900"))
AE_SECONDS = float(os.environ.get("AIGC_BENCH_DEFECT_AE_SECONDS", "300"))
SIZE = int(os.environ.get("AIGC_BENCH_DEFECT_SIZE", "256"))


def _settings(detector: str, surface: str) -> dict[str, Any]:
    if detector == "draem":
        return {"seconds": DRAEM_SECONDS, "steps": None, "exclude_textures": (surface,)}
    if detector == "autoencoder":
        return {"seconds": AE_SECONDS, "steps": None}
    return {}


def _one(detector: str, surface: str) -> dict[str, Any]:
    data = make_benchmark(BenchmarkSpec(surface=surface, image_size=SIZE))
    spec = InspectorSpec(detector=detector, settings=_settings(detector, surface))
    inspector = train_inspector(data.train, data.calibration, spec)
    evaluation = evaluate(inspector, data)
    return {
        "image": evaluation.image_auroc,
        "pixel": evaluation.pixel_auroc,
        "pro": evaluation.pro,
        "f1": evaluation.f1,
        "train_s": inspector.fit.seconds if inspector.fit else float("nan"),
        "ms": evaluation.ms_per_image,
        "per_defect": {k: v["image_auroc"] for k, v in evaluation.per_defect.items()},
        "per_defect_pixel": {k: v["pixel_auroc"] for k, v in evaluation.per_defect.items()},
    }


def run() -> list[Figure]:
    figures: list[Figure] = []
    averages: dict[str, list[dict[str, Any]]] = {}
    for detector in DETECTOR_LIST:
        for surface in SURFACE_LIST:
            result = _one(detector, surface)
            averages.setdefault(detector, []).append(result)
            per_defect = ", ".join(f"{k} {v:.2f}" for k, v in result["per_defect"].items())
            per_defect_pixel = ", ".join(f"{k} {v:.2f}" for k, v in result["per_defect_pixel"].items())
            where = f"{detector} / {surface}"
            figures += [
                Figure(NAME, f"{where}: image AUROC", result["image"], "", f"per defect: {per_defect}"),
                Figure(
                    NAME,
                    f"{where}: pixel AUROC",
                    result["pixel"],
                    "",
                    f"PRO {result['pro']:.3f}; per defect: {per_defect_pixel}",
                ),
                Figure(
                    NAME,
                    f"{where}: training",
                    result["train_s"],
                    "s",
                    f"{result['ms']:.1f} ms per {SIZE} px image; F1 at 5 % false alarms {result['f1']:.2f}",
                ),
            ]
            for figure in figures[-3:]:
                print(f"  {figure.figure}: {figure.value:.4g} {figure.unit} ({figure.notes})", flush=True)
    for detector, results in averages.items():
        keys = ("image", "pixel", "pro", "train_s", "ms")
        mean = {k: float(np.mean([r[k] for r in results])) for k in keys}
        bar = "meets" if mean["image"] >= 0.95 and mean["pixel"] >= 0.90 else "below"
        note = (
            f"mean of {len(results)} categories; pixel AUROC {mean['pixel']:.3f}, PRO {mean['pro']:.3f}, "
            f"training {mean['train_s']:.0f} s, {mean['ms']:.1f} ms/image; {bar} the bar (0.95 / 0.90)"
        )
        figures.append(Figure(NAME, f"{detector}: mean image AUROC", mean["image"], "", note))
    return figures

"""Style Transfer (issue figures): on the four public-domain paintings in ``../shared/data/style_paintings``
(skipped when absent) x the astronaut and coffee photos at 512 px, for colour transfer (Reinhard),
the painterly mode and the fast mode: colour distance, texture distance, luminance SSIM and seconds per
image; and the fast-mode training time per painting.

Goals from the issue: painterly <= 20 s per 512 px image, colour distance at most half of Reinhard's,
SSIM >= 0.35 on every pair; fast mode <= 1 s per image and within 25 % of the painterly distances.

Environment: ``AIGC_BENCH_STYLE_FAST`` (comma-separated painting stems, default all) limits which
paintings get a fast network trained (``none``: no fast mode); ``AIGC_BENCH_STYLE_TRAIN_S`` is the training
budget (default 300); ``AIGC_BENCH_STYLE_THREADS`` overrides the harness's 2 torch threads (on a loaded
2-core machine, 2 threads made the painterly mode 2-3x slower than 1).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from domains.creative import (
    PainterlyConfig,
    StyleSettings,
    check_upload,
    content_photo,
    spec_for,
    stylise,
    train_fast_style,
)
from tests.benchmarks import Figure

NAME = "style"
PAINTINGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "style_paintings"
CONTENTS = ("astronaut", "coffee")
SIZE = 512
TRAIN_SECONDS = float(os.environ.get("AIGC_BENCH_STYLE_TRAIN_S", "300"))


def _paintings() -> dict[str, np.ndarray]:
    return {p.stem: check_upload(p.read_bytes(), p.name) for p in sorted(PAINTINGS.glob("*.jpg"))}


def _row(method: str, painting: str, content: str, measures: dict[str, float], seconds: float) -> Figure:
    return Figure(
        NAME,
        f"{method}: {painting} x {content}, colour distance",
        measures["colour_distance"],
        "Lab",
        f"texture {measures['texture_distance']:.3f}, SSIM {measures['ssim']:.2f}, {seconds:.1f} s",
    )


def run() -> list[Figure]:
    if not PAINTINGS.is_dir():
        return [Figure(NAME, "style paintings", float("nan"), "", f"skipped: {PAINTINGS} absent")]
    if os.environ.get("AIGC_BENCH_STYLE_THREADS"):
        torch.set_num_threads(int(os.environ["AIGC_BENCH_STYLE_THREADS"]))
    paintings = _paintings()
    chosen_fast = os.environ.get("AIGC_BENCH_STYLE_FAST", ",".join(paintings)).split(",")
    photos = {name: content_photo(name) for name in CONTENTS}
    figures: list[Figure] = []
    results: dict[tuple[str, str, str], dict[str, float]] = {}
    seconds: dict[str, list[float]] = {"colour": [], "painterly": [], "fast": []}
    store = Path(tempfile.mkdtemp(prefix="bench-style-"))
    for painting, style in paintings.items():
        fast = None
        if painting in chosen_fast:
            spec = spec_for(painting, style, seconds=TRAIN_SECONDS, steps=100_000)
            started = time.perf_counter()
            fast, _ = train_fast_style(style, spec, store)
            total = time.perf_counter() - started
            training = fast.card.training
            figures.append(
                Figure(NAME, f"fast: training time for {painting}", total, "s",
                       f"painting {training['paint_seconds']:.0f} s + training {training['seconds']:.0f} s "
                       f"({training['steps']} steps)")
            )  # fmt: skip
        for content_name, photo in photos.items():
            methods: list[tuple[str, StyleSettings]] = [
                ("colour", StyleSettings(method="colour", painterly=PainterlyConfig(SIZE))),
                ("painterly", StyleSettings(method="painterly", painterly=PainterlyConfig(SIZE))),
            ]
            if fast is not None:
                methods.append(("fast", StyleSettings(method="fast", painterly=PainterlyConfig(SIZE))))
            for method, settings in methods:
                result = stylise(photo, style, settings, fast_style=fast if method == "fast" else None)
                measures = result.measures.as_dict()
                results[(method, painting, content_name)] = measures
                seconds[method].append(result.seconds)
                figures.append(_row(method, painting, content_name, measures, result.seconds))
                print(f"  {figures[-1].figure}: {figures[-1].notes}", file=sys.stderr, flush=True)
    figures.extend(_summary(results, seconds))
    return figures


def _summary(
    results: dict[tuple[str, str, str], dict[str, float]], seconds: dict[str, list[float]]
) -> list[Figure]:
    figures = []
    for method, times in seconds.items():
        if times:
            figures.append(
                Figure(NAME, f"{method}: seconds per {SIZE} px image (mean)", float(np.mean(times)), "s",
                       f"max {max(times):.2f} s over {len(times)} images")
            )  # fmt: skip
    pairs = [(p, c) for (m, p, c) in results if m == "painterly"]
    ratios = [
        results["painterly", p, c]["colour_distance"] / results["colour", p, c]["colour_distance"]
        for p, c in pairs
    ]
    ssims = [results["painterly", p, c]["ssim"] for p, c in pairs]
    figures.append(
        Figure(
            NAME, "painterly colour distance / Reinhard's (worst pair)", max(ratios), "ratio", "goal <= 0.5"
        )
    )
    figures.append(Figure(NAME, "painterly SSIM (worst pair)", min(ssims), "", "goal >= 0.35"))
    fast_pairs = [(p, c) for (m, p, c) in results if m == "fast"]
    for measure in ("colour_distance", "texture_distance"):
        if fast_pairs:
            excess = [
                results["fast", p, c][measure] / results["painterly", p, c][measure] - 1
                for p, c in fast_pairs
            ]
            figures.append(
                Figure(NAME, f"fast {measure.replace('_', ' ')} above painterly (worst)", 100 * max(excess),
                       "%", f"mean {100 * np.mean(excess):.0f} %, {len(fast_pairs)} pairs; goal <= 25 %")
            )  # fmt: skip
    return figures

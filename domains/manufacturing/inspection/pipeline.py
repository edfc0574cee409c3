"""Inspection end to end: train a detector on good images, calibrate its alarm threshold, inspect, evaluate.

An `Inspector` is a fitted detector plus two thresholds set on held-out good images for the false-alarm
rate the user can afford: one on image scores (pass/fail) and one on anomaly-map pixels (which regions
to outline). It saves to a folder (safetensors + JSON) and loads back without running any code.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from domains.manufacturing.inspection.calibration import (
    ImageVerdict,
    calibrate_region_threshold,
    calibrate_threshold,
    find_regions,
    minimum_normals,
)
from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from domains.manufacturing.inspection.detectors import (
    AnomalyScores,
    Detector,
    FitReport,
    build_detector,
    load_detector,
)
from domains.manufacturing.inspection.metrics import (
    image_auroc,
    pixel_auroc,
    pro_score,
    threshold_metrics,
)
from shared_models.exceptions import InputError, ModelError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = [
    "Evaluation",
    "InspectionReport",
    "Inspector",
    "InspectorSpec",
    "evaluate",
    "inspect_images",
    "load_inspector",
    "train_inspector",
]

INSPECTOR_FILE = "inspector.json"
MIN_AREA_PX = 16


@dataclass
class InspectorSpec:
    """What to train.

    Attributes:
        detector: A key of `DETECTORS` ("patch_stats", "autoencoder", "draem").
        settings: Overrides of that detector's config fields (e.g. ``{"seconds": 300}``).
        false_alarm_rate: Share of good parts allowed to fail, in (0, 1).
        min_region_px: Regions smaller than this many pixels are ignored as speckle.
    """

    detector: str = "patch_stats"
    settings: dict[str, Any] = field(default_factory=dict)
    false_alarm_rate: float = 0.05
    min_region_px: int = MIN_AREA_PX

    def validate(self) -> InspectorSpec:
        """Check the rate (the detector name and settings are checked when it is built); return self."""
        minimum_normals(self.false_alarm_rate)  # raises on a rate outside (0, 1)
        if self.min_region_px < 1:
            raise InputError(f"min_region_px must be at least 1, got {self.min_region_px}")
        return self


@dataclass
class Inspector:
    """A fitted detector with its calibrated thresholds.

    Attributes:
        detector: The fitted detector.
        image_threshold: Images scoring above it fail.
        pixel_threshold: Map pixels above it form defect regions.
        false_alarm_rate: The rate both thresholds were set for.
        calibration_scores: Image scores of the held-out good images (for a live false-alarm curve).
        min_region_px: Smallest region outlined.
        fit: What training did.
        info: Provenance (training set name, image counts).
    """

    detector: Detector
    image_threshold: float
    pixel_threshold: float
    false_alarm_rate: float
    calibration_scores: np.ndarray
    min_region_px: int = MIN_AREA_PX
    fit: FitReport | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) the detector was trained on."""
        assert self.detector.image_size is not None
        return self.detector.image_size

    def false_alarm_rate_at(self, threshold: float) -> float:
        """Share of held-out good images that fail at ``threshold``."""
        return float(np.mean(self.calibration_scores > threshold))

    def save(self, folder: str | Path) -> Path:
        """Write the detector and the thresholds (JSON) into ``folder``."""
        folder = Path(folder)
        self.detector.save(folder)
        record = {
            "image_threshold": self.image_threshold,
            "pixel_threshold": self.pixel_threshold,
            "false_alarm_rate": self.false_alarm_rate,
            "calibration_scores": [float(s) for s in self.calibration_scores],
            "min_region_px": self.min_region_px,
            "fit": asdict(self.fit) if self.fit else None,
            "info": self.info,
        }
        (folder / INSPECTOR_FILE).write_text(json.dumps(record, indent=2, default=str))
        return folder


def load_inspector(folder: str | Path) -> Inspector:
    """An `Inspector` saved with `Inspector.save`.

    Raises:
        ModelError: The folder does not hold a saved inspector.
    """
    path = Path(folder) / INSPECTOR_FILE
    try:
        record = json.loads(path.read_text())
        fit = FitReport(**record["fit"]) if record.get("fit") else None
        return Inspector(
            detector=load_detector(folder),
            image_threshold=float(record["image_threshold"]),
            pixel_threshold=float(record["pixel_threshold"]),
            false_alarm_rate=float(record["false_alarm_rate"]),
            calibration_scores=np.asarray(record["calibration_scores"], dtype=np.float64),
            min_region_px=int(record.get("min_region_px", MIN_AREA_PX)),
            fit=fit,
            info=dict(record.get("info", {})),
        )
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{folder} does not hold a saved inspection model ({exc})") from exc


def split_normals(
    images: np.ndarray, false_alarm_rate: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(train, calibration) from one set of good images: calibration gets what the rate needs (at least
    a fifth), training the rest.

    Raises:
        InputError: Too few images for both parts.
    """
    needed = max(minimum_normals(false_alarm_rate), int(np.ceil(0.2 * len(images))))
    if len(images) < needed + 4:
        raise InputError(
            f"{len(images)} good images are too few: a {false_alarm_rate:.0%} false-alarm rate needs "
            f"{needed} held out for calibration and at least 4 to train on; add images or raise the rate"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[needed:]], images[order[:needed]]


def train_inspector(
    train_images: np.ndarray,
    calibration_images: np.ndarray | None = None,
    spec: InspectorSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    info: dict[str, Any] | None = None,
) -> Inspector:
    """Fit a detector on good images and calibrate its thresholds on held-out good images.

    Args:
        train_images: ``(N, H, W, 3)`` good images.
        calibration_images: Held-out good images; None splits them off ``train_images``.
        spec: Detector, its settings, the false-alarm rate.
        on_progress: Training progress (returning False stops).
        stop: Set to stop training; the detector trained so far is calibrated and returned.
        info: Provenance to keep with the model.

    Raises:
        ModelError: Stopped before the detector could score anything (patch statistics are only
            usable once fitted whole).
    """
    spec = (spec or InspectorSpec()).validate()
    if calibration_images is None:
        train_images, calibration_images = split_normals(train_images, spec.false_alarm_rate)
    minimum = minimum_normals(spec.false_alarm_rate)
    if len(calibration_images) < minimum:
        raise InputError(
            f"a {spec.false_alarm_rate:.0%} false-alarm rate needs {minimum} held-out good images; "
            f"got {len(calibration_images)}"
        )
    detector = build_detector(spec.detector, **spec.settings)
    fit = detector.fit(train_images, on_progress=on_progress, stop=stop)
    if detector.image_size is None:  # stopped before it learned anything it could score with
        raise ModelError(f"the {spec.detector} detector was stopped before it learned anything")
    if on_progress is not None:
        on_progress(
            Progress(fit.steps, fit.steps, "calibrating on held-out good images", elapsed_s=fit.seconds)
        )
    calibration = detector.score(calibration_images)
    return Inspector(
        detector=detector,
        image_threshold=calibrate_threshold(calibration.image_scores, spec.false_alarm_rate),
        pixel_threshold=calibrate_region_threshold(
            calibration.maps, spec.false_alarm_rate, spec.min_region_px
        ),
        false_alarm_rate=spec.false_alarm_rate,
        calibration_scores=calibration.image_scores.astype(np.float64),
        min_region_px=spec.min_region_px,
        fit=fit,
        info={
            "train_images": len(train_images),
            "calibration_images": len(calibration_images),
            **(info or {}),
        },
    )


@dataclass
class InspectionReport:
    """Verdicts of a batch, with the maps for overlays and the time it took."""

    verdicts: list[ImageVerdict]
    scores: np.ndarray
    maps: np.ndarray
    ms_per_image: float

    @property
    def failed(self) -> int:
        """How many images failed."""
        return sum(not v.passed for v in self.verdicts)

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per image, for a table or a CSV report."""
        return [
            {
                "image": v.name,
                "score": round(v.score, 5),
                "verdict": "pass" if v.passed else "FAIL",
                "regions": len(v.regions),
                "largest_region_px": max((r.area_px for r in v.regions), default=0),
                "boxes": "; ".join(f"({r.x0},{r.y0})-({r.x1},{r.y1})" for r in v.regions),
            }
            for v in self.verdicts
        ]


def inspect_images(
    inspector: Inspector,
    images: np.ndarray,
    names: list[str] | None = None,
    image_threshold: float | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    batch_size: int = 16,
) -> InspectionReport:
    """Score images and judge each: pass/fail, and the defect regions of failing ones.

    Args:
        inspector: The trained inspector.
        images: ``(N, H, W, 3)`` images the size it was trained on.
        names: One label per image (default ``image_1`` ...).
        image_threshold: Overrides the calibrated one (the page's slider).
        on_progress: Told before each batch; returning False stops.
        stop: Set to stop after the current batch: the report then covers the images before it.
        batch_size: Images scored at a time.
    """
    names = names or [f"image_{i + 1}" for i in range(len(images))]
    if len(names) != len(images):
        raise InputError(f"{len(names)} names for {len(images)} images")
    threshold = inspector.image_threshold if image_threshold is None else float(image_threshold)
    start = time.perf_counter()
    parts: list[AnomalyScores] = []
    for first in range(0, len(images), batch_size):
        progress = Progress(first, len(images), f"inspecting images: {first} of {len(images)}")
        if should_stop(progress, on_progress, stop):
            break
        parts.append(inspector.detector.score(images[first : first + batch_size]))
    seconds = time.perf_counter() - start
    if parts:
        scored = AnomalyScores(
            np.concatenate([p.image_scores for p in parts]), np.concatenate([p.maps for p in parts])
        )
    else:
        scored = AnomalyScores(np.zeros(0), np.zeros((0, *images.shape[1:3]), dtype=np.float32))
    names = names[: len(scored.image_scores)]
    verdicts = []
    for i, (name, score, anomaly_map) in enumerate(zip(names, scored.image_scores, scored.maps, strict=True)):
        verdict = ImageVerdict.judge(
            i, name, float(score), anomaly_map, threshold, inspector.pixel_threshold, inspector.min_region_px
        )
        if verdict.passed:
            verdict.regions = []  # a passing part shows no outline, whatever speckle its map has
        elif not verdict.regions:
            # Failed on its score, yet no blob reaches the pixel threshold: outline where the map is
            # above the image threshold, so every failed part shows why.
            verdict.regions = find_regions(anomaly_map, threshold, min_area_px=1)[:1]
        verdicts.append(verdict)
    return InspectionReport(
        verdicts, scored.image_scores, scored.maps, 1000 * seconds / max(1, len(verdicts))
    )


@dataclass
class Evaluation:
    """How well an inspector does on a labelled test set.

    Attributes:
        image_auroc: Ranking of defective above good images (0.5 = chance).
        pixel_auroc: Ranking of defect pixels above normal pixels.
        pro: Per-region overlap, area up to 30 % pixel false-positive rate, normalised.
        precision, recall, f1, false_alarm_rate: At the calibrated image threshold.
        per_defect: Per defect type: image AUROC (that type against the good images), pixel AUROC.
        ms_per_image: Scoring time per image.
    """

    image_auroc: float
    pixel_auroc: float
    pro: float
    precision: float
    recall: float
    f1: float
    false_alarm_rate: float
    per_defect: dict[str, dict[str, float]]
    ms_per_image: float

    def as_metrics(self) -> dict[str, float]:
        """Flat scalar metrics for the workspace."""
        flat = {k: float(v) for k, v in asdict(self).items() if k != "per_defect"}
        for kind, values in self.per_defect.items():
            flat.update({f"{kind}_{k}": float(v) for k, v in values.items()})
        return flat


def evaluate(inspector: Inspector, data: InspectionSet, report: InspectionReport | None = None) -> Evaluation:
    """Score ``data.test`` and compare with its labels and masks."""
    report = report or inspect_images(inspector, data.test)
    labels = np.asarray(data.test_labels)
    defective = labels != GOOD
    if defective.all() or not defective.any():
        raise InputError("evaluation needs both good and defective test images")
    at_threshold = threshold_metrics(report.scores, defective, inspector.image_threshold)
    per_defect = {}
    for kind in data.defect_types:
        chosen = (labels == GOOD) | (labels == kind)
        per_defect[kind] = {
            "image_auroc": image_auroc(report.scores[chosen], defective[chosen]),
            "pixel_auroc": pixel_auroc(report.maps[chosen], data.test_masks[chosen]),
        }
    return Evaluation(
        image_auroc=image_auroc(report.scores, defective),
        pixel_auroc=pixel_auroc(report.maps, data.test_masks),
        pro=pro_score(report.maps, data.test_masks),
        precision=at_threshold.precision,
        recall=at_threshold.recall,
        f1=at_threshold.f1,
        false_alarm_rate=at_threshold.false_alarm_rate,
        per_defect=per_defect,
        ms_per_image=report.ms_per_image,
    )

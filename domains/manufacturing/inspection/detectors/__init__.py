"""Anomaly detectors behind one interface, and a registry to build or load them by name."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from domains.manufacturing.inspection.detectors.base import AnomalyScores, Detector, FitReport
from domains.manufacturing.inspection.detectors.neural import (
    AutoencoderConfig,
    AutoencoderDetector,
    DraemConfig,
    DraemDetector,
)
from domains.manufacturing.inspection.detectors.patch_stats import PatchStatsConfig, PatchStatsDetector
from shared_models.exceptions import InputError, ModelError

__all__ = [
    "DETECTORS",
    "AnomalyScores",
    "Detector",
    "FitReport",
    "build_detector",
    "load_detector",
]

DETECTORS: dict[str, tuple[type[Detector], type]] = {
    "patch_stats": (PatchStatsDetector, PatchStatsConfig),
    "autoencoder": (AutoencoderDetector, AutoencoderConfig),
    "draem": (DraemDetector, DraemConfig),
}

DETECTOR_TITLES = {
    "patch_stats": "Patch statistics (PaDiM-style, seconds)",
    "autoencoder": "SSIM autoencoder (minutes)",
    "draem": "DRAEM-style reconstruct + segment (minutes)",
}


def build_detector(kind: str, **settings: Any) -> Detector:
    """A fresh detector of ``kind`` with its config fields overridden by ``settings``.

    Raises:
        InputError: Unknown kind or setting.
    """
    if kind not in DETECTORS:
        raise InputError(f"unknown detector {kind!r}; choose one of {', '.join(DETECTORS)}")
    detector_class, config_class = DETECTORS[kind]
    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InputError(
            f"the {kind} detector has no setting(s) {', '.join(unknown)}; it has {', '.join(sorted(known))}"
        )
    tuples = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    return detector_class(config_class(**tuples))  # type: ignore[call-arg]


# Settings added after detectors were first saved, with the value that reproduces the older ones'
# scores (their thresholds were calibrated on those scores)
SAVED_BEFORE: dict[str, dict[str, Any]] = {"patch_stats": {"image_top_share": 0.0}}


def load_detector(folder: str | Path) -> Detector:
    """A saved detector, rebuilt from its JSON settings and safetensors weights."""
    settings = Detector.read_settings(folder)
    kind = settings["kind"]
    if kind not in DETECTORS:
        raise ModelError(f"{folder} holds an unknown detector kind {kind!r}")
    try:
        config = {**SAVED_BEFORE.get(kind, {}), **settings.get("config", {})}
        detector = build_detector(kind, **config)
    except InputError as exc:
        raise ModelError(f"the settings in {folder} do not fit a {kind} detector: {exc}") from exc
    detector._restore(folder, settings.get("image_size") or [0, 0])
    return detector

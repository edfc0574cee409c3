"""One interface for every anomaly detector: ``fit(normal_images)``, ``score(images)``, save and load.

A detector learns from normal images only. ``score`` returns one anomaly score per image and an anomaly
map per image at the input resolution; higher means more anomalous. Weights are saved as safetensors and
the settings as JSON, so a saved detector never runs code when it is loaded.
"""

from __future__ import annotations

import abc
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from shared_models.exceptions import InputError, ModelError
from shared_models.progress import ProgressCallback

__all__ = [
    "AnomalyScores",
    "Detector",
    "FitReport",
    "check_images",
    "gaussian_blur",
    "to_tensor",
    "work_shape",
]

WEIGHTS = "detector.safetensors"
SETTINGS = "detector.json"
MIN_TRAIN_IMAGES = 4


@dataclass
class AnomalyScores:
    """Scores of a batch of images.

    Attributes:
        image_scores: ``(N,)`` one score per image (higher = more anomalous).
        maps: ``(N, H, W)`` float32 anomaly map per image at the input resolution.
    """

    image_scores: np.ndarray
    maps: np.ndarray


@dataclass
class FitReport:
    """What fitting did: steps, seconds, why it ended, and the loss history for a chart."""

    steps: int
    seconds: float
    stopped: str
    history: list[dict[str, float]]


def check_images(images: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Validate ``(N, H, W, 3)`` images in [0, 1]; return them as float32."""
    if not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[-1] != 3:
        shape = getattr(images, "shape", type(images).__name__)
        raise InputError(f"images must be an (N, H, W, 3) array; got {shape}")
    if len(images) < minimum:
        raise InputError(f"need at least {minimum} image(s), got {len(images)}")
    if min(images.shape[1:3]) < 32:
        raise InputError(f"images must be at least 32 x 32 pixels; got {images.shape[2]} x {images.shape[1]}")
    return images.astype(np.float32, copy=False)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(N, H, W, 3)`` numpy -> ``(N, 3, H, W)`` torch float32."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32))


def work_shape(image_size: tuple[int, int], work_size: int, multiple: int = 8) -> tuple[int, int]:
    """(height, width) to compute at: longer side scaled down to ``work_size`` (never up), sides rounded
    to ``multiple``."""
    factor = min(1.0, work_size / max(image_size))
    height, width = (max(multiple, round(side * factor / multiple) * multiple) for side in image_size)
    return height, width


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``(N, 1, H, W)`` maps with a separable Gaussian of ``sigma`` pixels."""
    if sigma <= 0:
        return maps
    radius = max(1, int(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=maps.dtype)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    padded = F.pad(maps, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    return F.conv2d(out, kernel.view(1, 1, -1, 1))


class Detector(abc.ABC):
    """Base of the anomaly detectors. Subclasses set ``kind`` and a dataclass ``config``."""

    kind: ClassVar[str]
    config: Any

    @abc.abstractmethod
    def fit(
        self,
        normal_images: np.ndarray,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> FitReport:
        """Learn what normal looks like from ``(N, H, W, 3)`` images of good product."""

    @abc.abstractmethod
    def score(self, images: np.ndarray) -> AnomalyScores:
        """Anomaly scores and maps of ``(N, H, W, 3)`` images the size the detector was fitted on."""

    @abc.abstractmethod
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Every tensor the detector needs to score, for safetensors."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what `state_dict` returned."""

    image_size: tuple[int, int] | None = None

    def _check_size(self, images: np.ndarray) -> np.ndarray:
        images = check_images(images)
        if self.image_size is None:
            raise ModelError(f"the {self.kind} detector has not been fitted yet")
        if tuple(images.shape[1:3]) != tuple(self.image_size):
            raise InputError(
                f"images are {images.shape[2]} x {images.shape[1]} pixels but the detector was trained on "
                f"{self.image_size[1]} x {self.image_size[0]}; resize them or train on this size"
            )
        return images

    def save(self, folder: str | Path) -> Path:
        """Write weights (safetensors) and settings (JSON) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(tensors, str(folder / WEIGHTS))
        settings = {
            "kind": self.kind,
            "config": asdict(self.config),
            "image_size": list(self.image_size or ()),
        }
        (folder / SETTINGS).write_text(json.dumps(settings, indent=2))
        return folder

    @staticmethod
    def read_settings(folder: str | Path) -> dict[str, Any]:
        """The JSON settings of a saved detector."""
        path = Path(folder) / SETTINGS
        try:
            settings = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} is missing or not valid JSON; save the detector again") from exc
        if not isinstance(settings, dict) or "kind" not in settings:
            raise ModelError(f"{path} does not describe a detector")
        return settings

    def _restore(self, folder: str | Path, image_size: list[int]) -> None:
        try:
            self.load_state_dict(load_file(str(Path(folder) / WEIGHTS)))
        except (OSError, KeyError, RuntimeError) as exc:
            raise ModelError(f"the weights in {folder} do not fit a {self.kind} detector: {exc}") from exc
        self.image_size = (int(image_size[0]), int(image_size[1]))

"""Supervised option: a defect-type classifier for labelled defect images (e.g. the NEU steel surface
database: crazing, inclusion, patches, pitted surface, rolled-in scale, scratches).

Labelled images come from `labelled` (class sub-folders or NEU-style names). Images are grayscale,
resized to a small square; a small CNN, trained from scratch with flips, 90-degree rotations and
brightness/contrast jitter (surface defects have no preferred orientation), predicts the class. Models
are stored as safetensors weights plus a JSON card holding the class names.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from torch import nn

from domains.manufacturing.inspection.labelled import LabelledImages
from shared_models.exceptions import InputError, ModelError
from shared_models.progress import ProgressCallback
from shared_models.store import ModelCard, load_model, register_kind, save_model
from shared_models.trainer import Batch, TrainConfig, TrainingTask, TrainResult, seed_everything, train

__all__ = [
    "ClassifierEvaluation",
    "ClassifierTrainConfig",
    "DefectClassifier",
    "DefectNet",
    "DefectNetConfig",
    "evaluate_classifier",
    "train_defect_classifier",
]

KIND = "defect_classifier"


@dataclass
class DefectNetConfig:
    """Shape of a `DefectNet`; saved in the model card."""

    image_size: int = 64
    num_classes: int = 6
    width: int = 16


class DefectNet(nn.Module):
    """Four conv blocks and global average pooling over grayscale images: small enough to train on a
    CPU in seconds, and translation-invariant, as a texture defect may sit anywhere."""

    def __init__(self, config: DefectNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [1, config.width, 2 * config.width, 4 * config.width, 4 * config.width]
        blocks: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(widths):
            blocks += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
        self.body = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(widths[-1], config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, S, S) in [0, 1] -> (B, classes) logits
        # Per-image standardisation: NEU-like sets vary in exposure from image to image.
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = x.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
        return self.head(self.body((x - mean) / std))


register_kind(KIND, lambda config: DefectNet(DefectNetConfig(**config)))


@dataclass
class ClassifierTrainConfig:
    """How to train a defect classifier.

    Attributes:
        image_size: Square side the images are resized to.
        width: Channels of the first conv block (the net doubles them twice).
        steps: Optimisation steps.
        seconds: Optional wall-clock budget (the first of steps/seconds ends training).
        batch_size: Images per step.
        learning_rate: Adam step size (cosine-decayed over ``steps``).
        seed: Seeds the weights, the batch order and the augmentation.
        augment: ``"flips_rot90"`` (default) for defects with no preferred orientation; ``"flips"`` when
            an image turned by 90 degrees would be another class; ``"none"`` for no geometric change.
            Brightness/contrast jitter applies in every mode.
    """

    image_size: int = 64
    width: int = 16
    steps: int = 400
    seconds: float | None = None
    batch_size: int = 32
    learning_rate: float = 3e-3
    seed: int = 0
    augment: Literal["flips_rot90", "flips", "none"] = "flips_rot90"

    def __post_init__(self) -> None:
        if not 16 <= self.image_size <= 256:
            raise InputError(f"image_size must be between 16 and 256 pixels, got {self.image_size}")
        if self.augment not in ("flips_rot90", "flips", "none"):
            raise InputError(f"augment must be 'flips_rot90', 'flips' or 'none', got {self.augment!r}")


class _Augmenting(TrainingTask):
    """Cross-entropy steps on randomly flipped, rotated and brightness/contrast-jittered batches."""

    def __init__(self, model: DefectNet, config: ClassifierTrainConfig) -> None:
        self.model = model
        self.augment = config.augment
        self.random = torch.Generator().manual_seed(config.seed + 1)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, max(1, config.steps))

    def _augment(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, S, S)
        n = x.shape[0]
        if self.augment != "none":
            flip_h = torch.rand(n, generator=self.random) < 0.5
            flip_v = torch.rand(n, generator=self.random) < 0.5
            x = torch.where(flip_h[:, None, None, None], x.flip(3), x)
            x = torch.where(flip_v[:, None, None, None], x.flip(2), x)
        if self.augment == "flips_rot90":
            turns = torch.randint(0, 4, (n,), generator=self.random)
            x = torch.stack([torch.rot90(img, int(k), dims=(1, 2)) for img, k in zip(x, turns, strict=True)])
        gain = 1 + 0.2 * (torch.rand(n, 1, 1, 1, generator=self.random) - 0.5)
        offset = 0.1 * (torch.rand(n, 1, 1, 1, generator=self.random) - 0.5)
        return (x * gain + offset).clamp(0, 1)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        self.model.train()
        logits = self.model(self._augment(batch[0]))
        loss = F.cross_entropy(logits, batch[1], label_smoothing=0.05)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.schedule.last_epoch < self.schedule.T_max:
            self.schedule.step()
        accuracy = (logits.argmax(1) == batch[1]).float().mean()
        return {"loss": loss.item(), "batch_accuracy": accuracy.item()}


def _as_gray_batch(images: np.ndarray, image_size: int) -> torch.Tensor:
    """``(N, H, W)`` or ``(N, H, W, 3)`` in [0, 1] -> ``(N, 1, S, S)`` tensor."""
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 4 and array.shape[-1] == 3:
        array = array @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as PIL's "L"
    if array.ndim != 3:
        raise InputError(f"images must be (N, H, W) or (N, H, W, 3); got shape {array.shape}")
    x = torch.from_numpy(np.ascontiguousarray(array))[:, None]
    if x.shape[-2:] != (image_size, image_size):
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return x.clamp(0, 1)


class DefectClassifier:
    """A trained defect-type classifier: a `DefectNet` and the names of its classes."""

    def __init__(self, model: DefectNet, class_names: list[str]) -> None:
        if model.config.num_classes != len(class_names):
            raise ModelError(
                f"the model has {model.config.num_classes} outputs but {len(class_names)} class names"
            )
        self.model = model.eval()
        self.class_names = list(class_names)

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch_size: int = 64) -> tuple[list[str], np.ndarray]:
        """Class of each image, and the ``(N, classes)`` probabilities (columns follow ``class_names``).

        Args:
            images: ``(N, H, W)`` grayscale or ``(N, H, W, 3)`` RGB, float in [0, 1], any size.
        """
        x = _as_gray_batch(images, self.image_size)
        self.model.eval()
        logits = torch.cat([self.model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        probabilities = logits.softmax(1).numpy()
        return [self.class_names[i] for i in probabilities.argmax(1)], probabilities

    def save(self, folder: str | Path, dataset: str = "", metrics: dict[str, object] | None = None) -> Path:
        """Store as ``model.safetensors`` + ``card.json`` (class names in the card)."""
        card = ModelCard(
            kind=KIND,
            config=asdict(self.model.config),
            dataset=dataset,
            metrics=dict(metrics or {}),
            extra={"class_names": self.class_names},
        )
        return save_model(folder, self.model, card)

    @classmethod
    def load(cls, folder: str | Path) -> DefectClassifier:
        """Load a stored classifier (no code runs from the files).

        Raises:
            ModelError: Not a stored defect classifier, or a damaged one.
        """
        model, card = load_model(folder)
        if card.kind != KIND or not isinstance(model, DefectNet):
            raise ModelError(f"{folder} holds a {card.kind!r} model, not a defect classifier")
        names = card.extra.get("class_names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ModelError(f"{folder}: the model card has no class names")
        return cls(model, names)


def train_defect_classifier(
    data: LabelledImages,
    config: ClassifierTrainConfig | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[DefectClassifier, TrainResult]:
    """Train a classifier on all of ``data`` (see `evaluate_classifier` for a held-out accuracy).

    Args:
        data: Labelled images (at least 2 classes).
        config: Size, budget and seed.
        on_progress: Called every few steps with loss and batch accuracy; returning False stops.
        stop: Set it to stop after the current step (the model of the last step is kept).
    """
    config = config or ClassifierTrainConfig()
    if len(data.class_names) < 2:
        raise InputError("a classifier needs at least 2 classes")
    seed_everything(config.seed)
    model = DefectNet(DefectNetConfig(config.image_size, len(data.class_names), config.width))
    tensors = (_as_gray_batch(data.images, config.image_size), torch.from_numpy(data.labels))
    budget = TrainConfig(
        steps=config.steps,
        seconds=config.seconds,
        batch_size=config.batch_size,
        seed=config.seed,
        log_every=20,
    )
    result = train(_Augmenting(model, config), tensors, budget, on_progress, stop)
    return DefectClassifier(model, data.class_names), result


@dataclass
class ClassifierEvaluation:
    """Held-out quality of a classifier trained on a stratified split.

    Attributes:
        accuracy: Share of held-out images classified right.
        confusion: ``(C, C)`` counts, rows = true class, columns = predicted (order of ``class_names``).
        class_names: The classes.
        train_count, test_count: Images on each side of the split.
        train_seconds: Training wall-clock time.
        ms_per_image: Prediction time per held-out image.
        classifier: The model trained on the training part.
    """

    accuracy: float
    confusion: np.ndarray
    class_names: list[str]
    train_count: int
    test_count: int
    train_seconds: float
    ms_per_image: float
    classifier: DefectClassifier


def evaluate_classifier(
    data: LabelledImages,
    config: ClassifierTrainConfig | None = None,
    test_fraction: float = 0.3,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ClassifierEvaluation:
    """Train on a stratified split of ``data`` (seeded by ``config.seed``) and score the held-out part.

    Raises:
        InputError: A fraction outside (0, 1), or a class too small to appear on both sides.
    """
    config = config or ClassifierTrainConfig()
    if not 0 < test_fraction < 1:
        raise InputError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    try:
        train_idx, test_idx = train_test_split(
            np.arange(len(data.labels)),
            test_size=test_fraction,
            stratify=data.labels,
            random_state=config.seed,
        )
    except ValueError as exc:  # sklearn: a class with one member, or a test part smaller than the classes
        raise InputError(f"cannot split these images into stratified train and test parts: {exc}") from exc

    def part(index: np.ndarray) -> LabelledImages:
        return LabelledImages(
            data.images[index], data.labels[index], data.class_names, [data.names[i] for i in index]
        )

    classifier, result = train_defect_classifier(part(np.sort(train_idx)), config, on_progress, stop)
    held_out = part(np.sort(test_idx))
    start = time.perf_counter()
    predicted, _ = classifier.predict(held_out.images)
    ms_per_image = 1000 * (time.perf_counter() - start) / len(held_out.labels)
    predicted_idx = np.array([data.class_names.index(p) for p in predicted])
    return ClassifierEvaluation(
        accuracy=float((predicted_idx == held_out.labels).mean()),
        confusion=confusion_matrix(held_out.labels, predicted_idx, labels=np.arange(len(data.class_names))),
        class_names=data.class_names,
        train_count=len(train_idx),
        test_count=len(test_idx),
        train_seconds=result.seconds,
        ms_per_image=ms_per_image,
        classifier=classifier,
    )

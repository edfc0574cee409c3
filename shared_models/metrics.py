"""Quality metrics for generated images, measured in the feature space of a small per-dataset classifier.

- **FD-classifier**: the Fréchet distance between Gaussian fits of real and generated features. It is
  computed like FID but with this small classifier instead of Inception, so it is NOT comparable with
  published FIDs; it compares models trained here on the same dataset.
- **Conditional accuracy**: share of images generated for class k that the classifier calls k.
- **Precision / recall** (Kynkäänniemi et al. 2019): k-NN manifold estimates in feature space.
- **Nearest-neighbour ratio**: mean pixel distance of generated images to their closest training image,
  over the same for held-out real images; well below 1 means the model copies its training set.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

from shared_models.datasets import ImageDataset
from shared_models.exceptions import SuiteError
from shared_models.progress import ProgressCallback
from shared_models.store import register_kind
from shared_models.trainer import Batch, TrainConfig, TrainingTask, train

__all__ = [
    "ClassifierConfig",
    "ClassifierStoppedError",
    "FeatureClassifier",
    "ImageMetrics",
    "classifier_accuracy",
    "conditional_accuracy",
    "extract_features",
    "frechet_distance",
    "nearest_neighbour_ratio",
    "precision_recall",
    "train_classifier",
]


@dataclass
class ClassifierConfig:
    image_size: Literal[28, 32, 64] = 28
    channels: int = 1
    num_classes: int = 10
    width: int = 32
    feature_dim: int = 128


class FeatureClassifier(nn.Module):
    """A small CNN; its penultimate layer is the feature space of the metrics."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(
            nn.Conv2d(config.channels, w, 3, padding=1),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(2 * w * 16, config.feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2 - 1)  # (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, num_classes) logits


class _ClassifierTask(TrainingTask):
    def __init__(self, model: FeatureClassifier, seed: int) -> None:
        self.model = model
        self.random = torch.Generator().manual_seed(seed)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        self.model.train()
        x = batch[0]
        # Small random shifts: the classifier must judge generated digits that are not pixel-aligned.
        dx, dy = torch.randint(-2, 3, (2,), generator=self.random).tolist()
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
        loss = F.cross_entropy(self.model(x), batch[1])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}


class ClassifierStoppedError(SuiteError):
    """The metrics classifier's training was stopped; a half-trained judge is not kept."""


def train_classifier(
    train_set: ImageDataset,
    test_set: ImageDataset,
    steps: int = 600,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[FeatureClassifier, float]:
    """Train the metrics classifier; returns it (in eval mode) with its held-out accuracy.

    Args:
        on_progress: Gets the training's progress every 10 steps; returning False stops it.
        stop: Setting it stops the training after the current step.

    Raises:
        ClassifierStoppedError: Stopped before its step budget (its metrics would not be comparable).
    """
    torch.manual_seed(seed)
    config = ClassifierConfig(train_set.image_size, train_set.channels, train_set.num_classes)  # type: ignore[arg-type]
    model = FeatureClassifier(config)
    result = train(
        _ClassifierTask(model, seed),
        (train_set.images, train_set.labels),
        TrainConfig(steps=steps, seed=seed, log_every=10),
        on_progress=on_progress,
        stop=stop,
    )
    if result.stopped == "cancelled":
        raise ClassifierStoppedError(f"the metrics classifier was stopped at step {result.steps} of {steps}")
    model.eval()
    return model, classifier_accuracy(model, test_set.images, test_set.labels)


@torch.no_grad()
def _batched(model: nn.Module, fn: str, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    model.eval()
    return torch.cat([getattr(model, fn)(images[i : i + batch]) for i in range(0, len(images), batch)])


def classifier_accuracy(model: FeatureClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((_batched(model, "forward", images).argmax(1) == labels).float().mean())


def conditional_accuracy(model: FeatureClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of generated images whose requested class the classifier recognises."""
    return classifier_accuracy(model, images, labels)


def extract_features(model: FeatureClassifier, images: torch.Tensor) -> np.ndarray:
    return _batched(model, "features", images).double().numpy()


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets ``(N, D)``."""
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    # Dead ReLU units make the covariances singular; a tiny ridge keeps the square root stable.
    ridge = np.eye(s1.shape[0]) * 1e-6
    covmean = scipy.linalg.sqrtm((s1 + ridge) @ (s2 + ridge))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    distances = torch.cdist(torch.from_numpy(features), torch.from_numpy(features))
    return distances.kthvalue(k + 1, dim=1).values.numpy()  # +1: skip the point itself


def _coverage(points: np.ndarray, manifold: np.ndarray, radii: np.ndarray) -> float:
    distances = torch.cdist(torch.from_numpy(points), torch.from_numpy(manifold)).numpy()
    return float((distances <= radii[None, :]).any(axis=1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN radii."""
    precision = _coverage(fake, real, _knn_radii(real, k))
    recall = _coverage(real, fake, _knn_radii(fake, k))
    return precision, recall


def _nearest(points: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    flat_ref = reference.flatten(1)
    return torch.cat([torch.cdist(p.flatten(1), flat_ref).min(1).values for p in points.split(256)])


def nearest_neighbour_ratio(
    generated: torch.Tensor, train_images: torch.Tensor, test_images: torch.Tensor
) -> float:
    """Mean distance generated->train over held-out->train; well below 1 suggests memorisation."""
    return float(_nearest(generated, train_images).mean() / _nearest(test_images, train_images).mean())


@dataclass
class ImageMetrics:
    """The metrics table of one generative model."""

    fd_classifier: float
    precision: float
    recall: float
    nn_ratio: float
    conditional_accuracy: float | None
    classifier_accuracy: float
    samples: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


register_kind("classifier", lambda config: FeatureClassifier(ClassifierConfig(**config)))

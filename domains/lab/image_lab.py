"""Model Lab, images: train a GAN, cGAN, VAE or cVAE on an image set, sample it and measure it.

The seed project of the suite ("train a GAN on handwritten digits, then generate new images"), done
with the shared core: typed spec -> `train_image_model` (progress, stop, budget) -> `evaluate` (metrics
against a per-dataset classifier) -> grids (samples, one row per class, latent interpolation,
reconstructions).

Example:
    >>> data = load_dataset("mnist")
    >>> trained = train_image_model(ImageLabSpec(model="cvae", seconds=60), data)
    >>> grid = class_grid(trained.model, per_class=8)
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from shared_models.datasets import ImageDataset
from shared_models.exceptions import InputError
from shared_models.gan import GAN, GANConfig, GANTask
from shared_models.images import make_grid
from shared_models.metrics import (
    FeatureClassifier,
    ImageMetrics,
    conditional_accuracy,
    extract_features,
    frechet_distance,
    nearest_neighbour_ratio,
    precision_recall,
    train_classifier,
)
from shared_models.progress import Progress, ProgressCallback
from shared_models.store import ModelCard, get_or_train
from shared_models.trainer import TrainConfig, TrainingTask, TrainResult, seed_everything, train
from shared_models.vae import VAE, VAEConfig, VAETask

__all__ = [
    "CLASSIFIER_MESSAGE",
    "MODEL_KINDS",
    "ImageLabSpec",
    "ImageModel",
    "TrainedImageModel",
    "class_grid",
    "evaluate",
    "get_classifier",
    "heldout_elbo",
    "interpolation_strip",
    "reconstruction_grid",
    "sample_grid",
    "train_image_model",
]

ModelKind = Literal["gan", "cgan", "vae", "cvae"]
MODEL_KINDS: dict[ModelKind, str] = {
    "cvae": "Conditional VAE: fast, stable, one digit per row on request",
    "cgan": "Conditional GAN: sharper images, needs longer training",
    "vae": "VAE: unconditional, reports the ELBO",
    "gan": "GAN: unconditional DCGAN",
}
ImageModel = GAN | VAE
EVAL_TEST_FRACTION = 0.2
EVAL_SPLIT_SEED = 1234  # fixed so every model of a dataset is measured on the same held-out images
CLASSIFIER_MESSAGE = "training the quality classifier (first use for this dataset, then stored)"


@dataclass
class ImageLabSpec:
    """Everything that defines one training run.

    Attributes:
        model: ``"gan"``, ``"cgan"``, ``"vae"`` or ``"cvae"``.
        dataset: Name of the image set (for the record; the data is passed in).
        seconds: Wall-clock budget (None: steps only).
        steps: Step budget (None: seconds only).
        batch_size: Images per step.
        latent_dim: Size of z (None: 64 for GANs, 16 for VAEs).
        width: Base channel count of the networks (None: 32; at 64 a GAN step costs ~3x more on CPU
            for no gain in conditional accuracy within minutes).
        lr: Learning rate (None: 2e-4 for GANs, 1e-3 for VAEs).
        beta: KL weight of the VAEs.
        gan_loss: ``"hinge"`` or ``"nonsaturating"``.
        spectral_norm: Spectral norm in the GAN discriminator.
        aux_weight: Auxiliary-classifier weight of the cGAN (0 = plain projection cGAN).
        binarize: Train VAEs on binarised images (for ELBOs comparable with the literature).
        seed: Seeds initialisation, batches and noise.
    """

    model: ModelKind = "cvae"
    dataset: str = "mnist"
    seconds: float | None = 60.0
    steps: int | None = None
    batch_size: int = 64
    latent_dim: int | None = None
    width: int | None = None
    lr: float | None = None
    beta: float = 1.0
    gan_loss: Literal["hinge", "nonsaturating"] = "hinge"
    spectral_norm: bool = True
    aux_weight: float = 1.0
    binarize: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise InputError(f"unknown model {self.model!r}; available: {list(MODEL_KINDS)}")

    @property
    def is_gan(self) -> bool:
        return self.model in ("gan", "cgan")

    @property
    def conditional(self) -> bool:
        return self.model in ("cgan", "cvae")


@dataclass
class TrainedImageModel:
    """A trained model with its card (for the store) and what training did."""

    model: ImageModel
    card: ModelCard
    result: TrainResult


def build_model(spec: ImageLabSpec, data: ImageDataset) -> tuple[ImageModel, TrainingTask]:
    """The network and its training task for a spec and a dataset's shape."""
    if data.image_size not in (28, 32, 64):
        raise InputError(f"images must be 28, 32 or 64 pixels wide, got {data.image_size}")
    classes = data.num_classes if spec.conditional else 0
    if spec.conditional and len(torch.unique(data.labels)) < 2:
        raise InputError("a conditional model needs at least two classes; pick the unconditional one")
    common = {"image_size": data.image_size, "channels": data.channels, "num_classes": classes}
    if spec.is_gan:
        config = GANConfig(
            **common,
            latent_dim=spec.latent_dim or 64,
            width=spec.width or 32,
            loss=spec.gan_loss,
            spectral_norm=spec.spectral_norm,
            aux_weight=spec.aux_weight if classes else 0.0,
            lr_g=spec.lr or 2e-4,
            lr_d=spec.lr or 2e-4,
        )
        gan = GAN(config)
        return gan, GANTask(gan, seed=spec.seed)
    vae_config = VAEConfig(
        **common,
        latent_dim=spec.latent_dim or 16,
        width=spec.width or 32,
        beta=spec.beta,
        binarize=spec.binarize,
        lr=spec.lr or 1e-3,
    )
    vae = VAE(vae_config)
    return vae, VAETask(vae, seed=spec.seed)


def train_image_model(
    spec: ImageLabSpec,
    data: ImageDataset,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    snapshot_every: int = 100,
) -> TrainedImageModel:
    """Train the model a spec describes on ``data`` within its budget.

    Args:
        spec: Model kind, budget and hyper-parameters.
        data: Training images (and labels).
        on_progress: Receives losses every few steps and a sample grid every ``snapshot_every`` steps;
            returning False stops training.
        stop: Setting it stops training after the current step.

    Returns:
        The trained model (usable even when stopped early), its card and the training record.
    """
    seed_everything(spec.seed)
    model, task = build_model(spec, data)
    config = TrainConfig(
        steps=spec.steps,
        seconds=spec.seconds,
        batch_size=spec.batch_size,
        seed=spec.seed,
        log_every=10,
        snapshot_every=snapshot_every,
    )
    result = train(task, (data.images, data.labels), config, on_progress=on_progress, stop=stop)
    model.eval()
    card = ModelCard(
        kind="gan" if spec.is_gan else "vae",
        config=asdict(model.config),
        dataset=data.name,
        training={
            "steps": result.steps,
            "seconds": round(result.seconds, 2),
            "stopped": result.stopped,
            "images_per_s": round(result.examples_per_s, 1),
            "spec": asdict(spec),
        },
        extra={"class_names": data.class_names},
    )
    return TrainedImageModel(model=model, card=card, result=result)


@dataclass(frozen=True)
class ClassifierSpec:
    """Identifies the metrics classifier of a dataset (the store caches one per spec)."""

    dataset: str
    fingerprint: str  # content hash: two uploads with the same shape must not share a classifier
    image_size: int
    channels: int
    num_classes: int
    count: int
    epochs: int = 6
    seed: int = 0

    @property
    def steps(self) -> int:
        """Six passes over the training part, within [100, 600] steps of 64 images."""
        return min(600, max(100, math.ceil(self.epochs * self.count * (1 - EVAL_TEST_FRACTION) / 64)))


def get_classifier(
    data: ImageDataset,
    store_root: str | Path,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[FeatureClassifier, float]:
    """The dataset's metrics classifier, trained once and then loaded from the store.

    Args:
        data: The dataset the generators learn (the classifier learns its training part).
        store_root: The model store.
        on_progress: Gets the first-use training's progress (message ``CLASSIFIER_MESSAGE``, no curve
            points: they are not the generator's); returning False stops it.
        stop: Setting it stops a first-use training.

    Returns:
        The classifier and its held-out accuracy.

    Raises:
        ClassifierStoppedError: A first-use training was stopped (nothing is stored).
    """
    train_set, test_set = data.split(EVAL_TEST_FRACTION, seed=EVAL_SPLIT_SEED)
    spec = ClassifierSpec(
        data.name, data.fingerprint(), data.image_size, data.channels, data.num_classes, len(data)
    )

    def relabel(progress: Progress) -> bool | None:
        assert on_progress is not None
        return on_progress(Progress(progress.step, progress.total, CLASSIFIER_MESSAGE))

    def fit() -> tuple[nn.Module, ModelCard]:
        if on_progress is not None:
            on_progress(Progress(0, spec.steps, CLASSIFIER_MESSAGE))
        model, accuracy = train_classifier(
            train_set,
            test_set,
            steps=spec.steps,
            seed=spec.seed,
            on_progress=relabel if on_progress is not None else None,
            stop=stop,
        )
        card = ModelCard(
            kind="classifier",
            config=asdict(model.config),
            dataset=data.name,
            metrics={"test_accuracy": accuracy},
        )
        return model, card

    model, card, _ = get_or_train(spec, store_root, fit)
    return model, float(card.metrics["test_accuracy"])  # type: ignore[return-value]


def _generate_like(model: ImageModel, labels: torch.Tensor, temperature: float, seed: int) -> torch.Tensor:
    if model.num_classes:
        return model.sample(len(labels), labels=labels, temperature=temperature, seed=seed).images
    return model.sample(len(labels), temperature=temperature, seed=seed).images


def evaluate(
    model: ImageModel,
    data: ImageDataset,
    classifier: FeatureClassifier,
    classifier_accuracy: float,
    samples: int = 1000,
    temperature: float = 1.0,
    seed: int = 0,
) -> ImageMetrics:
    """Measure a generator against the held-out part of its dataset.

    Generated images get the class mix of the held-out set, so the FD-classifier compares like with
    like; conditional accuracy is measured for conditional models only.
    """
    train_set, test_set = data.split(EVAL_TEST_FRACTION, seed=EVAL_SPLIT_SEED)
    count = min(samples, len(test_set))
    labels = test_set.labels[:count]
    real = test_set.images[:count]
    fake = _generate_like(model, labels, temperature, seed)
    real_f, fake_f = extract_features(classifier, real), extract_features(classifier, fake)
    precision, recall = precision_recall(real_f, fake_f)
    return ImageMetrics(
        fd_classifier=frechet_distance(real_f, fake_f),
        precision=precision,
        recall=recall,
        nn_ratio=nearest_neighbour_ratio(fake[:500], train_set.images, real[:500]),
        conditional_accuracy=conditional_accuracy(classifier, fake, labels) if model.num_classes else None,
        classifier_accuracy=classifier_accuracy,
        samples=count,
    )


def heldout_elbo(model: VAE, data: ImageDataset, seed: int = 0) -> float:
    """Mean ELBO (nats per image) on the held-out images, binarised with a fixed seed."""
    _, test_set = data.split(EVAL_TEST_FRACTION, seed=EVAL_SPLIT_SEED)
    generator = torch.Generator().manual_seed(seed)
    x = torch.bernoulli(test_set.images, generator=generator) if model.config.binarize else test_set.images
    model.eval()
    with torch.no_grad():
        labels = test_set.labels if model.num_classes else None
        return float(model.elbo_terms(x, labels, generator)["elbo"].mean())


def sample_grid(model: ImageModel, n: int = 64, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """``n`` random samples (random classes for a conditional model) as one image grid."""
    return make_grid(model.sample(n, temperature=temperature, seed=seed).images)


def class_grid(model: ImageModel, per_class: int = 8, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """One row per class, ``per_class`` samples each (conditional models)."""
    if not model.num_classes:
        raise InputError("class grids need a conditional model (cGAN or cVAE)")
    labels = torch.arange(model.num_classes).repeat_interleave(per_class)
    images = model.sample(len(labels), labels=labels, temperature=temperature, seed=seed).images
    return make_grid(images, nrow=per_class)


def interpolation_strip(
    model: ImageModel, steps: int = 10, seed: int = 0, label: int | None = None
) -> np.ndarray:
    """Images along a straight line between two random latent codes (one class when conditional)."""
    generator = torch.Generator().manual_seed(seed)
    ends = torch.randn(2, model.latent_dim, generator=generator)
    weights = torch.linspace(0, 1, steps)[:, None]
    z = ends[0] * (1 - weights) + ends[1] * weights
    cond = None
    if model.num_classes:
        cond = torch.full((steps,), 0 if label is None else label, dtype=torch.int64)
    return make_grid(model.decode(z, cond), nrow=steps)


def reconstruction_grid(model: VAE, data: ImageDataset, n: int = 10, seed: int = 0) -> np.ndarray:
    """Top row: held-out images; bottom row: their VAE reconstructions."""
    if not isinstance(model, VAE):
        raise InputError("reconstructions need a VAE or cVAE")
    _, test_set = data.split(EVAL_TEST_FRACTION, seed=EVAL_SPLIT_SEED)
    index = torch.randperm(len(test_set), generator=torch.Generator().manual_seed(seed))[:n]
    images, labels = test_set.images[index], test_set.labels[index]
    recon = model.reconstruct(images, labels if model.num_classes else None)
    return make_grid(torch.cat([images, recon]), nrow=n)

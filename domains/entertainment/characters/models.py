"""The character generators (conditional VAE and GAN on attribute vectors) and the attribute judge.

Both generators come from the shared core, conditioned on the one-hot attribute blocks of
`sprites.attribute_vectors`, and are trained through `get_or_train`: the first use trains once, later
sessions load from the store. The attribute classifier (one shared CNN body, one softmax head per
attribute) is trained on the same procedural set and judges whether generated characters show the
attributes they were asked for.

Example:
    >>> model, card = get_character_model(CharacterModelSpec(model="cvae"), store_root)
    >>> judge, held_out = get_attribute_classifier(store_root)
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from domains.entertainment.characters.sprites import (
    ATTRIBUTE_DIM,
    ATTRIBUTES,
    SPRITE_SIZE,
    CharacterSet,
    make_character_set,
)
from shared_models.exceptions import InputError, SuiteError
from shared_models.gan import GAN, GANConfig, GANTask
from shared_models.metrics import ClassifierConfig, FeatureClassifier
from shared_models.progress import Progress, ProgressCallback
from shared_models.store import ModelCard, get_or_train, load_model, read_card, save_model, spec_key
from shared_models.trainer import Batch, TrainConfig, TrainingTask, seed_everything, train
from shared_models.vae import VAE, VAEConfig, VAETask

__all__ = [
    "GENERATOR_KINDS",
    "AttributeClassifierSpec",
    "CharacterModel",
    "CharacterModelSpec",
    "TrainingStoppedError",
    "attribute_accuracy",
    "character_set",
    "get_attribute_classifier",
    "get_character_model",
    "has_stored_model",
    "partial_path",
    "partial_steps",
    "predict_codes",
    "train_character_model",
]

GeneratorKind = Literal["cvae", "cgan"]
GENERATOR_KINDS: dict[GeneratorKind, str] = {
    "cvae": "Conditional VAE: the quicker to train, reliable attributes, softer pixels",
    "cgan": "Conditional GAN: crisper pixels, needs several times longer to honour attributes",
}
CharacterModel = VAE | GAN
HELD_OUT_SEED = 10_007  # the classifier is measured on characters drawn with another seed
PARTIAL_SUFFIX = ".partial"
CHECKPOINT_EVERY_S = 30.0  # a running first-use training keeps its progress this often (a kill loses less)


class TrainingStoppedError(SuiteError):
    """Training was stopped before its budget ran out; nothing was stored under the spec's key."""


@dataclass(frozen=True)
class CharacterModelSpec:
    """Everything that determines a trained character generator (its store key).

    Attributes:
        model: ``"cvae"`` or ``"cgan"``.
        steps: Optimisation steps.
        batch_size: Characters per step.
        dataset_size: Procedural characters to train on (fewer than the combinations, so most
            generated combinations are new ones).
        data_seed: Seed of the training set.
        latent_dim: Size of z (None: 16 for the cVAE, 32 for the cGAN).
        width: Base channel count of the networks.
        lr: Learning rate (None: 2e-3 for the cVAE, 2e-4 for the cGAN).
        seed: Seeds initialisation, batches and noise.
    """

    model: GeneratorKind = "cvae"
    steps: int = 1500
    batch_size: int = 64
    dataset_size: int = 4096
    data_seed: int = 0
    latent_dim: int | None = None
    width: int = 16
    lr: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model not in GENERATOR_KINDS:
            raise InputError(f"unknown model {self.model!r}; available: {list(GENERATOR_KINDS)}")
        if not 1 <= self.steps <= 200_000:
            raise InputError(f"steps must be between 1 and 200000, got {self.steps}")
        if self.dataset_size < self.batch_size:
            raise InputError(f"dataset_size ({self.dataset_size}) must be at least one batch")


@functools.lru_cache(maxsize=4)
def character_set(count: int, seed: int) -> CharacterSet:
    """The procedural training set, drawn once per process and size (read-only: do not modify)."""
    return make_character_set(count, seed)


def _build(spec: CharacterModelSpec) -> tuple[CharacterModel, TrainingTask]:
    if spec.model == "cvae":
        vae = VAE(
            VAEConfig(
                image_size=SPRITE_SIZE,
                channels=3,
                latent_dim=spec.latent_dim or 16,
                attr_dim=ATTRIBUTE_DIM,
                width=spec.width,
                lr=spec.lr or 2e-3,
            )
        )
        return vae, VAETask(vae, seed=spec.seed, preview_count=16)
    gan = GAN(
        GANConfig(
            image_size=SPRITE_SIZE,
            channels=3,
            latent_dim=spec.latent_dim or 32,
            attr_dim=ATTRIBUTE_DIM,
            width=spec.width,
            lr_g=spec.lr or 2e-4,
            lr_d=spec.lr or 2e-4,
        )
    )
    return gan, GANTask(gan, seed=spec.seed, preview_count=16)


def partial_path(spec: CharacterModelSpec, store_root: str | Path) -> Path:
    """Where a stopped training of ``spec`` keeps its progress (beside the store entry, never loaded as
    one: only the training of the same spec resumes from it)."""
    return Path(store_root) / f"{spec_key(spec)}{PARTIAL_SUFFIX}"


def partial_steps(spec: CharacterModelSpec, store_root: str | Path) -> int:
    """Steps a stopped training of ``spec`` has kept (0: none, or unreadable)."""
    try:
        return int(read_card(partial_path(spec, store_root)).training.get("steps", 0))
    except (SuiteError, TypeError, ValueError):
        return 0


def _card(
    spec: CharacterModelSpec, model: CharacterModel, steps: int, seconds: float, **extra: object
) -> ModelCard:
    return ModelCard(
        kind="vae" if spec.model == "cvae" else "gan",
        config=asdict(model.config),
        dataset=f"procedural-characters-{spec.dataset_size}-seed{spec.data_seed}",
        training={"steps": steps, "seconds": round(seconds, 2), "spec": asdict(spec), **extra},
        extra={"attributes": {k: list(v) for k, v in ATTRIBUTES.items()}},
    )


def _resume(spec: CharacterModelSpec, model: CharacterModel, partial: Path | None) -> tuple[int, float]:
    """Load a stopped training's weights into ``model``; returns (steps, seconds) already done."""
    if partial is None or not (partial / "card.json").is_file():
        return 0, 0.0
    try:
        saved, card = load_model(partial)
        if card.training.get("spec") != asdict(spec):
            return 0, 0.0
        model.load_state_dict(saved.state_dict())
        steps, seconds = int(card.training["steps"]), float(card.training.get("seconds", 0.0))
    except (SuiteError, RuntimeError, KeyError, TypeError, ValueError):  # damaged: start afresh
        return 0, 0.0
    return min(max(steps, 0), spec.steps - 1), seconds


def train_character_model(
    spec: CharacterModelSpec,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    partial: Path | None = None,
) -> tuple[CharacterModel, ModelCard]:
    """Train a character generator on the procedural set within its step budget.

    Args:
        spec: The generator and its budget.
        on_progress: Gets losses every 20 steps and samples every 200; returning False stops.
        stop: Setting it stops training after the current step.
        partial: Where progress is kept: a stopped training saves its weights there (and a running
            one every ``CHECKPOINT_EVERY_S``), and the next training of the same spec continues from
            them instead of from step 0 (its optimiser state starts afresh).

    Raises:
        TrainingStoppedError: Stopped before the budget ran out (a half-trained generator is not
            cached under the spec's key; with ``partial`` its progress is kept there).
    """
    data = character_set(spec.dataset_size, spec.data_seed)
    seed_everything(spec.seed)
    model, task = _build(spec)
    done, done_s = _resume(spec, model, partial)
    config = TrainConfig(
        steps=spec.steps - done,
        batch_size=spec.batch_size,
        seed=spec.seed + done,  # a resumed training does not replay the first batches
        log_every=20,
        snapshot_every=200,
    )
    last_saved = time.monotonic()

    def keep(steps: int, seconds: float) -> None:
        if partial is not None:
            save_model(partial, model, _card(spec, model, steps, seconds, partial=True))

    def report(progress: Progress) -> bool | None:
        nonlocal last_saved
        if time.monotonic() - last_saved > CHECKPOINT_EVERY_S:  # between steps: the weights are whole
            keep(done + progress.step, done_s + progress.elapsed_s)
            last_saved = time.monotonic()
        if on_progress is None:
            return None
        return on_progress(dataclasses.replace(progress, step=done + progress.step, total=spec.steps))

    # (images, codes, vectors): the attribute vectors sit at index 2, where both tasks look for them.
    result = train(task, (data.images, data.codes, data.vectors), config, on_progress=report, stop=stop)
    steps, seconds = done + result.steps, done_s + result.seconds
    if result.stopped == "cancelled":
        model.eval()
        keep(steps, seconds)
        kept = (
            "its progress is kept: Generate continues from there"
            if partial is not None
            else "nothing was saved. Press Generate again to train from the start"
        )
        raise TrainingStoppedError(f"training stopped at step {steps} of {spec.steps}; {kept}.")
    model.eval()
    extra: dict[str, object] = {"images_per_s": round(result.examples_per_s, 1)}
    if done:
        extra["resumed_from_step"] = done
    return model, _card(spec, model, steps, seconds, **extra)


def get_character_model(
    spec: CharacterModelSpec,
    store_root: str | Path,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[CharacterModel, ModelCard]:
    """The generator for ``spec``: loaded from the store, or trained once and stored.

    A first-use training that is stopped keeps its progress beside the store entry; the next call
    continues from it.

    Raises:
        TrainingStoppedError: A first-use training was stopped (its progress kept, nothing stored).
    """
    partial = partial_path(spec, store_root)
    model, card, _ = get_or_train(
        spec, store_root, lambda: train_character_model(spec, on_progress, stop, partial)
    )
    shutil.rmtree(partial, ignore_errors=True)  # the finished generator replaces it
    return model, card  # type: ignore[return-value]


# --- the attribute judge --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeClassifierSpec:
    """Identifies the attribute classifier (its store key)."""

    dataset_size: int = 2048
    data_seed: int = 1
    held_out: int = 1024
    steps: int = 400
    batch_size: int = 64
    width: int = 32
    seed: int = 0


def _head_slices() -> list[slice]:
    slices, start = [], 0
    for values in ATTRIBUTES.values():
        slices.append(slice(start, start + len(values)))
        start += len(values)
    return slices


class _MultiHeadTask(TrainingTask):
    """Cross-entropy per attribute over its slice of the logits, summed."""

    def __init__(self, model: FeatureClassifier, seed: int) -> None:
        self.model = model
        self.random = torch.Generator().manual_seed(seed)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
        self.slices = _head_slices()

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        self.model.train()
        x, codes = batch[0], batch[1]
        # A pixel of shift either way: generated characters are not always pixel-aligned.
        dx, dy = torch.randint(-1, 2, (2,), generator=self.random).tolist()
        logits = self.model(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))
        loss = sum(F.cross_entropy(logits[:, s], codes[:, i]) for i, s in enumerate(self.slices))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        self.optimizer.step()
        return {"loss": loss.item()}  # type: ignore[union-attr]


@torch.no_grad()
def predict_codes(classifier: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``(N, len(ATTRIBUTES))`` value indices the classifier sees in ``(N, 3, 32, 32)`` images."""
    classifier.eval()
    logits = torch.cat([classifier(images[i : i + 512]) for i in range(0, len(images), 512)])
    return torch.stack([logits[:, s].argmax(1) for s in _head_slices()], dim=1)


def attribute_accuracy(classifier: nn.Module, images: torch.Tensor, codes: torch.Tensor) -> dict[str, float]:
    """Share of images whose attribute the classifier reads as ``codes`` says, per attribute."""
    hits = (predict_codes(classifier, images) == codes).float().mean(0)
    return {name: round(float(hits[i]), 4) for i, name in enumerate(ATTRIBUTES)}


def get_attribute_classifier(
    store_root: str | Path, spec: AttributeClassifierSpec | None = None
) -> tuple[FeatureClassifier, dict[str, float]]:
    """The multi-head attribute classifier, trained once and then loaded from the store.

    Returns:
        The classifier and its per-attribute accuracy on held-out procedural characters.
    """
    spec = spec or AttributeClassifierSpec()

    def fit() -> tuple[nn.Module, ModelCard]:
        data = make_character_set(spec.dataset_size, spec.data_seed)
        held_out = make_character_set(spec.held_out, HELD_OUT_SEED)
        torch.manual_seed(spec.seed)
        config = ClassifierConfig(
            image_size=SPRITE_SIZE, channels=3, num_classes=ATTRIBUTE_DIM, width=spec.width
        )
        model = FeatureClassifier(config)
        train(
            _MultiHeadTask(model, spec.seed),
            (data.images, data.codes),
            TrainConfig(steps=spec.steps, batch_size=spec.batch_size, seed=spec.seed),
        )
        model.eval()
        accuracy = attribute_accuracy(model, held_out.images, held_out.codes)
        card = ModelCard(
            kind="classifier",
            config=asdict(config),
            dataset=f"procedural-characters-{spec.dataset_size}-seed{spec.data_seed}",
            metrics={"held_out_accuracy": accuracy},
            extra={"attributes": {k: list(v) for k, v in ATTRIBUTES.items()}},
        )
        return model, card

    model, card, _ = get_or_train(spec, store_root, fit)
    return model, dict(card.metrics["held_out_accuracy"])  # type: ignore[return-value]


def has_stored_model(spec: CharacterModelSpec, store_root: str | Path) -> bool:
    """Whether the generator for ``spec`` is already in the store (so using it trains nothing)."""
    return (Path(store_root) / spec_key(spec) / "card.json").is_file()

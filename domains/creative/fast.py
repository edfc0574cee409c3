"""Fast mode: a small feed-forward network per style that reproduces the painterly mode in one pass.

Training data are the painterly mode's own outputs: the bundled content photos (and two procedural
images, for variety) are painted once in the style, then the network learns to map random crops of
each photo to the same crops of its painting, with the shared trainer. The trained network goes to
the model store (safetensors + card) under a hash of its `FastStyleSpec`, so a style trained once is
listed and reused, and a 512 px image is stylised in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from domains.creative.images import CONTENT_PHOTOS, content_photo, fit_size, resize
from domains.creative.painterly import PainterlyConfig, stylise_painterly
from domains.creative.procedural import draw_style
from shared_models.exceptions import InputError, ModelError, SuiteError
from shared_models.progress import Progress, ProgressCallback
from shared_models.store import CARD, ModelCard, get_or_train, load_model, read_card, register_kind
from shared_models.trainer import TrainConfig, TrainingTask, seed_everything, train

__all__ = [
    "FAST_KIND",
    "FastStyle",
    "FastStyleConfig",
    "FastStyleNet",
    "FastStyleSpec",
    "TrainingStoppedError",
    "apply_fast",
    "fast_styles_for",
    "list_fast_styles",
    "open_fast_style",
    "sliced_patch_loss",
    "spec_for",
    "style_fingerprint",
    "train_fast_style",
]

FAST_KIND = "fast_style"
PROCEDURAL_TRAINING_IMAGES = ("pointillism", "mosaic")  # extra texture variety beside the photos


class TrainingStoppedError(SuiteError):
    """Fast-style training was stopped before its budget ran out; nothing was stored."""


@dataclass(frozen=True)
class FastStyleConfig:
    """Architecture of the fast network: an encoder to 1/4 resolution, residual blocks, a decoder.

    Attributes:
        channels: Channels at full, half and quarter resolution.
        residual_blocks: Residual blocks at quarter resolution.
    """

    channels: tuple[int, int, int] = (16, 32, 48)
    residual_blocks: int = 3


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.ReflectionPad2d(1),
        nn.Conv2d(cin, cout, 3, stride=stride),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3)
        )
        self.norm = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.norm(self.body(x))


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _conv(cin, cout)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.conv(F.interpolate(x, size=size, mode="nearest"))


class FastStyleNet(nn.Module):
    """Image-to-image network, ``(B, 3, H, W)`` in [0, 1] -> same shape in [0, 1]; any H, W >= 8."""

    def __init__(self, config: FastStyleConfig) -> None:
        super().__init__()
        c1, c2, c3 = config.channels
        self.config = config
        self.enc1, self.enc2, self.enc3 = _conv(3, c1), _conv(c1, c2, 2), _conv(c2, c3, 2)
        self.middle = nn.Sequential(*[_Residual(c3) for _ in range(config.residual_blocks)])
        self.up2, self.up1 = _Up(c3, c2), _Up(c2, c1)
        self.out = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c1, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = self.enc1(x)  # (B, c1, H, W)
        half = self.enc2(full)  # (B, c2, H/2, W/2)
        quarter = self.middle(self.enc3(half))  # (B, c3, H/4, W/4)
        half = self.up2(quarter, tuple(half.shape[-2:])) + half
        full = self.up1(half, tuple(full.shape[-2:])) + full
        return torch.sigmoid(self.out(full))


register_kind(
    FAST_KIND,
    lambda cfg: FastStyleNet(
        FastStyleConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
    ),
)


def style_fingerprint(style: np.ndarray) -> str:
    """A short hash of a style image's pixels (at 64 px), so two uploads of one image share a model."""
    small = np.round(resize(style, fit_size(style.shape, 64)) * 255).astype(np.uint8)
    return hashlib.sha256(small.tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class FastStyleSpec:
    """Everything that determines a trained fast style (its hash is the store key).

    Attributes:
        style_name: Shown in lists (a built-in name or an uploaded file's name).
        style_fingerprint: `style_fingerprint` of the style image.
        data_size: Longest side of the painted training images: 512, the size the page and the
            bench paint at (targets painted at 384 px kept less of the photo, SSIM 0.28-0.36
            against 0.37-0.39 at 512, because the same patches cover more of a smaller image).
        painterly_scales: Scales of the painterly runs that make the targets.
        painterly_iterations: Rounds per patch size of those runs.
        content_weight: Content weight of those runs.
        crop: Side of the training crops.
        crops_per_image: Random crops drawn from each painted image.
        steps: Optimisation steps at most.
        seconds: Training time budget at most.
        batch_size: Crops per step.
        learning_rate: Adam learning rate.
        gradient_weight: Weight of the image-gradient term (keeps edges sharp).
        texture_weight: Weight of the sliced patch loss (asks for strokes, not their average).
        texture_scales: Weight of the patch loss at each scale: full resolution, then each halving.
            With two equal scales, Starry Night's swirls stayed smooth on the coffee photo's flat
            surfaces; a quarter-resolution scale and a double weight on the finest one brought its
            texture distance from 0.61-0.67 to 0.38-0.46.
        network: Architecture.
        seed: Seeds the painting, the crops and the network.
    """

    style_name: str
    style_fingerprint: str
    data_size: int = 512
    painterly_scales: int = 3
    painterly_iterations: int = 2
    content_weight: float = 1.0
    crop: int = 96
    crops_per_image: int = 48
    steps: int = 600
    seconds: float | None = 180.0
    batch_size: int = 8
    learning_rate: float = 2e-3
    gradient_weight: float = 1.0
    texture_weight: float = 20.0
    texture_scales: tuple[float, ...] = (2.0, 1.0, 1.0)
    network: FastStyleConfig = field(default_factory=FastStyleConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 64 <= self.data_size <= 1024:
            raise InputError(f"training image size must be 64-1024 px, got {self.data_size}")
        if not 16 <= self.crop <= self.data_size // 2:
            raise InputError(f"crop must be 16 px to half the training image size, got {self.crop}")
        levels = len(self.texture_scales)
        if not 1 <= levels <= 4 or self.crop >> (levels - 1) < 8 or min(self.texture_scales) < 0:
            raise InputError(
                "texture scales must be 1-4 weights >= 0 and leave crops of at least 8 px, "
                f"got {self.texture_scales}"
            )
        if self.steps < 1:
            raise InputError(f"steps must be at least 1, got {self.steps}")
        if self.seconds is not None and self.seconds <= 0:
            raise InputError(f"seconds must be positive, got {self.seconds}")


@dataclass
class FastStyle:
    """A trained fast style, ready to apply."""

    name: str
    model: FastStyleNet
    card: ModelCard
    folder: Path


def _training_images(spec: FastStyleSpec) -> list[np.ndarray]:
    photos = [content_photo(name) for name in sorted(CONTENT_PHOTOS)]
    extras = [draw_style(name, spec.data_size, seed=spec.seed + 7) for name in PROCEDURAL_TRAINING_IMAGES]
    return [resize(img, fit_size(img.shape, spec.data_size)) for img in photos + extras]


def _paint_pairs(
    style: np.ndarray, spec: FastStyleSpec, on_progress: ProgressCallback | None, stop: threading.Event | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random (content crop, painted crop) pairs, ``(N, 3, crop, crop)`` each."""
    rng = np.random.default_rng(spec.seed)
    config = PainterlyConfig(
        output_size=spec.data_size,
        scales=spec.painterly_scales,
        iterations=spec.painterly_iterations,
        content_weight=spec.content_weight,
        seed=spec.seed,
    )
    if on_progress is not None:  # drawing the built-in examples takes a moment before the first painting
        on_progress(Progress(0, None, "preparing the training examples"))
    images = _training_images(spec)
    inputs, targets = [], []
    for index, image in enumerate(images):
        label = f"painting training example {index + 1}/{len(images)}"

        def report(progress: Progress, label: str = label, index: int = index) -> bool | None:
            # each painting takes seconds: its rounds are reported, and a stop ends it mid-round
            if on_progress is None:
                return None
            return on_progress(
                Progress(index, len(images), f"{label}: {progress.message}", preview=progress.preview)
            )

        painting = stylise_painterly(image, style, config, on_progress=report, stop=stop)
        if painting.stopped or (stop is not None and stop.is_set()):
            raise TrainingStoppedError("fast-style training was stopped while painting its examples")
        painted = painting.image
        height, width = image.shape[:2]
        for _ in range(spec.crops_per_image):
            top, left = rng.integers(0, height - spec.crop + 1), rng.integers(0, width - spec.crop + 1)
            window = (slice(top, top + spec.crop), slice(left, left + spec.crop))
            flip = rng.random() < 0.5
            pair = [image[window], painted[window]]
            inputs.append(pair[0][:, ::-1] if flip else pair[0])
            targets.append(pair[1][:, ::-1] if flip else pair[1])

    def stack(items: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.stack(items).transpose(0, 3, 1, 2))).float()

    return stack(inputs), stack(targets)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def sliced_patch_loss(
    outputs: torch.Tensor, targets: torch.Tensor, patch: int = 5, directions: int = 32
) -> torch.Tensor:
    """Sliced Wasserstein distance between the 5x5 patch distributions of each output and its target.

    A pixel loss alone averages strokes away (the painting of a crop is not a smooth function of the
    crop); matching the sorted projections of all patches asks for the same kind of strokes and edges
    without asking for them at the same pixels (Heitz et al., CVPR 2021).
    """
    a = F.unfold(outputs, patch, stride=2)  # (B, 3*p*p, L)
    b = F.unfold(targets, patch, stride=2)
    basis = F.normalize(torch.randn(a.shape[1], directions), dim=0)
    pa = torch.sort(torch.einsum("bdl,dk->bkl", a, basis), dim=-1).values
    pb = torch.sort(torch.einsum("bdl,dk->bkl", b, basis), dim=-1).values
    return F.mse_loss(pa, pb)


class _DistillTask(TrainingTask):
    def __init__(self, model: FastStyleNet, spec: FastStyleSpec) -> None:
        self.model = model
        self.spec = spec
        self.optimiser = torch.optim.Adam(model.parameters(), lr=spec.learning_rate)

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        inputs, targets = batch
        self.model.train()
        outputs = self.model(inputs)
        pixel = F.l1_loss(outputs, targets)
        (oy, ox), (ty, tx) = _gradients(outputs), _gradients(targets)
        gradient = F.l1_loss(oy, ty) + F.l1_loss(ox, tx)
        texture = self.spec.texture_scales[0] * sliced_patch_loss(outputs, targets)
        for level, weight in enumerate(self.spec.texture_scales[1:], start=1):
            texture = texture + weight * sliced_patch_loss(
                F.avg_pool2d(outputs, 2**level), F.avg_pool2d(targets, 2**level)
            )
        loss = pixel + self.spec.gradient_weight * gradient + self.spec.texture_weight * texture
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        return {"loss": loss.item(), "l1": pixel.item(), "texture": texture.item()}


def train_fast_style(
    style: np.ndarray,
    spec: FastStyleSpec,
    store_root: str | Path,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[FastStyle, bool]:
    """Return the fast style for ``spec``, training and storing it first when the store lacks it.

    Args:
        style: The style image (float RGB in [0, 1]); must match ``spec.style_fingerprint``.
        spec: What to train.
        store_root: The model store folder (the suite passes ``<workspace>/models``).
        on_progress: Painting and training progress; returning False stops.
        stop: Set it to stop; a stopped training stores nothing.

    Returns:
        ``(fast_style, trained_now)``.

    Raises:
        InputError: The style image does not match the spec's fingerprint.
        TrainingStoppedError: Stopped before the budget ran out.
    """
    if style_fingerprint(style) != spec.style_fingerprint:
        raise InputError("the style image does not match the spec's fingerprint; build the spec from it")
    trained_now = False

    def train_fn() -> tuple[nn.Module, ModelCard]:
        nonlocal trained_now
        trained_now = True
        started = time.perf_counter()
        inputs, targets = _paint_pairs(style, spec, on_progress, stop)
        paint_seconds = time.perf_counter() - started
        seed_everything(spec.seed)
        model = FastStyleNet(spec.network)
        config = TrainConfig(
            steps=spec.steps, seconds=spec.seconds, batch_size=spec.batch_size, seed=spec.seed, log_every=10
        )
        result = train(_DistillTask(model, spec), (inputs, targets), config, on_progress, stop)
        if result.stopped == "cancelled":
            raise TrainingStoppedError(
                f"fast-style training was stopped at step {result.steps}; nothing was stored"
            )
        model.eval()
        card = ModelCard(
            kind=FAST_KIND,
            config=asdict(spec.network),
            dataset=f"painterly outputs of {len(inputs) // spec.crops_per_image} images",
            metrics={"final_l1": result.history[-1].get("l1"), "final_loss": result.history[-1].get("loss")},
            training={
                "steps": result.steps,
                "seconds": round(result.seconds, 2),
                "paint_seconds": round(paint_seconds, 2),
                "total_seconds": round(time.perf_counter() - started, 2),
                "stopped_by": result.stopped,
            },
            extra={"style_name": spec.style_name, "spec": json.loads(json.dumps(asdict(spec)))},
        )
        return model, card

    model, card, folder = get_or_train(spec, store_root, train_fn)
    return FastStyle(spec.style_name, model, card, folder), trained_now  # type: ignore[arg-type]


def list_fast_styles(store_root: str | Path) -> list[dict[str, Any]]:
    """Trained fast styles in the store, newest first.

    Returns:
        ``{"key", "name", "created", "seconds", "fingerprint", "folder"}`` per style.
    """
    root = Path(store_root)
    entries = []
    for card_path in sorted(root.glob(f"*/{CARD}")) if root.is_dir() else []:
        try:
            card = read_card(card_path.parent)
        except ModelError:
            continue  # a damaged entry is skipped, not fatal to the list
        if card.kind != FAST_KIND:
            continue
        entries.append(
            {
                "key": card_path.parent.name,
                "name": card.extra.get("style_name", card_path.parent.name),
                "created": card.created,
                "seconds": card.training.get("total_seconds"),
                "fingerprint": card.extra.get("spec", {}).get("style_fingerprint"),
                "folder": str(card_path.parent),
            }
        )
    return sorted(entries, key=lambda e: e["created"], reverse=True)


def fast_styles_for(store_root: str | Path, style: np.ndarray) -> list[dict[str, Any]]:
    """The trained fast styles made from this style image (same fingerprint), newest first."""
    fingerprint = style_fingerprint(style)
    return [e for e in list_fast_styles(store_root) if e["fingerprint"] == fingerprint]


def open_fast_style(store_root: str | Path, key: str) -> FastStyle:
    """Load a stored fast style by its key (never retrains).

    Raises:
        InputError: No fast style with that key in the store.
    """
    folder = Path(store_root) / key
    if not (folder / CARD).is_file():
        raise InputError(f"no trained fast style {key!r}; train one first (`aigc style train`)")
    model, card = load_model(folder)
    if card.kind != FAST_KIND:
        raise InputError(f"store entry {key!r} is a {card.kind!r} model, not a fast style")
    return FastStyle(card.extra.get("style_name", key), model, card, folder)  # type: ignore[arg-type]


@torch.no_grad()
def apply_fast(fast: FastStyle, content: np.ndarray, output_size: int = 512) -> np.ndarray:
    """Stylise with a trained fast style: one forward pass at the output size (float RGB in [0, 1])."""
    image = resize(content, fit_size(content.shape, output_size))
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()
    fast.model.eval()
    return fast.model(tensor)[0].permute(1, 2, 0).numpy().astype(np.float32)


def spec_for(style_name: str, style: np.ndarray, **overrides: Any) -> FastStyleSpec:
    """A `FastStyleSpec` for a style image, with any field overridden."""
    return FastStyleSpec(style_name=style_name, style_fingerprint=style_fingerprint(style), **overrides)

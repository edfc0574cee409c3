"""Detectors that train networks: the SSIM autoencoder and the DRAEM-style pair.

Both resize images to a work resolution, train with the core's trainer (progress, a step or time budget,
Stop), and turn a per-pixel map at the work resolution into a map at the input size plus an image score
(the maximum of the locally averaged map, so one hot pixel does not decide).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from domains.manufacturing.inspection.detectors.base import (
    MIN_TRAIN_IMAGES,
    AnomalyScores,
    Detector,
    FitReport,
    check_images,
    gaussian_blur,
    to_tensor,
    work_shape,
)
from domains.manufacturing.inspection.detectors.synthetic import AnomalySynthesizer, texture_bank
from domains.manufacturing.stoppable import Stopped, run_stoppable
from shared_models.autoencoder import ConvAutoencoder, ConvAutoencoderConfig, UNet, UNetConfig, ssim_map
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from shared_models.trainer import TrainConfig, TrainingTask, seed_everything, train

__all__ = ["AutoencoderConfig", "AutoencoderDetector", "DraemConfig", "DraemDetector"]


@dataclass
class NetworkConfig:
    """Budget and resolution shared by the network detectors.

    Attributes:
        work_size: Longer image side the networks see.
        steps: Optimisation steps (None: only the time budget applies).
        seconds: Wall-clock training budget (None: only the step budget applies).
        batch_size: Images per step.
        learning_rate: Adam step size.
        smoothing: Blur of the anomaly map, in work-resolution pixels.
        seed: Seeds initialisation, batches and augmentation.
    """

    work_size: int = 128
    steps: int | None = None
    seconds: float | None = 120.0
    batch_size: int = 8
    learning_rate: float = 1e-3
    smoothing: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.work_size < 32:
            raise InputError(f"work_size must be at least 32 pixels, got {self.work_size}")
        TrainConfig(steps=self.steps, seconds=self.seconds, batch_size=self.batch_size)  # validates budget


@dataclass
class AutoencoderConfig(NetworkConfig):
    """The SSIM autoencoder: widths per level (the last is the bottleneck)."""

    channels: tuple[int, ...] = (32, 64, 96, 128)


@dataclass
class DraemConfig(NetworkConfig):
    """The DRAEM-style pair: reconstructive widths, discriminative widths, surfaces not to paste."""

    recon_channels: tuple[int, ...] = (32, 64, 96, 128)
    seg_channels: tuple[int, ...] = (16, 32, 64, 96)
    exclude_textures: tuple[str, ...] = field(default_factory=tuple)


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random mirror images and small brightness changes: variation a camera and lamp would give."""
    flip = torch.rand(len(images), generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    gain = 0.9 + 0.2 * torch.rand(len(images), 1, 1, 1, generator=generator)
    return (images * gain).clamp(0, 1)


def _focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    probability = torch.sigmoid(logits)
    p_true = probability * target + (1 - probability) * (1 - target)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return ((1 - p_true) ** gamma * bce).mean()


class _NetworkDetector(Detector):
    config: NetworkConfig

    def __init__(self) -> None:
        self.image_size = None
        self._work = (0, 0)

    @property
    def _modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def _task(self, generator: torch.Generator) -> TrainingTask:
        raise NotImplementedError

    def _pixel_map(self, work_images: torch.Tensor) -> torch.Tensor:
        """``(N, 1, h, w)`` anomaly map at the work resolution."""
        raise NotImplementedError

    def _resize(self, images: np.ndarray) -> torch.Tensor:
        return F.interpolate(to_tensor(images), size=self._work, mode="bilinear", antialias=True)

    def fit(
        self,
        normal_images: np.ndarray,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> FitReport:
        """Train on normal images until the step or time budget is spent, or Stop.

        A stop ends training at once, with the weights of the last finished step (a step still
        running is abandoned); stopped inside the first step, the detector stays unfitted.
        """
        images = check_images(normal_images, MIN_TRAIN_IMAGES)
        if on_progress is not None:
            on_progress(Progress(0, None, "building the network and resizing the images"))
        self.image_size = (images.shape[1], images.shape[2])
        self._work = work_shape(self.image_size, self.config.work_size, multiple=16)
        generator = seed_everything(self.config.seed)
        self._build()
        data = torch.cat([self._resize(images[i : i + 32]) for i in range(0, len(images), 32)])
        budget = TrainConfig(
            steps=self.config.steps,
            seconds=self.config.seconds,
            batch_size=self.config.batch_size,
            seed=self.config.seed,
            log_every=10,
        )
        for module in self._modules.values():
            module.train()
        task = self._task(generator)
        steps = None if stop is None else _StoppableSteps(task, self, stop)
        try:
            result = train(steps or task, (data,), budget, on_progress, stop)
        finally:
            if steps is not None:
                steps.close()
        done = result.steps - (1 if steps is not None and steps.abandoned else 0)
        for module in self._modules.values():
            module.eval()
        if done == 0:
            self.image_size = None  # stopped inside the first step: nothing learned to score with
        return FitReport(done, result.seconds, result.stopped, result.history)

    def _build(self) -> None:
        raise NotImplementedError

    def score(self, images: np.ndarray) -> AnomalyScores:
        """Maps at the input size and image scores (maximum of the map averaged over small windows)."""
        images = self._check_size(images)
        maps, scores = [], []
        window = max(3, (self._work[0] // 16) | 1)
        with torch.no_grad():
            for start in range(0, len(images), 16):
                work_map = self._pixel_map(self._resize(images[start : start + 16]))
                work_map = gaussian_blur(work_map, self.config.smoothing)
                pooled = F.avg_pool2d(
                    work_map, window, stride=1, padding=window // 2, count_include_pad=False
                )
                scores.append(pooled.flatten(1).amax(1).numpy())
                full = F.interpolate(work_map, size=self.image_size, mode="bilinear", align_corners=False)
                maps.append(full[:, 0].numpy())
        return AnomalyScores(np.concatenate(scores), np.concatenate(maps).astype(np.float32))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            f"{name}.{k}": v for name, module in self._modules.items() for k, v in module.state_dict().items()
        }

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._build()
        for name, module in self._modules.items():
            prefix = f"{name}."
            module.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
            module.eval()

    def _restore(self, folder: str | Path, image_size: list[int]) -> None:
        super()._restore(folder, image_size)
        self._work = work_shape(self.image_size, self.config.work_size, multiple=16)


class _StoppableSteps(TrainingTask):
    """Runs each step of a task so that a stop need not wait for it (a step can take seconds on a
    busy machine): the step running at the stop is abandoned, and the detector gets fresh networks
    holding the weights from before it (the abandoned step still writes into the old ones)."""

    def __init__(self, task: TrainingTask, detector: _NetworkDetector, stop: threading.Event) -> None:
        self.task, self.detector, self.stop = task, detector, stop
        self.last: dict[str, float] = {}
        self.abandoned = False
        # the abandoned step quits at its next convolution, forward or backward, so the calibration
        # that follows the stop has the cores to itself
        self.hooks = [
            layer.register_forward_hook(self._quit_when_stopped)
            for module in detector._modules.values()
            for layer in module.modules()
            if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d)
        ]

    def close(self) -> None:
        """Take the hooks off (the networks kept after a stop must still score)."""
        for hook in self.hooks:
            hook.remove()

    def _check(self, *_: object) -> None:
        if self.stop.is_set():
            raise Stopped("training step abandoned")

    def _quit_when_stopped(self, _module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        self._check()
        if output.requires_grad:
            output.register_hook(self._check)  # returns None: the gradient passes unchanged

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        if self.abandoned:
            return self.last
        before = {
            name: {k: v.detach().clone() for k, v in module.state_dict().items()}
            for name, module in self.detector._modules.items()
        }
        try:
            self.last = run_stoppable(lambda: self.task.train_step(batch, step), self.stop)
        except Stopped:
            self.abandoned = True
            self.detector._build()
            for name, module in self.detector._modules.items():
                module.load_state_dict(before[name])
        return self.last  # the trainer sees the stop and ends (this step is not counted by fit)


class _AutoencoderTask(TrainingTask):
    def __init__(self, model: ConvAutoencoder, config: AutoencoderConfig, generator: torch.Generator) -> None:
        self.model = model
        self.generator = generator
        self.optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        images = _augment(batch[0], self.generator)
        reconstruction = self.model(images)
        mse = F.mse_loss(reconstruction, images)
        structure = 1 - ssim_map(reconstruction, images).mean()
        loss = mse + structure
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()
        return {
            "loss": float(loss.detach()),
            "mse": float(mse.detach()),
            "ssim_loss": float(structure.detach()),
        }


class AutoencoderDetector(_NetworkDetector):
    """Convolutional autoencoder trained on normal images; the anomaly map is ``1 - SSIM`` of its repair."""

    kind = "autoencoder"

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        self.model: ConvAutoencoder | None = None

    def _build(self) -> None:
        self.model = ConvAutoencoder(ConvAutoencoderConfig(channels=tuple(self.config.channels)))

    @property
    def _modules(self) -> dict[str, nn.Module]:
        return {"autoencoder": self.model}

    def _task(self, generator: torch.Generator) -> TrainingTask:
        return _AutoencoderTask(self.model, self.config, generator)

    def _pixel_map(self, work_images: torch.Tensor) -> torch.Tensor:
        reconstruction = self.model(work_images)
        return (1 - ssim_map(work_images, reconstruction))[:, None]

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """The autoencoder's repair of ``images`` at the work resolution, ``(N, h, w, 3)``."""
        with torch.no_grad():
            return self.model(self._resize(self._check_size(images))).permute(0, 2, 3, 1).numpy()


class _DraemTask(TrainingTask):
    def __init__(self, detector: DraemDetector, generator: torch.Generator) -> None:
        self.detector = detector
        self.generator = generator
        bank = texture_bank(max(detector._work), exclude=tuple(detector.config.exclude_textures))
        self.synthesize = AnomalySynthesizer(bank, generator)
        # held here, not read from the detector per step: an abandoned step must keep to its own networks
        self.reconstructive, self.discriminative = detector.reconstructive, detector.discriminative
        parameters = list(self.reconstructive.parameters()) + list(self.discriminative.parameters())
        self.optimiser = torch.optim.Adam(parameters, lr=detector.config.learning_rate)

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        clean = _augment(batch[0], self.generator)
        anomalous, masks = self.synthesize(clean)
        reconstruction = self.reconstructive(anomalous)
        recon_loss = F.mse_loss(reconstruction, clean) + (1 - ssim_map(reconstruction, clean).mean())
        logits = self.discriminative(torch.cat([anomalous, reconstruction], dim=1))
        seg_loss = _focal_loss(logits, masks)
        loss = recon_loss + seg_loss
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()
        return {
            "loss": float(loss.detach()),
            "reconstruction": float(recon_loss.detach()),
            "segmentation": float(seg_loss.detach()),
        }


class DraemDetector(_NetworkDetector):
    """DRAEM-style pair: a reconstructive network repairs synthetic anomalies, a discriminative U-Net
    sees the image and its repair and draws the anomaly mask (Zavrtanik et al., ICCV 2021)."""

    kind = "draem"

    def __init__(self, config: DraemConfig | None = None) -> None:
        super().__init__()
        self.config = config or DraemConfig()
        self.reconstructive: ConvAutoencoder | None = None
        self.discriminative: UNet | None = None

    def _build(self) -> None:
        self.reconstructive = ConvAutoencoder(
            ConvAutoencoderConfig(channels=tuple(self.config.recon_channels))
        )
        self.discriminative = UNet(
            UNetConfig(in_channels=6, out_channels=1, channels=tuple(self.config.seg_channels))
        )

    @property
    def _modules(self) -> dict[str, nn.Module]:
        return {"reconstructive": self.reconstructive, "discriminative": self.discriminative}

    def _task(self, generator: torch.Generator) -> TrainingTask:
        return _DraemTask(self, generator)

    def _pixel_map(self, work_images: torch.Tensor) -> torch.Tensor:
        reconstruction = self.reconstructive(work_images)
        return torch.sigmoid(self.discriminative(torch.cat([work_images, reconstruction], dim=1)))

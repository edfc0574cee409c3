"""Patch statistics (PaDiM-style): a Gaussian of learned patch features, scored by Mahalanobis distance.

PaDiM (Defard et al., 2020) fits a Gaussian per feature-map location on ImageNet features. No pretrained
backbone can be downloaded here, so the features are learned from the normal images themselves: at
three scales, the responses to the principal components of colour patches (a one-layer PCA network)
and the log of their local energy, plus coarse chromaticity. Each location of a test image is scored by
its Mahalanobis distance to the Gaussian of normal features; the map is smoothed and the image score is
the mean of its highest 2 % of pixels (a single hottest pixel is noisier: on the built-in benchmark's
seed-1 sets the mean image AUROC was 0.940 with the maximum, 0.956 / 0.959 / 0.961 with the top
1 / 2 / 5 %; 2 % rather than 5 %, because a wider average would dilute small defects).

By default (``grouped``) each feature group (the responses of one scale, their energies, the
chromaticity) also has its own Gaussian, and the score is the largest of the group distances and
the joint one, each standardised on the normal images: a tint or a missing pattern then shows, where in
the joint distance over ~100 features the natural spread of all the others drowned it, and thin lines
on a regular pattern still show in the joint one (built-in benchmark at 256 px: mean image AUROC
0.89 joint only, 0.93 grouped only, gravel 0.70 -> 0.90, circuit 0.95 -> 0.87; both: see make bench).

Two ways to pool the statistics:
- ``"shared"`` (default): one Gaussian for every location. Right for textures and surfaces, where a
  patch may sit anywhere in a tile; it also estimates the covariance from far more samples.
- ``"per_location"``: one Gaussian per location, as in PaDiM. Right for aligned parts, where a
  feature is normal in one place and a defect in another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

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
from domains.manufacturing.stoppable import Stopped, run_stoppable
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = ["PatchStatsConfig", "PatchStatsDetector"]


@dataclass
class PatchStatsConfig:
    """Settings of the patch-statistics detector.

    Attributes:
        work_size: Longer image side the features are computed at (larger images are shrunk to it).
        scales: Downsampling factors of the feature pyramid.
        patch: Patch side, in pixels of each scale.
        components: Principal components kept per scale.
        pooling: ``"shared"`` Gaussian for every location, ``"per_location"`` (PaDiM), or ``"nearest"``
            (distance to the nearest remembered normal patch, PatchCore-style).
        energy_window: Window of the local energy features (0: none).
        chroma: Add coarse chromaticity features.
        grouped: Score each feature group apart too and take the largest standardised distance.
        memory: Normal patches remembered by ``"nearest"`` pooling.
        shrinkage: Ledoit-Wolf-style shrinkage of the covariance toward its diagonal, in [0, 1).
        smoothing: Gaussian blur of the anomaly map, in work-resolution pixels.
        image_top_share: Share of the map's highest pixels averaged into the image score (0: the maximum).
        max_fit_patches: Patches sampled per scale to learn the components.
        seed: Seeds the patch sample.
    """

    work_size: int = 256
    scales: tuple[int, ...] = (1, 2, 4)
    patch: int = 5
    components: int = 16
    pooling: Literal["shared", "per_location", "nearest"] = "shared"
    energy_window: int = 5
    chroma: bool = True
    grouped: bool = True
    memory: int = 20_000
    shrinkage: float = 0.01
    smoothing: float = 2.0
    image_top_share: float = 0.02
    max_fit_patches: int = 60_000
    seed: int = 0

    def __post_init__(self) -> None:
        self.scales = tuple(self.scales)
        if self.work_size < 32:
            raise InputError(f"work_size must be at least 32 pixels, got {self.work_size}")
        if self.components > 3 * self.patch**2:
            raise InputError(f"at most {3 * self.patch**2} components fit a {self.patch} px patch")
        if not 0 <= self.shrinkage < 1:
            raise InputError(f"shrinkage must be in [0, 1), got {self.shrinkage}")
        if not 0 <= self.image_top_share < 1:
            raise InputError(f"image_top_share must be in [0, 1), got {self.image_top_share}")


def _without_grad(work: Callable[[], Any]) -> Any:
    """``work()`` without autograd (``no_grad`` holds per thread, and phases run in their own)."""
    with torch.no_grad():
        return work()


class PatchStatsDetector(Detector):
    """Mahalanobis distance of multi-scale PCA patch features (see the module docstring)."""

    kind = "patch_stats"

    def __init__(self, config: PatchStatsConfig | None = None) -> None:
        self.config = config or PatchStatsConfig()
        self.filters: list[torch.Tensor] = []  # per scale: (components, 3, patch, patch)
        self.biases: list[torch.Tensor] = []  # per scale: (components,)
        self.mean = torch.empty(0)
        self.precision = torch.empty(0)
        self.group_precision = torch.empty(0)  # block-diagonal: each feature group on its own
        self.group_stats = torch.empty(0)  # per group: mean and spread of normal distances
        self.image_size = None

    # -- features ---------------------------------------------------------------------------------------
    def _pyramid(self, images: torch.Tensor) -> list[torch.Tensor]:
        work = F.interpolate(images, size=self._work, mode="bilinear", align_corners=False, antialias=True)
        return [work if s == 1 else F.avg_pool2d(work, s) for s in self.config.scales]

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, D, h, w)`` features on a grid of half the work resolution."""
        grid = (self._work[0] // 2, self._work[1] // 2)
        pad = self.config.patch // 2
        maps = []
        window = self.config.energy_window
        levels = self._pyramid(images)
        for level, weight, bias in zip(levels, self.filters, self.biases, strict=True):
            projected = F.conv2d(F.pad(level, (pad,) * 4, mode="reflect"), weight, bias)
            maps.append(F.interpolate(projected, size=grid, mode="bilinear", align_corners=False))
            if window:
                # Local energy of each response, in logs: a missing pattern (too little energy) is then
                # as far from normal as an extra one, which a Gaussian of the responses alone misses.
                energy = F.avg_pool2d(
                    projected**2, window, stride=1, padding=window // 2, count_include_pad=False
                )
                maps.append(F.interpolate(torch.log(energy + 1e-4), size=grid, mode="bilinear"))
        if self.config.chroma:
            # Chromaticity of the coarsest level: a tint (stain, rust) shows even where lighting changes.
            coarse = levels[-1]
            chroma = coarse / (coarse.sum(1, keepdim=True) + 1e-3)
            maps.append(F.interpolate(chroma[:, :2], size=grid, mode="bilinear", align_corners=False))
        return torch.cat(maps, dim=1)

    def _learn_filters(self, images: torch.Tensor) -> None:
        generator = torch.Generator().manual_seed(self.config.seed)
        k = self.config.patch
        self.filters, self.biases = [], []
        for level in self._pyramid(images):
            patches = F.unfold(level, k).transpose(1, 2).reshape(-1, 3 * k * k)
            take = torch.randperm(len(patches), generator=generator)[: self.config.max_fit_patches]
            sample = patches[take].double()
            centre = sample.mean(0)
            _, _, vectors = torch.linalg.svd(sample - centre, full_matrices=False)
            components = vectors[: self.config.components].float()
            self.filters.append(components.reshape(-1, 3, k, k).contiguous())
            self.biases.append(-(components @ centre.float()))

    # -- fitting ----------------------------------------------------------------------------------------
    def fit(
        self,
        normal_images: np.ndarray,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> FitReport:
        """Learn the patch filters and the Gaussian of normal features (seconds, no gradient steps).

        Each phase says when it starts and, while it runs long, that it is still busy; a stop ends
        the fit at once (an unfinished phase is abandoned) and leaves the detector unfitted.
        """
        images = check_images(normal_images, MIN_TRAIN_IMAGES)
        start = time.perf_counter()
        image_size = (images.shape[1], images.shape[2])
        self.image_size, self._work = None, work_shape(image_size, self.config.work_size)
        tensor = to_tensor(images)
        # steps: the filters, one per batch of features, the Gaussian
        total = 2 + -(-len(images) // 16)
        reached = [0]

        def phase(step: int, message: str, work: Callable[[], Any]) -> Any:
            reached[0] = step

            def report(waited: float | None = None) -> bool:
                said = message if waited is None else f"{message} ({waited:.0f} s)"
                progress = Progress(step, total, said, elapsed_s=time.perf_counter() - start)
                return should_stop(progress, on_progress, stop)

            if report():
                raise Stopped(message)
            return run_stoppable(lambda: _without_grad(work), stop, on_wait=report)

        try:
            phase(0, "learning the patch filters", lambda: self._learn_filters(tensor))
            batches = [
                phase(
                    1 + i // 16,
                    f"computing features: {i} of {len(tensor)} images",
                    partial(self._features, tensor[i : i + 16]),
                )
                for i in range(0, len(tensor), 16)
            ]
            features = torch.cat(batches)
            phase(total - 1, "fitting the Gaussian of normal features", lambda: self._fit_gaussian(features))
        except Stopped:
            return FitReport(reached[0], time.perf_counter() - start, "cancelled", [])
        self.image_size = image_size  # only a complete fit can score: a stopped one stays unfitted
        seconds = time.perf_counter() - start
        should_stop(Progress(total, total, "fitted the Gaussian", elapsed_s=seconds), on_progress, None)
        return FitReport(total, seconds, "steps", [])

    def _fit_gaussian(self, features: torch.Tensor) -> None:
        n, d, h, w = features.shape
        if self.config.pooling == "nearest":
            samples = features.permute(0, 2, 3, 1).reshape(-1, d)
            generator = torch.Generator().manual_seed(self.config.seed + 1)
            take = torch.randperm(len(samples), generator=generator)[: self.config.memory]
            self.mean = samples[take].contiguous()
            self.precision = torch.empty(0)
        elif self.config.pooling == "shared":
            samples = features.permute(0, 2, 3, 1).reshape(-1, d).double()
            self.mean = samples.mean(0).float()
            covariance = torch.cov(samples.T)
            self.precision = self._invert(covariance).float()
            if self.config.grouped:
                same_group = self._group_index()[:, None] == self._group_index()[None, :]
                # block-diagonal: one Gaussian per feature group, beside the joint one
                self.group_precision = self._invert(covariance * same_group).float()
                generator = torch.Generator().manual_seed(self.config.seed + 2)
                take = torch.randperm(len(samples), generator=generator)[:50_000]
                distances = self._group_distances(samples[take].float() - self.mean)
                self.group_stats = torch.stack([distances.mean(0), distances.std(0) + 1e-6])
        else:
            per_location = features.permute(2, 3, 0, 1).reshape(h * w, n, d).double()
            self.mean = per_location.mean(1).float()
            centred = per_location - per_location.mean(1, keepdim=True)
            covariance = centred.transpose(1, 2) @ centred / max(1, n - 1)
            self.precision = self._invert(covariance).float()

    def _group_index(self) -> torch.Tensor:
        """Feature group of each dimension: per scale, the responses and (if on) their energies; then
        chromaticity. Scored apart, a change in a few features (a tint, a missing pattern) is not
        drowned by the natural spread of the many others."""
        sizes = [self.config.components] * len(self.config.scales) * (2 if self.config.energy_window else 1)
        sizes += [2] if self.config.chroma else []
        return torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))

    def _group_distances(self, centred: torch.Tensor) -> torch.Tensor:
        """``(M, G + 1)`` Mahalanobis distance of each location within each feature group, and over all
        features jointly (last column: thin lines on a regular pattern show in the joint one)."""
        groups = self._group_index()
        contributions = (centred @ self.group_precision) * centred
        squared = torch.zeros(len(centred), int(groups.max()) + 1).index_add_(1, groups, contributions)
        joint = ((centred @ self.precision) * centred).sum(1, keepdim=True)
        return torch.cat([squared, joint], dim=1).clamp_min(0).sqrt()

    def _invert(self, covariance: torch.Tensor) -> torch.Tensor:
        diagonal = torch.diag_embed(torch.diagonal(covariance, dim1=-2, dim2=-1))
        shrunk = (1 - self.config.shrinkage) * covariance + self.config.shrinkage * diagonal
        eye = torch.eye(covariance.shape[-1], dtype=covariance.dtype)
        return torch.linalg.inv(shrunk + 1e-6 * eye)

    # -- scoring ----------------------------------------------------------------------------------------
    def score(self, images: np.ndarray) -> AnomalyScores:
        """Mahalanobis anomaly maps at the input resolution; the image score is the mean of the map's
        highest ``image_top_share`` of pixels."""
        images = self._check_size(images)
        maps, scores = [], []
        with torch.no_grad():
            for start in range(0, len(images), 16):
                batch = self._score_batch(to_tensor(images[start : start + 16]))
                maps.append(batch.numpy())
                scores.append(self._image_scores(batch))
        return AnomalyScores(np.concatenate(scores), np.concatenate(maps).astype(np.float32))

    def _image_scores(self, maps: torch.Tensor) -> np.ndarray:
        flat = maps.flatten(1)  # (N, H*W)
        top = max(1, round(flat.shape[1] * self.config.image_top_share))
        return flat.topk(top, dim=1).values.mean(1).numpy()

    def _score_batch(self, images: torch.Tensor) -> torch.Tensor:
        features = self._features(images)
        n, d, h, w = features.shape
        if self.config.pooling == "nearest":
            queries = features.permute(0, 2, 3, 1).reshape(-1, d)
            distance = self._nearest_squared(queries).reshape(n, 1, h, w)
        elif self.config.pooling == "shared" and self.config.grouped:
            centred = features.permute(0, 2, 3, 1).reshape(-1, d) - self.mean
            standard = (self._group_distances(centred) - self.group_stats[0]) / self.group_stats[1]
            distance = standard.amax(1).clamp_min(0).square().reshape(n, 1, h, w)
        elif self.config.pooling == "shared":
            centred = features.permute(0, 2, 3, 1).reshape(-1, d) - self.mean
            distance = ((centred @ self.precision) * centred).sum(1).reshape(n, 1, h, w)
        else:
            centred = features.permute(2, 3, 0, 1).reshape(h * w, n, d) - self.mean[:, None, :]
            distance = ((centred @ self.precision) * centred).sum(2).T.reshape(n, 1, h, w)
        distance = distance.clamp_min(0).sqrt()
        upsampled = F.interpolate(distance, size=self.image_size, mode="bilinear", align_corners=False)
        sigma = self.config.smoothing * self.image_size[0] / self._work[0]
        return gaussian_blur(upsampled, sigma)[:, 0]

    def _nearest_squared(self, queries: torch.Tensor) -> torch.Tensor:
        """Squared distance of each query to its nearest remembered normal patch (chunked matrix products)."""
        memory_norms = (self.mean**2).sum(1)
        out = []
        for chunk in queries.split(1024):
            products = chunk @ self.mean.T
            squared = (chunk**2).sum(1, keepdim=True) - 2 * products + memory_norms
            out.append(squared.amin(1))
        return torch.cat(out)

    # -- persistence ------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        tensors = {"mean": self.mean, "precision": self.precision}
        if self.config.grouped and self.config.pooling == "shared":
            tensors.update(group_precision=self.group_precision, group_stats=self.group_stats)
        for i, (weight, bias) in enumerate(zip(self.filters, self.biases, strict=True)):
            tensors[f"filters.{i}"] = weight
            tensors[f"biases.{i}"] = bias
        return tensors

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        levels = len(self.config.scales)
        self.filters = [state[f"filters.{i}"] for i in range(levels)]
        self.biases = [state[f"biases.{i}"] for i in range(levels)]
        self.mean, self.precision = state["mean"], state["precision"]
        self.group_precision = state.get("group_precision", torch.empty(0))
        self.group_stats = state.get("group_stats", torch.empty(0))

    def _restore(self, folder: str | Path, image_size: list[int]) -> None:
        super()._restore(folder, image_size)
        self._work = work_shape(self.image_size, self.config.work_size)

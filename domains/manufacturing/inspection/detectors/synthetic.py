"""Synthetic anomalies for training discriminative detectors (DRAEM, Zavrtanik et al., ICCV 2021).

A normal image gets a blob-shaped patch of something else: a foreign texture, a shifted and recoloured
copy of itself, a translucent stain-like tint, or a flat colour, blended with a random opacity. The blob
masks are thresholded smooth noise at random scales (the Perlin-noise masks of DRAEM). These recipes are
generic and independent of the benchmark's defect generator (`defects.py`), so a detector trained on them
and scored on the benchmark is not shown the test defects.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["AnomalySynthesizer", "texture_bank"]


@cache
def _bank_images() -> tuple[np.ndarray, ...]:
    """Foreign textures: the built-in surface sheets and photographs shipped in skimage."""
    from skimage import data

    from domains.manufacturing.inspection.surfaces import SURFACES, surface_sheet

    sheets = [surface_sheet(name) for name in SURFACES]
    photos = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "moon", "text", "coins"):
        image = getattr(data, name)().astype(np.float32) / 255.0
        photos.append(np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3])
    return tuple(sheets + photos)


def texture_bank(size: int, exclude: tuple[str, ...] = ()) -> torch.Tensor:
    """``(K, 3, size*2, size*2)`` foreign textures to cut anomaly fills from.

    ``exclude`` names built-in surfaces to leave out (the one being learned: its own texture is normal).
    """
    from domains.manufacturing.inspection.surfaces import SURFACES

    names = list(SURFACES) + [f"photo{i}" for i in range(8)]
    side = 2 * size
    tiles = []
    for name, image in zip(names, _bank_images(), strict=True):
        if name in exclude:
            continue
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
        tiles.append(F.interpolate(tensor, size=(side, side), mode="bilinear", antialias=True)[0])
    return torch.stack(tiles)


class AnomalySynthesizer:
    """Adds synthetic anomalies to batches of normal images (``(N, 3, H, W)`` in [0, 1])."""

    def __init__(self, bank: torch.Tensor, generator: torch.Generator, clean_fraction: float = 0.5) -> None:
        self.bank = bank
        self.generator = generator
        self.clean_fraction = clean_fraction

    def _uniform(self, *shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=self.generator)

    def _integer(self, low: int, high: int) -> int:
        return int(torch.randint(low, high, (1,), generator=self.generator))

    def masks(self, count: int, height: int, width: int) -> torch.Tensor:
        """``(count, 1, H, W)`` binary blob masks from thresholded smooth noise (a few % of the image)."""
        out = torch.zeros(count, 1, height, width)
        for i in range(count):
            cell = 2 ** self._integer(2, 6)  # noise scale: 4 to 32 pixels
            grid = torch.rand(1, 1, height // cell + 2, width // cell + 2, generator=self.generator)
            noise = F.interpolate(grid, size=(height, width), mode="bicubic", align_corners=False)
            cover = float(self._uniform(1, low=0.005, high=0.12))
            threshold = torch.quantile(noise.flatten(), 1 - cover)
            out[i] = (noise > threshold).float()[0]
        return out

    def _fills(self, images: torch.Tensor) -> torch.Tensor:
        count, _, height, width = images.shape
        fills = torch.empty_like(images)
        for i in range(count):
            recipe = self._integer(0, 4)
            if recipe == 0:  # foreign texture, colour-jittered
                source = self.bank[self._integer(0, len(self.bank))]
                top, left = (
                    self._integer(0, source.shape[1] - height + 1),
                    self._integer(0, source.shape[2] - width + 1),
                )
                fill = source[:, top : top + height, left : left + width]
                fill = fill * self._uniform(3, 1, 1, low=0.6, high=1.4) + self._uniform(1, low=-0.2, high=0.2)
            elif recipe == 1:  # the image itself, moved and recoloured
                shift = (self._integer(height // 8, height // 2), self._integer(width // 8, width // 2))
                fill = torch.roll(images[i], shift, dims=(1, 2)).flip(-1)
                fill = fill * self._uniform(3, 1, 1, low=0.5, high=1.5)
            elif recipe == 2:  # translucent stain: a tint of the image itself
                fill = images[i] * self._uniform(3, 1, 1, low=0.3, high=1.2)
            else:  # flat colour
                fill = self._uniform(3, 1, 1).expand(3, height, width)
            fills[i] = fill.clamp(0, 1)
        return fills

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(anomalous images, ``(N, 1, H, W)`` masks); about ``clean_fraction`` of images stay clean."""
        count, _, height, width = images.shape
        masks = self.masks(count, height, width)
        clean = torch.rand(count, generator=self.generator) < self.clean_fraction
        masks[clean] = 0.0
        opacity = self._uniform(count, 1, 1, 1, low=0.15, high=1.0)
        blended = images * (1 - opacity * masks) + self._fills(images) * opacity * masks
        return blended, masks

"""Image outputs of the generative core: the `GenerationOutput` dataclass, grids and PNG bytes."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from shared_models.exceptions import InputError

__all__ = ["IMAGE_SIZES", "GenerationOutput", "make_grid", "resolution_levels", "to_png"]

IMAGE_SIZES = (28, 32, 64)


def resolution_levels(image_size: int) -> tuple[int, int]:
    """(start resolution, number of x2 steps) of the conv stacks: 7->28 in 2, 4->32 in 3, 4->64 in 4.

    Raises:
        InputError: A size the networks are not built for.
    """
    if image_size not in IMAGE_SIZES:
        raise InputError(f"image_size must be one of {IMAGE_SIZES}, got {image_size}")
    start = 7 if image_size == 28 else 4
    return start, int(math.log2(image_size // start))


@dataclass
class GenerationOutput:
    """Images a model generated.

    Attributes:
        images: ``(N, C, H, W)`` float32 in [0, 1].
        labels: ``(N,)`` class each image was conditioned on, if any.
        latents: ``(N, D)`` latent codes used.
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    latents: torch.Tensor | None = None


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in [0, 1] into one ``(H', W', 3)`` uint8 array."""
    images = images.detach().float().clamp(0, 1).cpu()
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    count, _, height, width = images.shape
    nrow = nrow or math.ceil(math.sqrt(count))
    rows = math.ceil(count / nrow)
    grid = torch.ones(3, rows * (height + padding) + padding, nrow * (width + padding) + padding)
    for i in range(count):
        r, c = divmod(i, nrow)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[:, top : top + height, left : left + width] = images[i]
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def to_png(array: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of an ``(H, W, 3)`` uint8 array, optionally enlarged with crisp pixels."""
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

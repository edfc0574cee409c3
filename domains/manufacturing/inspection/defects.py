"""Synthetic defects with exact pixel masks: scratch, crack, hole, stain, contamination, fold, missing print.

Each defect is drawn onto a normal tile as an alpha layer; the mask is where that layer visibly changes
the tile (alpha above a small cut-off), so the ground truth covers the defect and nothing else. Sizes
scale with the tile, so a 64 px test tile and a 256 px benchmark tile get comparable defects.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from shared_models.exceptions import InputError

__all__ = ["DEFECT_TYPES", "add_defect"]

MASK_CUTOFF = 0.15  # alpha above which a pixel counts as defective


def _polyline(rng: np.random.Generator, size: int, length: float, wiggle: float) -> np.ndarray:
    """Points of a random smooth path of about ``length`` pixels inside the tile, shape (n, 2)."""
    steps = max(8, int(length))
    start = rng.uniform(0.2 * size, 0.8 * size, size=2)
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, wiggle, steps))
    path = start + np.cumsum(np.stack([np.sin(heading), np.cos(heading)], axis=1), axis=0)
    return np.clip(path, 0, size - 1)


def _stroke(size: int, points: np.ndarray, width: float) -> np.ndarray:
    """Soft alpha of a stroke of ``width`` pixels along ``points``."""
    canvas = np.zeros((size, size), dtype=np.float32)
    rows, cols = np.round(points).astype(int).T
    canvas[rows, cols] = 1.0
    distance = ndimage.distance_transform_edt(canvas == 0)
    return np.clip(width / 2 + 0.5 - distance, 0, 1).astype(np.float32)


def _blob(rng: np.random.Generator, size: int, radius: float, roughness: float) -> np.ndarray:
    """Soft alpha of an irregular blob of about ``radius`` pixels somewhere inside the tile."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = rng.uniform(radius + 2, size - radius - 2, size=2)
    angle = np.arctan2(y - cy, x - cx)
    wobble = sum(
        rng.uniform(0, roughness) * np.cos(k * angle + rng.uniform(0, 2 * np.pi)) for k in range(2, 6)
    )
    edge = radius * (1 + wobble) * rng.uniform(0.7, 1.3) ** np.cos(angle)  # slightly elongated
    return np.clip((edge - np.hypot(y - cy, x - cx)) / 2.0 + 0.5, 0, 1).astype(np.float32)


def _blend(tile: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return tile * (1 - alpha[..., None]) + colour * alpha[..., None]


def _scratch(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = tile.shape[0]
    alpha = _stroke(size, _polyline(rng, size, rng.uniform(0.25, 0.6) * size, 0.03), max(1.0, size / 128))
    bright = rng.random() < 0.6  # most scratches catch the light
    colour = np.clip(tile.mean((0, 1)) + (0.35 if bright else -0.3), 0, 1)
    return _blend(tile, colour, 0.85 * alpha), alpha


def _crack(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = tile.shape[0]
    trunk = _polyline(rng, size, rng.uniform(0.2, 0.45) * size, 0.35)
    branch_at = trunk[rng.integers(len(trunk) // 3, len(trunk))]
    branch = np.clip(branch_at + np.cumsum(rng.normal(0, 1, (len(trunk) // 3, 2)), 0), 0, size - 1)
    alpha = np.maximum(_stroke(size, trunk, max(1.5, size / 90)), _stroke(size, branch, max(1.0, size / 160)))
    return _blend(tile, tile.mean((0, 1)) * 0.15, 0.9 * alpha), alpha


def _hole(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = tile.shape[0]
    alpha = _blob(rng, size, rng.uniform(0.025, 0.06) * size, 0.05)
    depth = np.clip(ndimage.distance_transform_edt(alpha > 0.5) / (0.03 * size), 0, 1)
    inside = np.stack([0.05 + 0.12 * (1 - depth)] * 3, axis=-1)  # dark, lighter rim
    out = tile * (1 - alpha[..., None]) + inside * alpha[..., None]
    return out, alpha


def _stain(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = tile.shape[0]
    alpha = ndimage.gaussian_filter(_blob(rng, size, rng.uniform(0.07, 0.15) * size, 0.2), size / 100)
    hue = rng.choice([[0.45, 0.3, 0.1], [0.2, 0.2, 0.25], [0.6, 0.55, 0.2]])  # rust, oil, water ring
    strength = rng.uniform(0.35, 0.55)  # low contrast: the surface still shows through
    return _blend(tile, tile * np.asarray(hue, dtype=np.float32) * 1.6, strength * alpha), alpha


def _contamination(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = tile.shape[0]
    centre = rng.uniform(0.2 * size, 0.8 * size, size=2)
    spread = rng.uniform(0.02, 0.05) * size
    canvas = np.zeros((size, size), dtype=np.float32)
    for _ in range(int(rng.integers(6, 16))):
        row, col = np.clip(np.round(centre + rng.normal(0, spread, 2)).astype(int), 0, size - 1)
        canvas[row, col] = rng.uniform(1, 2.5) * max(1.0, size / 128)
    grains = ndimage.grey_dilation(canvas, size=3)
    distance = ndimage.distance_transform_edt(grains == 0)
    alpha = np.clip(1.5 - distance / max(1.0, size / 128), 0, 1).astype(np.float32)
    palette = [[0.08, 0.07, 0.06], [0.95, 0.95, 0.9], [0.3, 0.2, 0.5]]  # soot, dust, fibre
    colour = np.asarray(rng.choice(palette), dtype=np.float32)
    return _blend(tile, colour, 0.9 * alpha), alpha


def _fold(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A crease: the surface is pushed sideways along a line, with a dark and a bright flank."""
    size = tile.shape[0]
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    cy, cx = rng.uniform(0.3 * size, 0.7 * size, size=2)
    signed = np.cos(angle) * (x - cx) + np.sin(angle) * (y - cy)  # across the crease
    along = -np.sin(angle) * (x - cx) + np.cos(angle) * (y - cy)
    half_length = rng.uniform(0.2, 0.4) * size
    extent = np.clip((half_length - np.abs(along)) / (0.05 * size), 0, 1)
    width = rng.uniform(0.015, 0.03) * size
    profile = np.exp(-0.5 * (signed / width) ** 2) * extent
    shift = 2.5 * width * profile**2  # squared: the push fades out before the mask edge
    source = [y - np.sin(angle) * shift, x - np.cos(angle) * shift]
    warped = np.stack([ndimage.map_coordinates(tile[..., c], source, order=1) for c in range(3)], axis=-1)
    shading = 1 + 0.45 * np.tanh(signed / width) * profile
    out = np.clip(warped * shading[..., None], 0, 1)
    return out, profile.astype(np.float32)


def _missing_print(tile: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The pattern is absent in a patch: only the local average colour is left."""
    size = tile.shape[0]
    height, width = (rng.uniform(0.08, 0.2, size=2) * size).astype(int) + 2
    top, left = rng.integers(0, size - height), rng.integers(0, size - width)
    alpha = np.zeros((size, size), dtype=np.float32)
    alpha[top : top + height, left : left + width] = 1.0
    alpha = ndimage.gaussian_filter(alpha, 1.0)
    plain = ndimage.gaussian_filter(tile, (size / 16, size / 16, 0))
    return _blend(tile, plain, alpha), alpha


DEFECT_TYPES: dict[str, Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "scratch": _scratch,
    "crack": _crack,
    "hole": _hole,
    "stain": _stain,
    "contamination": _contamination,
    "fold": _fold,
    "missing_print": _missing_print,
}


def add_defect(tile: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw one defect of ``kind`` on a copy of ``tile`` ``(H, W, 3)``; return (image, bool mask).

    The mask marks the pixels the defect changed visibly (its alpha above `MASK_CUTOFF`).
    """
    if kind not in DEFECT_TYPES:
        raise InputError(f"unknown defect type {kind!r}; known: {', '.join(DEFECT_TYPES)}")
    image, alpha = DEFECT_TYPES[kind](tile.astype(np.float32), rng)
    mask = alpha > MASK_CUTOFF
    return np.clip(image, 0, 1).astype(np.float32), mask

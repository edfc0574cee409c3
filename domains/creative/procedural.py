"""Built-in styles the module draws itself (no files, no downloads): stained glass, ink hatching,
pointillism, a swirling flow field of brush strokes, and a tile mosaic.

Each is a pure function of (size, seed), so a style named in a saved run can be redrawn exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial import cKDTree

from shared_models.exceptions import InputError

__all__ = ["PROCEDURAL_STYLES", "draw_style"]

# Palettes (RGB 0-255) chosen per style so each reads as a distinct look.
JEWEL = [(178, 34, 52), (0, 84, 147), (255, 191, 0), (34, 139, 34), (106, 27, 154), (230, 115, 0)]
NIGHT = [(14, 30, 82), (32, 72, 150), (70, 130, 200), (150, 190, 220), (240, 210, 90), (250, 240, 170)]
MEADOW = [(40, 90, 160), (90, 160, 210), (240, 200, 60), (230, 120, 50), (60, 140, 70), (200, 80, 120)]
TERRACOTTA = [(180, 80, 40), (220, 170, 90), (60, 100, 120), (240, 230, 210), (120, 60, 40), (40, 60, 70)]


def _smooth_field(size: int, rng: np.random.Generator, cells: int = 5) -> np.ndarray:
    """Low-frequency noise in [0, 1], ``(size, size)``."""
    coarse = rng.random((cells, cells))
    field = ndimage.zoom(coarse, size / cells, order=3)[:size, :size]
    field = (field - field.min()) / (np.ptp(field) + 1e-9)
    return field


def _palette_at(field: np.ndarray, palette: list[tuple[int, int, int]]) -> np.ndarray:
    """Map values in [0, 1] to colours interpolated along a palette, ``(..., 3)`` 0-255."""
    stops = np.linspace(0, 1, len(palette))
    colours = np.asarray(palette, dtype=np.float32)
    return np.stack([np.interp(field, stops, colours[:, c]) for c in range(3)], axis=-1)


def stained_glass(size: int, rng: np.random.Generator) -> np.ndarray:
    points = rng.random((max(12, size * size // 2500), 2)) * size
    yy, xx = np.mgrid[0:size, 0:size]
    _, label = cKDTree(points).query(np.stack([yy.ravel(), xx.ravel()], axis=1))
    label = label.reshape(size, size)
    colours = np.asarray(JEWEL, dtype=np.float32)[rng.integers(0, len(JEWEL), len(points))]
    shade = 0.75 + 0.25 * _smooth_field(size, rng, cells=9)
    image = colours[label] * shade[..., None]
    lead = (np.diff(label, axis=0, prepend=label[:1]) != 0) | (
        np.diff(label, axis=1, prepend=label[:, :1]) != 0
    )
    lead = ndimage.binary_dilation(lead, iterations=max(1, size // 170))
    image[lead] = (25, 22, 20)
    return image


def ink_hatching(size: int, rng: np.random.Generator) -> np.ndarray:
    tone = _smooth_field(size, rng, cells=6)
    paper = Image.new("RGB", (size, size), (244, 238, 222))
    draw = ImageDraw.Draw(paper)
    spacing = max(3, size // 70)
    layers = [(0.25, 45), (0.5, -45), (0.72, 0)]  # darker tone -> more crossing layers
    for threshold, angle in layers:
        theta = np.deg2rad(angle)
        direction = np.array([np.cos(theta), np.sin(theta)])
        normal = np.array([-direction[1], direction[0]])
        for offset in np.arange(-size, 2 * size, spacing):
            start = normal * offset + np.array([size / 2, size / 2]) - direction * size
            for t in np.arange(0, 2 * size, max(4, size // 40)):
                a = start + direction * t
                b = a + direction * max(4, size // 40) * rng.uniform(0.6, 1.0)
                cx, cy = int(np.clip(a[0], 0, size - 1)), int(np.clip(a[1], 0, size - 1))
                inside = 0 <= a[0] < size and 0 <= a[1] < size
                if inside and tone[cy, cx] > threshold:
                    draw.line([tuple(a), tuple(b)], fill=(28, 26, 34), width=1 + size // 400)
    return np.asarray(paper, dtype=np.float32)


def pointillism(size: int, rng: np.random.Generator) -> np.ndarray:
    field = _smooth_field(size, rng, cells=4)
    base = _palette_at(field, MEADOW)
    canvas = Image.new("RGB", (size, size), (250, 248, 240))
    draw = ImageDraw.Draw(canvas)
    radius = max(2, size // 110)
    for _ in range(size * size // (radius * radius * 2)):
        x, y = rng.random(2) * size
        colour = base[int(y), int(x)] + rng.normal(0, 28, 3)
        r = radius * rng.uniform(0.7, 1.3)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in np.clip(colour, 0, 255)))
    return np.asarray(canvas, dtype=np.float32)


def swirl(size: int, rng: np.random.Generator) -> np.ndarray:
    """Short brush strokes following a swirling (curl-noise) flow field, in night-sky colours."""
    potential = ndimage.gaussian_filter(_smooth_field(size, rng, cells=5), 2)
    gy, gx = np.gradient(potential)
    norm = np.hypot(gx, gy) + 1e-9
    flow_x, flow_y = gy / norm, -gx / norm  # curl: strokes run along the level lines
    tone = _smooth_field(size, rng, cells=4)
    canvas = Image.fromarray(_palette_at(tone * 0.5, NIGHT).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    step, width = max(2, size // 128), max(2, size // 110)
    for _ in range(size * size // (width * step * 10)):
        x, y = rng.random(2) * (size - 1)
        colour = _palette_at(np.clip(tone[int(y), int(x)] + rng.normal(0, 0.18), 0, 1), NIGHT)
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 10))):
            ix, iy = int(np.clip(x, 0, size - 1)), int(np.clip(y, 0, size - 1))
            x, y = x + flow_x[iy, ix] * step, y + flow_y[iy, ix] * step
            points.append((x, y))
        draw.line(points, fill=tuple(int(v) for v in colour), width=width)
    return np.asarray(canvas, dtype=np.float32)


def mosaic(size: int, rng: np.random.Generator) -> np.ndarray:
    tile = max(6, size // 32)
    field = _palette_at(_smooth_field(size, rng, cells=4), TERRACOTTA)
    image = np.empty((size, size, 3), np.float32)
    image[:] = (200, 196, 186)  # grout
    grout = max(1, tile // 7)
    for top in range(0, size, tile):
        shift = int(rng.integers(0, tile // 2)) if (top // tile) % 2 else 0
        for left in range(-shift, size, tile):
            y0, x0 = top + grout, max(0, left + grout)
            y1, x1 = min(size, top + tile - grout), min(size, left + tile - grout)
            if y1 <= y0 or x1 <= x0:
                continue
            colour = field[min(size - 1, (y0 + y1) // 2), min(size - 1, (x0 + x1) // 2)]
            image[y0:y1, x0:x1] = np.clip(colour + rng.normal(0, 18, 3), 0, 255)
    return image


PROCEDURAL_STYLES: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "stained_glass": stained_glass,
    "ink_hatching": ink_hatching,
    "pointillism": pointillism,
    "swirl": swirl,
    "mosaic": mosaic,
}


def draw_style(name: str, size: int = 512, seed: int = 0) -> np.ndarray:
    """Draw a built-in style as ``(size, size, 3)`` float32 RGB in [0, 1].

    Raises:
        InputError: Unknown style name (the message lists the available ones).
    """
    if name not in PROCEDURAL_STYLES:
        raise InputError(f"unknown built-in style {name!r}; available: {sorted(PROCEDURAL_STYLES)}")
    image = PROCEDURAL_STYLES[name](size, np.random.default_rng(seed))
    return (image / 255.0).clip(0, 1).astype(np.float32)

"""Normal surfaces of the built-in inspection benchmark: real textures and procedural ones.

Real textures ship inside `skimage.data` (brick, grass, gravel: 512 x 512 grey photographs); the
procedural ones (brushed metal, woven fabric, wood grain, printed circuit traces, painted panel) are
drawn here from a seed. A tile is a crop of a larger sheet of the surface at a random position, under
random lighting (a smooth gain field and an exposure offset), so that no two normal tiles are the same
and a detector must learn the surface, not memorise pixels.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import ndimage

from shared_models.exceptions import InputError

__all__ = ["SURFACES", "Surface", "make_tiles", "surface_sheet"]

SHEET_SIZE = 512


@dataclass(frozen=True)
class Surface:
    """One kind of normal surface.

    Attributes:
        name: Identifier used by the CLI and the page.
        title: Human-readable name.
        source: Where it comes from ("skimage.data" or "procedural").
        tint: RGB multiplier giving a grey photograph its material colour.
    """

    name: str
    title: str
    source: str
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise rescaled to zero mean, unit standard deviation."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-8)


def _grey_photo(name: str) -> Callable[[np.random.Generator], np.ndarray]:
    def load(_: np.random.Generator) -> np.ndarray:
        from skimage import data

        return getattr(data, name)().astype(np.float32) / 255.0

    return load


def _brushed_metal(rng: np.random.Generator) -> np.ndarray:
    size = SHEET_SIZE
    streaks = ndimage.gaussian_filter(rng.standard_normal((size, size)), (0.6, 40.0), mode="wrap")
    streaks /= streaks.std() + 1e-8
    sheen = 0.06 * np.sin(np.linspace(0, 2 * np.pi, size))[None, :]
    return np.clip(0.62 + 0.05 * streaks + sheen, 0, 1)


def _woven_fabric(rng: np.random.Generator) -> np.ndarray:
    size, period = SHEET_SIZE, 8
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    warp = 0.5 + 0.5 * np.cos(2 * np.pi * x / period)  # vertical threads
    weft = 0.5 + 0.5 * np.cos(2 * np.pi * y / period)  # horizontal threads
    over = ((x // period + y // period) % 2).astype(np.float32)  # which thread lies on top
    weave = over * warp + (1 - over) * weft
    fibres = 0.04 * _smooth_noise(rng, (size, size), 0.8)
    return np.clip(0.35 + 0.35 * weave + fibres, 0, 1)


def _wood_grain(rng: np.random.Generator) -> np.ndarray:
    size = SHEET_SIZE
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    centre_y = -3.0 * size  # a far-away pith: rings run almost straight across the board
    radius = np.hypot(x - size / 2, y - centre_y)
    turbulence = 6.0 * _smooth_noise(rng, (size, size), 24.0)
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (radius + turbulence) / 14.0)
    fibres = 0.03 * ndimage.gaussian_filter(rng.standard_normal((size, size)), (0.5, 6.0))
    return np.clip(0.45 + 0.2 * rings**3 + fibres / (fibres.std() + 1e-8) * 0.03, 0, 1)


def _circuit(rng: np.random.Generator) -> np.ndarray:
    """Manhattan copper traces with pads on a board; one fixed layout per sheet."""
    size, pitch = SHEET_SIZE, 16
    board = np.zeros((size, size), dtype=np.float32)
    cells = size // pitch
    for _ in range(70):
        row, col = rng.integers(1, cells - 1, size=2)
        for _ in range(int(rng.integers(2, 6))):
            length = int(rng.integers(2, 8))
            if rng.random() < 0.5:
                end = int(np.clip(col + rng.choice([-1, 1]) * length, 1, cells - 2))
                lo, hi = sorted((col, end))
                board[row * pitch - 2 : row * pitch + 2, lo * pitch : hi * pitch + 1] = 1.0
                col = end
            else:
                end = int(np.clip(row + rng.choice([-1, 1]) * length, 1, cells - 2))
                lo, hi = sorted((row, end))
                board[lo * pitch : hi * pitch + 1, col * pitch - 2 : col * pitch + 2] = 1.0
                row = end
            board[row * pitch - 4 : row * pitch + 5, col * pitch - 4 : col * pitch + 5] = 1.0  # pad
    return ndimage.gaussian_filter(board, 0.7)


def _painted_panel(rng: np.random.Generator) -> np.ndarray:
    orange_peel = 0.025 * _smooth_noise(rng, (SHEET_SIZE, SHEET_SIZE), 2.0)
    return np.clip(0.55 + orange_peel, 0, 1)


_CIRCUIT_BOARD = np.array([0.10, 0.38, 0.18], dtype=np.float32)
_CIRCUIT_COPPER = np.array([0.85, 0.66, 0.30], dtype=np.float32)

SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface("brick", "Brick wall", "skimage.data", (1.15, 0.78, 0.62)),
        Surface("grass", "Grass", "skimage.data", (0.75, 1.05, 0.55)),
        Surface("gravel", "Gravel", "skimage.data", (1.0, 0.97, 0.9)),
        Surface("brushed_metal", "Brushed metal", "procedural", (0.95, 0.97, 1.0)),
        Surface("woven_fabric", "Woven fabric", "procedural", (0.45, 0.6, 1.05)),
        Surface("wood_grain", "Wood grain", "procedural", (1.2, 0.85, 0.55)),
        Surface("circuit", "Printed circuit traces", "procedural"),
        Surface("painted_panel", "Painted panel", "procedural", (0.35, 0.55, 0.95)),
    )
}

_SHEETS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "brick": _grey_photo("brick"),
    "grass": _grey_photo("grass"),
    "gravel": _grey_photo("gravel"),
    "brushed_metal": _brushed_metal,
    "woven_fabric": _woven_fabric,
    "wood_grain": _wood_grain,
    "circuit": _circuit,
    "painted_panel": _painted_panel,
}


@cache
def surface_sheet(name: str, seed: int = 0) -> np.ndarray:
    """The ``(512, 512, 3)`` float32 sheet that tiles of surface ``name`` are cut from."""
    if name not in SURFACES:
        raise InputError(f"unknown surface {name!r}; built-in surfaces: {', '.join(SURFACES)}")
    grey = _SHEETS[name](np.random.default_rng([seed, 7919])).astype(np.float32)
    if name == "circuit":
        rgb = _CIRCUIT_BOARD + grey[..., None] * (_CIRCUIT_COPPER - _CIRCUIT_BOARD)
    else:
        rgb = grey[..., None] * np.array(SURFACES[name].tint, dtype=np.float32)
    rgb = np.clip(rgb, 0, 1).astype(np.float32)
    rgb.setflags(write=False)  # cached: callers must copy
    return rgb


def _lighting(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth multiplicative gain field: a tilted plane times a gentle blob, about 0.85-1.15."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    plane = rng.uniform(0.0, 0.16) * (np.cos(angle) * x + np.sin(angle) * y)
    exposure = rng.uniform(0.92, 1.08)
    return (exposure * (1 + plane))[..., None].astype(np.float32)


def make_tiles(name: str, count: int, size: int = 256, seed: int = 0) -> np.ndarray:
    """``count`` normal tiles ``(count, size, size, 3)`` of surface ``name``, reproducible from ``seed``.

    Each tile is cut at a random position of the surface sheet (real photographs are additionally
    mirrored at random) and lit by a random smooth gain field.
    """
    if not 16 <= size <= SHEET_SIZE // 2:
        raise InputError(f"tile size must be between 16 and {SHEET_SIZE // 2} pixels, got {size}")
    sheet = surface_sheet(name)
    rng = np.random.default_rng([seed, 104729, zlib.crc32(name.encode())])
    # Tiles are cut at the working size from a sheet scaled so a tile always covers a 256 px field:
    # smaller tiles show the same surface at lower resolution, not a zoomed-in corner.
    scale = size / (SHEET_SIZE // 2)
    if scale != 1.0:
        sheet = ndimage.zoom(sheet, (scale, scale, 1), order=1)
    span = sheet.shape[0] - size
    tiles = np.empty((count, size, size, 3), dtype=np.float32)
    for i in range(count):
        top, left = rng.integers(0, span + 1, size=2)
        tile = sheet[top : top + size, left : left + size]
        if SURFACES[name].source == "skimage.data" and rng.random() < 0.5:
            tile = tile[:, ::-1]
        tiles[i] = np.clip(tile * _lighting(rng, size), 0, 1)
    return tiles

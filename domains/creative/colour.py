"""Colour tools of style transfer: Lab conversion, Reinhard transfer, sliced optimal-transport matching,
per-channel histogram matching, and "keep original colours" (luminance-only stylisation).

Images are ``(H, W, 3)`` float32 RGB in [0, 1] throughout the package.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from skimage import color

__all__ = [
    "ColourMethod",
    "from_lab",
    "keep_colours",
    "match_histograms",
    "match_palette",
    "reinhard",
    "sliced_ot_transfer",
    "to_lab",
    "transfer_colour",
]

ColourMethod = Literal["reinhard", "sliced-ot"]
LOOKUP_STEPS = 8192  # table size of `_quantile_map`: steps of about 2e-4 over a colour axis


def to_lab(image: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] -> CIE Lab (L in [0, 100])."""
    return color.rgb2lab(np.clip(image, 0, 1)).astype(np.float32)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """CIE Lab -> RGB in [0, 1] (out-of-gamut values clipped)."""
    with warnings.catch_warnings():  # out-of-gamut Lab values are expected after transfer; clipped below
        warnings.simplefilter("ignore", UserWarning)
        rgb = color.lab2rgb(lab.astype(np.float64))
    return np.clip(rgb, 0, 1).astype(np.float32)


def reinhard(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Reinhard et al. (2001): match each Lab channel's mean and standard deviation to the style's."""
    source, target = to_lab(content), to_lab(style)
    mu_s, sd_s = source.reshape(-1, 3).mean(0), source.reshape(-1, 3).std(0) + 1e-6
    mu_t, sd_t = target.reshape(-1, 3).mean(0), target.reshape(-1, 3).std(0)
    return from_lab((source - mu_s) / sd_s * sd_t + mu_t)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def sliced_ot_transfer(
    content: np.ndarray, style: np.ndarray, iterations: int = 30, seed: int = 0, sample: int = 65536
) -> np.ndarray:
    """Sliced optimal-transport colour transfer (Pitié et al. 2005; Bonneel et al. 2015) in Lab.

    Each iteration rotates the colour space at random and moves every pixel along each rotated axis to
    the value of the same quantile in the style, so the full 3-D colour distribution (not only its mean
    and spread) comes to match the style's.

    Args:
        content: Image to recolour.
        style: Image whose colours to take.
        iterations: Random rotations; 20-50 converge.
        seed: Seeds the rotations and the style pixel sample.
        sample: Style pixels used for the quantiles (all when fewer).
    """
    rng = np.random.default_rng(seed)
    pixels = to_lab(content).reshape(-1, 3)
    target = to_lab(style).reshape(-1, 3)
    if len(target) > sample:
        target = target[rng.choice(len(target), sample, replace=False)]
    quantiles = np.linspace(0, 1, min(len(target), 4096), dtype=np.float32)
    for _ in range(iterations):
        rotation = _random_rotation(rng)
        projected, reference = pixels @ rotation, target @ rotation
        for axis in range(3):
            order = np.argsort(projected[:, axis], kind="stable")
            ranks = np.empty(len(order), np.float32)
            ranks[order] = np.linspace(0, 1, len(order), dtype=np.float32)
            levels = np.quantile(reference[:, axis], quantiles).astype(np.float32)
            projected[:, axis] = np.interp(ranks, quantiles, levels)
        pixels = projected @ rotation.T
    return from_lab(pixels.reshape(content.shape))


def _quantile_map(values: np.ndarray, source_levels: np.ndarray, target_levels: np.ndarray) -> np.ndarray:
    """``np.interp(values, source_levels, target_levels)`` through a fine lookup table: the map is
    tabulated on 8,192 even steps and read back with linear interpolation, about four times faster
    than ``np.interp``'s binary search over a quarter-million pixels."""
    low, high = float(source_levels[0]), float(source_levels[-1])
    if high <= low:  # a flat channel: every pixel goes to the target's median
        return np.full_like(values, target_levels[len(target_levels) // 2])
    table = np.interp(np.linspace(low, high, LOOKUP_STEPS), source_levels, target_levels).astype(np.float32)
    table = np.append(table, table[-1])  # so index + 1 stays in range at the top
    position = (values - np.float32(low)) * np.float32((LOOKUP_STEPS - 1) / (high - low))
    np.clip(position, 0, LOOKUP_STEPS - 1, out=position)
    index = position.astype(np.intp)
    position -= index  # now the fraction between two table entries
    return table[index] + position * (table[index + 1] - table[index])


def match_palette(
    image: np.ndarray, style: np.ndarray, rounds: int = 6, seed: int = 0, sample: int = 16384
) -> np.ndarray:
    """A quick sliced optimal-transport colour match in RGB: per round, a random rotation and a 1-D
    quantile map per axis, estimated on pixel samples and applied through a lookup table (no full
    sort, no Lab conversion), so six rounds on a 512 px image take well under 0.1 s."""
    rng = np.random.default_rng(seed)
    pixels = np.ascontiguousarray(image.reshape(-1, 3).T, dtype=np.float32)  # (3, N): rows contiguous
    flat = style.reshape(-1, 3)
    target = np.ascontiguousarray(flat[rng.integers(0, len(flat), sample)].T, dtype=np.float32)  # (3, S)
    quantiles = np.linspace(0, 1, 256)
    for _ in range(rounds):
        rotation = _random_rotation(rng)
        projected, reference = rotation.T @ pixels, rotation.T @ target
        probe = projected[:, rng.integers(0, projected.shape[1], sample)]
        source_levels = np.quantile(probe, quantiles, axis=1)  # (256, 3)
        target_levels = np.quantile(reference, quantiles, axis=1)
        for axis in range(3):
            projected[axis] = _quantile_map(projected[axis], source_levels[:, axis], target_levels[:, axis])
        pixels = rotation @ projected
    return np.clip(pixels.T.reshape(image.shape), 0, 1).astype(np.float32)


def transfer_colour(
    content: np.ndarray, style: np.ndarray, method: ColourMethod, seed: int = 0
) -> np.ndarray:
    """Recolour ``content`` after ``style`` with the named classical method."""
    if method == "reinhard":
        return reinhard(content, style)
    if method == "sliced-ot":
        return sliced_ot_transfer(content, style, seed=seed)
    raise ValueError(f"unknown colour method {method!r}; available: ['reinhard', 'sliced-ot']")


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-channel histogram matching (exact quantile mapping), the step texture synthesis uses."""
    out = np.empty_like(image)
    ref_q = np.linspace(0, 1, 1024, dtype=np.float32)
    for c in range(image.shape[-1]):
        channel = image[..., c].ravel()
        order = np.argsort(channel, kind="stable")
        ranks = np.empty(channel.size, np.float32)
        ranks[order] = np.linspace(0, 1, channel.size, dtype=np.float32)
        levels = np.quantile(reference[..., c], ref_q).astype(np.float32)
        out[..., c] = np.interp(ranks, ref_q, levels).reshape(image.shape[:-1])
    return out


def keep_colours(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance-only stylisation: the stylised image's lightness with the content's colours (a, b).

    The stylised lightness is first matched to the content's mean and spread, so the photo keeps its
    exposure and only the brushwork carries over.
    """
    styled, original = to_lab(stylised), to_lab(content)
    lightness = styled[..., 0]
    lightness = (lightness - lightness.mean()) / (lightness.std() + 1e-6)
    lightness = lightness * original[..., 0].std() + original[..., 0].mean()
    return from_lab(np.dstack([np.clip(lightness, 0, 100), original[..., 1], original[..., 2]]))

"""Inputs of style transfer: the bundled content photos, uploaded images (checked), resizing.

Content photos ship inside installed wheels (``skimage.data``, scikit-learn's sample images), so
nothing is downloaded. Uploads are checked for type, file size and pixel count before decoding in
full, and every failure is an `InputError` naming the limit.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "CONTENT_PHOTOS",
    "UploadLimits",
    "check_upload",
    "content_photo",
    "fit_size",
    "from_uint8",
    "png_bytes",
    "resize",
    "to_uint8",
]

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP")


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        return getattr(data, name)()

    return load


def _sklearn(index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images

        return load_sample_images().images[index]

    return load


CONTENT_PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "coffee": _skimage("coffee"),
    "chelsea": _skimage("chelsea"),
    "rocket": _skimage("rocket"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "china": _sklearn(0),
    "flower": _sklearn(1),
}


def from_uint8(array: np.ndarray) -> np.ndarray:
    """``(H, W[, C])`` uint8 (grey, RGB or RGBA) -> ``(H, W, 3)`` float32 RGB in [0, 1]."""
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return (array[..., :3].astype(np.float32) / 255.0).clip(0, 1)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def content_photo(name: str) -> np.ndarray:
    """A bundled content photo as float RGB.

    Raises:
        InputError: Unknown name (the message lists the available ones).
    """
    if name not in CONTENT_PHOTOS:
        raise InputError(f"unknown content photo {name!r}; available: {sorted(CONTENT_PHOTOS)}")
    return from_uint8(CONTENT_PHOTOS[name]())


def fit_size(shape: tuple[int, ...], longest: int) -> tuple[int, int]:
    """(height, width) with the longer side ``longest``, keeping the aspect ratio."""
    height, width = shape[:2]
    scale = longest / max(height, width)
    return max(8, round(height * scale)), max(8, round(width * scale))


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float RGB to ``(height, width)`` (Lanczos down, bicubic up)."""
    if image.shape[:2] == size:
        return image.astype(np.float32)
    pil = Image.fromarray(to_uint8(image))
    smaller = size[0] * size[1] < image.shape[0] * image.shape[1]
    method = Image.Resampling.LANCZOS if smaller else Image.Resampling.BICUBIC
    return from_uint8(np.asarray(pil.resize((size[1], size[0]), method)))


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class UploadLimits:
    """What an uploaded image may be.

    Attributes:
        max_bytes: Largest file accepted.
        max_pixels: Largest width x height accepted (checked from the header, before decoding).
        min_side: Smallest side accepted (a patch of the coarsest scale must fit).
        decode_side: Larger images are reduced to this longest side while decoding.
    """

    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 32
    decode_side: int = 2048


def check_upload(data: bytes, name: str = "upload", limits: UploadLimits | None = None) -> np.ndarray:
    """Decode an uploaded image after checking its size, type and pixel count.

    Args:
        data: The file's bytes.
        name: Shown in error messages.
        limits: Size limits (defaults: 15 MB, 40 megapixels, sides >= 32 px).

    Returns:
        ``(H, W, 3)`` float32 RGB in [0, 1] (alpha dropped, grey expanded, longest side at most
        ``limits.decode_side``).

    Raises:
        InputError: Empty, not an image, an unsupported format, or too small.
        ResourceLimitError: Larger than the file-size or pixel limit.
    """
    limits = limits or UploadLimits()
    if not data:
        raise InputError(f"{name} is empty; upload a PNG, JPEG, WebP or BMP image")
    if len(data) > limits.max_bytes:
        raise ResourceLimitError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            width, height = image.size
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as e:
        raise InputError(f"{name} is not a readable image ({e}); upload a PNG, JPEG, WebP or BMP") from e
    if fmt not in ALLOWED_FORMATS:
        raise InputError(f"{name} is a {fmt} file; upload one of {', '.join(ALLOWED_FORMATS)}")
    if width * height > limits.max_pixels:
        raise ResourceLimitError(
            f"{name} is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {limits.max_pixels / 1e6:.0f} megapixels"
        )
    if min(width, height) < limits.min_side:
        raise InputError(f"{name} is {width}x{height}; each side must be at least {limits.min_side} px")
    try:
        # Outputs are at most 1024 px, so larger images are reduced while decoding: a 40-megapixel
        # upload never becomes a 480 MB float array.
        image.draft("RGB", (limits.decode_side, limits.decode_side))
        image = image.convert("RGB")
        image.thumbnail((limits.decode_side, limits.decode_side), Image.Resampling.LANCZOS)
        rgb = np.asarray(image)
    except (OSError, ValueError) as exc:
        raise InputError(f"{name} is damaged and cannot be decoded ({exc})") from exc
    return from_uint8(rgb)

"""Good-part images from a user: a zip upload, a folder (CLI), one image to inspect, or a category in
the MVTec AD layout. Every file is checked before it is used.

Checks (limits from `shared_models.datasets.UploadLimits`, plus a cap on all pixels together):
archive size; unsafe member names (absolute, ``..``, drive letters: skipped and reported); files that
are not images, are unreadable or too large (skipped and reported); each image's pixel count, read
from its header before anything is decoded (no decompression bombs); the image count; one common size
(or a ``resize_to`` size); enough images to train on. Errors are `InputError` / `ResourceLimitError`
naming the limit that was crossed. Nothing is extracted to disk.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from shared_models.datasets import (
    IMAGE_SUFFIXES,
    UploadLimits,
    UploadReport,
    open_zip_upload,
    zip_image_entries,
)
from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "MAX_TOTAL_PIXELS",
    "MIN_TRAIN_IMAGES",
    "load_image_zip_for_inspection",
    "load_images_from_folder",
    "load_mvtec_category",
    "read_image_bytes",
]

MIN_TRAIN_IMAGES = 8  # fewer good images cannot teach a detector what normal looks like
MAX_TOTAL_PIXELS = 32 * 1024 * 1024  # all images of one load together: 384 MB as float32 RGB
_UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, zipfile.BadZipFile, EOFError)

Size = int | tuple[int, int]  # a square side, or (height, width)


@dataclass(frozen=True)
class _Member:
    name: str
    size_bytes: int
    read: Callable[[], bytes]


def _target(resize_to: Size | None) -> tuple[int, int] | None:
    """``resize_to`` as (height, width)."""
    if resize_to is None:
        return None
    height, width = (resize_to, resize_to) if isinstance(resize_to, int) else resize_to
    if not (8 <= height <= 4096 and 8 <= width <= 4096):
        raise InputError(f"resize_to must be between 8 and 4096 pixels a side, got {resize_to}")
    return int(height), int(width)


def _header_size(data: bytes, limits: UploadLimits) -> tuple[int, int]:
    """(height, width) from the image header; the pixels are not decoded."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    if width * height > limits.max_pixels:
        raise ResourceLimitError(
            f"{width}x{height} pixels is over the {limits.max_pixels:,}-pixel limit per image"
        )
    return height, width


def _decode(data: bytes, shape: tuple[int, int] | None, mode: str = "RGB") -> np.ndarray:
    """Decoded pixels as float32 in [0, 1], resized to ``shape`` (height, width) when given."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image = image.convert(mode)
        if shape is not None and image.size != (shape[1], shape[0]):
            resample = Image.Resampling.NEAREST if mode == "L" else Image.Resampling.BILINEAR
            image = image.resize((shape[1], shape[0]), resample)
        return np.asarray(image, dtype=np.float32) / 255.0


def read_image_bytes(
    data: bytes, limits: UploadLimits | None = None, resize_to: Size | None = None
) -> np.ndarray:
    """One uploaded image, checked and decoded, as ``(H, W, 3)`` float32 in [0, 1].

    Raises:
        ResourceLimitError: The file or its pixel count is over its limit.
        InputError: The bytes are not a readable image.
    """
    limits = limits or UploadLimits()
    if len(data) > limits.max_member_bytes:
        raise ResourceLimitError(
            f"the image is {len(data) / 2**20:.1f} MB; the limit is {limits.max_member_bytes / 2**20:.0f} MB"
        )
    target = _target(resize_to)
    try:
        _header_size(data, limits)
        return _decode(data, target)
    except InputError:  # a pixel limit: an InputError is a ValueError too, so keep it from the next clause
        raise
    except _UNREADABLE as exc:
        raise InputError(f"the file is not a readable image ({type(exc).__name__}); use PNG or JPEG") from exc


def _load_members(
    members: list[_Member],
    limits: UploadLimits,
    resize_to: Size | None,
    min_images: int,
    report: UploadReport,
    source: str,
) -> tuple[np.ndarray, list[str]]:
    """Check every member's header, then decode the good ones into one ``(N, H, W, 3)`` array."""
    target = _target(resize_to)
    if len(members) > limits.max_images:
        raise ResourceLimitError(
            f"{source} holds {len(members):,} images; the limit is {limits.max_images:,}"
        )
    # Only headers are kept from this pass: holding every member's bytes could exhaust memory.
    headers: list[tuple[_Member, tuple[int, int]]] = []
    for member in members:
        if member.size_bytes > limits.max_member_bytes:
            report.skipped.append((member.name, f"over {limits.max_member_bytes / 2**20:.0f} MB"))
            continue
        try:
            headers.append((member, _header_size(member.read(), limits)))
        except ResourceLimitError as exc:
            report.skipped.append((member.name, str(exc)))
        except _UNREADABLE as exc:
            report.skipped.append((member.name, f"not a readable image ({type(exc).__name__})"))
    sizes: dict[tuple[int, int], str] = {}
    for member, shape in headers:
        sizes.setdefault(shape, member.name)
    if target is None and len(sizes) > 1:
        (a, name_a), (b, name_b) = list(sizes.items())[:2]
        raise InputError(
            f"{source} mixes image sizes: {name_a} is {a[1]}x{a[0]} but {name_b} is {b[1]}x{b[0]} "
            f"({len(sizes)} sizes in all); use images of one size or choose a size to resize them to"
        )
    pixels = sum((target or shape)[0] * (target or shape)[1] for _, shape in headers)
    if pixels > MAX_TOTAL_PIXELS:
        raise ResourceLimitError(
            f"{source} holds {pixels:,} pixels in all; the limit is {MAX_TOTAL_PIXELS:,}. "
            "Use fewer or smaller images, or a smaller resize size"
        )
    images, names = [], []
    for member, _ in headers:
        try:
            images.append(_decode(member.read(), target))
            names.append(member.name)
        except _UNREADABLE as exc:
            report.skipped.append((member.name, f"not a readable image ({type(exc).__name__})"))
    if len(images) < min_images:
        raise InputError(
            f"{source} has {len(images)} readable image(s) ({len(report.skipped)} file(s) skipped); "
            f"at least {min_images} good images are needed"
        )
    report.kept = {GOOD: len(images)}
    return np.stack(images).astype(np.float32), names


def load_image_zip_for_inspection(
    data: bytes,
    limits: UploadLimits | None = None,
    resize_to: Size | None = None,
    min_images: int = MIN_TRAIN_IMAGES,
) -> tuple[np.ndarray, list[str], UploadReport]:
    """Good images from a zip (any folders inside; all files are one set), for training or a batch.

    Args:
        data: The zip's bytes.
        limits: Upload caps (defaults: `UploadLimits()`).
        resize_to: Resize every image to this size (a side, or (height, width)); None: all images must
            share one size already.
        min_images: Fewest readable images accepted (8 to train on; 1 for a batch to inspect).

    Returns:
        ``(images (N, H, W, 3) float32, member names, report of kept and skipped files)``, by name.

    Raises:
        ResourceLimitError: The archive, image count or total pixels are over their limits.
        InputError: Not a zip, mixed sizes, or too few readable images.
    """
    limits = limits or UploadLimits()
    archive = open_zip_upload(data, limits, "a folder of good images")
    report = UploadReport()
    members = [
        _Member(str(path), info.file_size, lambda info=info: archive.read(info))
        for path, info in zip_image_entries(archive, report, ordered=True)
    ]
    images, names = _load_members(members, limits, resize_to, min_images, report, "the zip")
    return images, names, report


def _folder_members(folder: Path, report: UploadReport) -> list[_Member]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    members = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.is_symlink():
            report.skipped.append((path.name, "symbolic link (not followed)"))
        elif not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skipped.append((path.name, "not an image file"))
        else:
            members.append(_Member(path.name, path.stat().st_size, path.read_bytes))
    return members


def load_images_from_folder(
    folder: str | Path,
    limits: UploadLimits | None = None,
    resize_to: Size | None = None,
    min_images: int = MIN_TRAIN_IMAGES,
) -> tuple[np.ndarray, list[str], UploadReport]:
    """The images directly inside ``folder`` (sub-folders and symlinks are not followed), with the same
    checks and return value as `load_image_zip_for_inspection`."""
    limits = limits or UploadLimits()
    report = UploadReport()
    members = _folder_members(Path(folder), report)
    images, names = _load_members(members, limits, resize_to, min_images, report, str(folder))
    return images, names, report


MVTEC_LAYOUT = "train/good/*.png, test/<defect type>/*.png, ground_truth/<defect type>/<stem>_mask.png"


def _mvtec_masks(root: Path, defect: str, names: list[str], shape: tuple[int, int]) -> np.ndarray:
    masks = np.zeros((len(names), *shape), dtype=bool)
    if defect == GOOD:
        return masks
    for i, name in enumerate(names):
        path = root / "ground_truth" / defect / f"{Path(name).stem}_mask.png"
        if not path.is_file():
            raise InputError(f"{root} is not in the MVTec AD layout: {path.relative_to(root)} is missing")
        try:
            masks[i] = _decode(path.read_bytes(), shape, mode="L") > 0.5
        except _UNREADABLE as exc:
            raise InputError(f"{path} is not a readable mask image ({type(exc).__name__})") from exc
    return masks


def load_mvtec_category(
    root: str | Path,
    size: Size | None = None,
    calibration_fraction: float = 0.2,
    seed: int = 0,
    limits: UploadLimits | None = None,
) -> InspectionSet:
    """One category in the MVTec AD layout (also anomalib's "folder" layout) as an `InspectionSet`.

    ``train/good`` is split at random (``seed``) into training images and a held-out calibration part
    of ``calibration_fraction``; ``test/<type>`` folders are the test set (``good`` is defect-free, every
    other folder a defect type whose masks are ``ground_truth/<type>/<stem>_mask.png``).

    Args:
        root: The category folder.
        size: Resize images and masks to this size; None keeps the native size (it must be shared).
            MVTec images are 700-1024 px, so pass e.g. 256 to stay within the pixel limit.
        calibration_fraction: Share of ``train/good`` held out for threshold calibration, in (0, 1).
        seed: Seed of that split.
        limits: Per-folder upload caps.

    Raises:
        InputError: The folder is not in that layout, a mask is missing, or an image is unreadable.
        ResourceLimitError: A folder is over a limit.
    """
    root, limits = Path(root), limits or UploadLimits()
    if not 0 < calibration_fraction < 1:
        raise InputError(f"calibration_fraction must be between 0 and 1, got {calibration_fraction}")
    for needed in ("train/good", "test"):
        if not (root / needed).is_dir():
            raise InputError(
                f"{root} is not in the MVTec AD layout: {needed}/ is missing (expected {MVTEC_LAYOUT})"
            )
    skipped: list[tuple[str, str]] = []

    def load(folder: Path, minimum: int) -> tuple[np.ndarray, list[str]]:
        report = UploadReport()
        images, names = _load_members(
            _folder_members(folder, report), limits, size, minimum, report, str(folder.relative_to(root))
        )
        skipped.extend((f"{folder.relative_to(root)}/{n}", why) for n, why in report.skipped)
        return images, names

    normals, _ = load(root / "train" / "good", MIN_TRAIN_IMAGES + 1)
    order = np.random.default_rng(seed).permutation(len(normals))
    held_out = min(len(normals) - MIN_TRAIN_IMAGES, max(1, round(calibration_fraction * len(normals))))
    defects = sorted(p.name for p in (root / "test").iterdir() if p.is_dir() and not p.name.startswith("."))
    if not defects:
        raise InputError(
            f"{root} is not in the MVTec AD layout: test/ has no sub-folders (expected {MVTEC_LAYOUT})"
        )
    tests, masks, labels = [], [], []
    for defect in defects:
        images, names = load(root / "test" / defect, 1)
        if images.shape[1:3] != normals.shape[1:3]:
            raise InputError(
                f"test/{defect} images are {images.shape[2]}x{images.shape[1]} but train/good images are "
                f"{normals.shape[2]}x{normals.shape[1]}; choose a size to resize them to"
            )
        tests.append(images)
        masks.append(_mvtec_masks(root, defect, names, images.shape[1:3]))
        labels += [defect] * len(names)
    return InspectionSet(
        name=root.name,
        train=normals[np.sort(order[held_out:])],
        calibration=normals[np.sort(order[:held_out])],
        test=np.concatenate(tests),
        test_masks=np.concatenate(masks),
        test_labels=labels,
        info={
            "source": str(root),
            "seed": seed,
            "calibration_fraction": calibration_fraction,
            "skipped": skipped,
        },
    )

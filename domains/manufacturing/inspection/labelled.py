"""Labelled defect images for the supervised defect-type classifier, from a folder or a zip.

Two layouts are understood: one sub-folder per class, or NEU-style file names ``<class>_<number>.<ext>``
in one folder (the NEU steel surface database: crazing_1.jpg, rolled-in_scale_12.jpg, ...). Images are
read as grayscale and resized to a small square. Uploads get the checks of `uploads`: unsafe member
names, non-images, file size and pixel count (from the header, before decoding), image count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from domains.manufacturing.inspection.uploads import _UNREADABLE, _decode, _header_size, _Member
from shared_models.datasets import (
    IMAGE_SUFFIXES,
    UploadLimits,
    UploadReport,
    open_zip_upload,
    zip_image_entries,
)
from shared_models.exceptions import InputError, ResourceLimitError

__all__ = ["LabelledImages", "load_labelled_folder", "load_labelled_zip"]

_NUMBERED_NAME = re.compile(r"^(?P<label>.+?)_\d+$")  # NEU style: rolled-in_scale_12 -> rolled-in_scale


@dataclass
class LabelledImages:
    """Grayscale defect images with their class.

    Attributes:
        images: ``(N, S, S)`` float32 in [0, 1].
        labels: ``(N,)`` int64 index into ``class_names``.
        class_names: Sorted class names.
        names: File name of each image.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    names: list[str]

    def counts(self) -> dict[str, int]:
        """Images per class."""
        return {name: int((self.labels == i).sum()) for i, name in enumerate(self.class_names)}


def _class_of(path: PurePosixPath, by_folder: bool) -> str | None:
    if by_folder:
        return path.parts[-2] if len(path.parts) >= 2 else None
    match = _NUMBERED_NAME.match(path.stem)
    return match["label"] if match else None


def _labelled(
    members: list[_Member], image_size: int, limits: UploadLimits, report: UploadReport, source: str
) -> LabelledImages:
    """Class each member by its folder (when any has one) or its NEU-style name, then decode and check."""
    paths = [PurePosixPath(m.name) for m in members]
    by_folder = any(len(p.parts) >= 2 for p in paths)
    kept: list[tuple[str, str, np.ndarray]] = []
    for member, path in zip(members, paths, strict=True):
        label = _class_of(path, by_folder)
        if label is None:
            why = "not in a class folder" if by_folder else "name is not <class>_<number>"
            report.skipped.append((member.name, why))
        elif member.size_bytes > limits.max_member_bytes:
            report.skipped.append((member.name, f"over {limits.max_member_bytes / 2**20:.0f} MB"))
        else:
            try:
                data = member.read()
                _header_size(data, limits)
                kept.append((member.name, label, _decode(data, (image_size, image_size), mode="L")))
            except ResourceLimitError as exc:
                report.skipped.append((member.name, str(exc)))
            except _UNREADABLE as exc:
                report.skipped.append((member.name, f"not a readable image ({type(exc).__name__})"))
    counts = {c: sum(1 for _, label, _ in kept if label == c) for c in sorted({k[1] for k in kept})}
    classes = [c for c, n in counts.items() if n >= limits.min_images_per_class]
    report.skipped += [
        (f"{c}/", f"only {n} image(s) in this class") for c, n in counts.items() if c not in classes
    ]
    if len(classes) < 2:
        raise InputError(
            f"{source} needs at least 2 classes with {limits.min_images_per_class} or more readable images "
            f"each (found {counts or 'none'}); use one sub-folder per class or names like crazing_1.jpg"
        )
    kept = [k for k in kept if k[1] in classes]
    report.kept = {c: counts[c] for c in classes}
    return LabelledImages(
        images=np.stack([k[2] for k in kept]).astype(np.float32),
        labels=np.array([classes.index(k[1]) for k in kept], dtype=np.int64),
        class_names=classes,
        names=[k[0] for k in kept],
    )


def _image_members(paths: list[Path], root: Path, report: UploadReport) -> list[_Member]:
    members = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            report.skipped.append((name, "symbolic link (not followed)"))
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skipped.append((name, "not an image file"))
        else:
            members.append(_Member(name, path.stat().st_size, path.read_bytes))
    return members


def load_labelled_folder(
    folder: str | Path, image_size: int = 64, limits: UploadLimits | None = None
) -> tuple[LabelledImages, UploadReport]:
    """Labelled defect images from a folder: one sub-folder per class, or ``<class>_<n>.jpg`` names.

    Raises:
        InputError: Not a folder, or fewer than 2 classes with ``limits.min_images_per_class`` images.
        ResourceLimitError: More images than ``limits.max_images``.
    """
    root, limits, report = Path(folder), limits or UploadLimits(), UploadReport()
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    subfolders = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    files = [f for d in subfolders for f in sorted(d.iterdir()) if f.is_file()] if subfolders else []
    files = files or [f for f in sorted(root.iterdir()) if f.is_file() and not f.name.startswith(".")]
    if len(files) > limits.max_images:
        raise ResourceLimitError(f"{root} holds {len(files):,} files; the limit is {limits.max_images:,}")
    return _labelled(_image_members(files, root, report), image_size, limits, report, str(root)), report


def load_labelled_zip(
    data: bytes, image_size: int = 64, limits: UploadLimits | None = None
) -> tuple[LabelledImages, UploadReport]:
    """Labelled defect images from a zip, in either layout of `load_labelled_folder` (a zipped folder's
    own top folder is ignored). Unsafe member names and non-images are skipped and reported.

    Raises:
        ResourceLimitError: The archive or the image count is over its limit.
        InputError: Not a zip, or fewer than 2 usable classes.
    """
    limits, report = limits or UploadLimits(), UploadReport()
    archive = open_zip_upload(data, limits, "a folder of labelled defect images")
    paths = zip_image_entries(archive, report, ordered=True)
    if len(paths) > limits.max_images:
        raise ResourceLimitError(f"the zip holds {len(paths):,} images; the limit is {limits.max_images:,}")
    # Drop folders every member shares (the zipped folder's own name), so classes are the next level.
    while paths and all(len(p.parts) > 1 for p, _ in paths) and len({p.parts[0] for p, _ in paths}) == 1:
        paths = [(PurePosixPath(*p.parts[1:]), info) for p, info in paths]
    members = [_Member(str(p), info.file_size, lambda info=info: archive.read(info)) for p, info in paths]
    return _labelled(members, image_size, limits, report, "the zip"), report

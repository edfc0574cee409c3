"""Good-image uploads: zips, folders, single images and MVTec AD folders, good and bad."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from domains.manufacturing.inspection.dataset import GOOD
from domains.manufacturing.inspection.uploads import (
    load_image_zip_for_inspection,
    load_images_from_folder,
    load_mvtec_category,
    read_image_bytes,
)
from shared_models.datasets import UploadLimits
from shared_models.exceptions import InputError, ResourceLimitError


def _png(width: int = 24, height: int = 16, seed: int = 0, mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(seed)
    shape = (height, width, 3) if mode == "RGB" else (height, width)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but carries no pixel data (never decodable)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


GOOD_FILES = {f"parts/good_{i}.png": _png(seed=i) for i in range(9)}


def test_zip_of_good_images_loads_in_name_order() -> None:
    images, names, report = load_image_zip_for_inspection(_zip(GOOD_FILES))
    assert images.shape == (9, 16, 24, 3) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert names == sorted(names) and names[0] == "parts/good_0.png"
    expected = np.asarray(Image.open(io.BytesIO(GOOD_FILES["parts/good_0.png"])), dtype=np.float32) / 255
    np.testing.assert_allclose(images[0], expected)
    assert report.kept == {GOOD: 9} and report.skipped == []


def test_unsafe_names_and_non_images_are_skipped_and_reported() -> None:
    files = {
        **GOOD_FILES,
        "../evil.png": _png(seed=20),
        "/abs.png": _png(seed=21),
        "parts/notes.txt": b"hello",
        "parts/fake.png": b"this is text, not a PNG",
    }
    images, names, report = load_image_zip_for_inspection(_zip(files))
    assert len(images) == 9 and not any("evil" in n or "fake" in n for n in names)
    reasons = dict(report.skipped)
    assert reasons["../evil.png"] == "unsafe path" and reasons["/abs.png"] == "unsafe path"
    assert reasons["parts/notes.txt"] == "not an image file"
    assert reasons["parts/fake.png"].startswith("not a readable image")


def test_nothing_usable_left_is_an_error_that_says_why() -> None:
    with pytest.raises(InputError, match=r"0 readable image\(s\) \(2 file\(s\) skipped\)"):
        load_image_zip_for_inspection(_zip({"../evil.png": _png(), "x.png": b"text"}))


def test_not_a_zip_and_oversized_zip() -> None:
    with pytest.raises(InputError, match="not a zip"):
        load_image_zip_for_inspection(b"plain text")
    with pytest.raises(ResourceLimitError, match="limit is"):
        load_image_zip_for_inspection(_zip(GOOD_FILES), UploadLimits(max_archive_bytes=100))
    with pytest.raises(ResourceLimitError, match="limit is 5"):
        load_image_zip_for_inspection(_zip(GOOD_FILES), UploadLimits(max_images=5))


def test_mixed_sizes_name_two_sizes_unless_resized() -> None:
    files = {**GOOD_FILES, "parts/wide.png": _png(width=40, height=16)}
    with pytest.raises(InputError, match=r"mixes image sizes: .* is 24x16 but parts/wide.png is 40x16"):
        load_image_zip_for_inspection(_zip(files))
    images, _, _ = load_image_zip_for_inspection(_zip(files), resize_to=(20, 30))
    assert images.shape == (10, 20, 30, 3)


def test_too_few_and_single_image() -> None:
    with pytest.raises(InputError, match="at least 8 good images"):
        load_image_zip_for_inspection(_zip({"one.png": _png()}))
    images, names, _ = load_image_zip_for_inspection(_zip({"one.png": _png()}), min_images=1)
    assert images.shape == (1, 16, 24, 3) and names == ["one.png"]


def test_huge_image_is_refused_from_its_header_before_decoding() -> None:
    huge = _header_only_png(5000, 5000)  # 67 bytes; decoding would fail, so a pass means the header ruled
    with pytest.raises(ResourceLimitError, match=r"5000x5000 pixels is over the 1,000,000-pixel limit"):
        read_image_bytes(huge, UploadLimits(max_pixels=1_000_000))
    files = {**GOOD_FILES, "parts/huge.png": huge}
    _, _, report = load_image_zip_for_inspection(_zip(files), UploadLimits(max_pixels=1_000_000))
    assert "1,000,000-pixel limit" in dict(report.skipped)["parts/huge.png"]


def test_read_single_image() -> None:
    image = read_image_bytes(_png(mode="L"))
    assert image.shape == (16, 24, 3)  # grey images become RGB
    assert read_image_bytes(_png(), resize_to=32).shape == (32, 32, 3)
    with pytest.raises(InputError, match="not a readable image"):
        read_image_bytes(b"GIF89a broken")
    with pytest.raises(InputError, match="resize_to must be between 8 and 4096"):
        read_image_bytes(_png(), resize_to=2)
    with pytest.raises(ResourceLimitError, match="MB"):
        read_image_bytes(_png(), UploadLimits(max_member_bytes=10))


def test_folder_loader_applies_the_same_checks(tmp_path: Path) -> None:
    for name, data in GOOD_FILES.items():
        (tmp_path / Path(name).name).write_bytes(data)
    (tmp_path / "readme.txt").write_text("not an image")
    (tmp_path / "link.png").symlink_to(tmp_path / "good_0.png")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ignored.png").write_bytes(_png())
    images, names, report = load_images_from_folder(tmp_path)
    assert len(images) == 9 and "ignored.png" not in names
    assert dict(report.skipped) == {
        "readme.txt": "not an image file",
        "link.png": "symbolic link (not followed)",
    }
    (tmp_path / "odd.png").write_bytes(_png(width=10, height=10))
    with pytest.raises(InputError, match="mixes image sizes"):
        load_images_from_folder(tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        load_images_from_folder(tmp_path / "missing")


def _mvtec(root: Path, normals: int = 10) -> Path:
    for i in range(normals):
        (root / "train" / "good").mkdir(parents=True, exist_ok=True)
        (root / "train" / "good" / f"{i:03d}.png").write_bytes(_png(32, 32, seed=i))
    for folder, count in (("good", 2), ("scratch", 3)):
        (root / "test" / folder).mkdir(parents=True)
        for i in range(count):
            (root / "test" / folder / f"{i:03d}.png").write_bytes(_png(32, 32, seed=100 + i))
    (root / "ground_truth" / "scratch").mkdir(parents=True)
    for i in range(3):
        mask = np.zeros((32, 32), dtype=np.uint8)
        mask[i : i + 4, 5:20] = 255
        Image.fromarray(mask, "L").save(root / "ground_truth" / "scratch" / f"{i:03d}_mask.png")
    return root


def test_mvtec_category_loads_with_a_seeded_calibration_split(tmp_path: Path) -> None:
    category = load_mvtec_category(_mvtec(tmp_path / "bottle"), size=16, calibration_fraction=0.2, seed=3)
    assert category.name == "bottle"
    assert category.train.shape == (8, 16, 16, 3) and category.calibration.shape == (2, 16, 16, 3)
    assert category.test.shape == (5, 16, 16, 3)
    assert category.test_labels == [GOOD, GOOD, "scratch", "scratch", "scratch"]
    assert not category.test_masks[:2].any()
    assert 12 <= category.test_masks[2].sum() <= 18  # the 4x15 mask at half size: ~ a quarter of 60 px
    assert category.test_masks[2:].any(axis=(1, 2)).all()
    again = load_mvtec_category(tmp_path / "bottle", size=16, calibration_fraction=0.2, seed=3)
    np.testing.assert_array_equal(again.calibration, category.calibration)
    # train and calibration split the normals: together they are all of them, once
    both = np.concatenate([category.train, category.calibration]).reshape(10, -1)
    assert len({row.tobytes() for row in both}) == 10
    native = load_mvtec_category(tmp_path / "bottle")
    assert native.image_size == (32, 32) and native.test_masks[2].sum() == 60


def test_mvtec_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not in the MVTec AD layout: train/good/ is missing"):
        load_mvtec_category(tmp_path)
    root = _mvtec(tmp_path / "cable")
    (root / "ground_truth" / "scratch" / "001_mask.png").unlink()
    with pytest.raises(InputError, match=r"ground_truth/scratch/001_mask\.png is missing"):
        load_mvtec_category(root)
    few = _mvtec(tmp_path / "few", normals=4)
    with pytest.raises(InputError, match="at least 9 good images"):
        load_mvtec_category(few)

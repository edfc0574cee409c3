from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from shared_models.datasets import (
    UploadLimits,
    load_dataset,
    load_digits,
    load_image_zip,
    load_mnist5000,
    make_shapes,
)
from shared_models.exceptions import InputError, ResourceLimitError


def _png(colour: int, size: tuple[int, int] = (20, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (colour, 255 - colour, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_builtin_sets_are_real_and_well_formed() -> None:
    mnist = load_mnist5000()
    assert mnist.images.shape == (5000, 1, 28, 28) and mnist.num_classes == 10
    assert torch.bincount(mnist.labels).tolist() == [500] * 10
    assert float(mnist.images.min()) >= 0 and float(mnist.images.max()) == 1.0
    digits = load_digits(32)
    assert digits.images.shape == (1797, 1, 32, 32)
    assert load_dataset("shapes", 32).channels == 3
    with pytest.raises(InputError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")


def test_shapes_are_seeded_and_attributes_match_pixels() -> None:
    first, again, other = (
        make_shapes(30, 32, seed=1),
        make_shapes(30, 32, seed=1),
        make_shapes(30, 32, seed=2),
    )
    assert torch.equal(first.images, again.images) and not torch.equal(first.images, other.images)
    assert first.attributes is not None and first.attributes.shape == (30, 10)
    assert torch.equal(first.attributes[:, :3].argmax(1), first.labels)
    for i in range(30):  # the painted colour is the one the attributes name
        colour = int(first.attributes[i, 3:7].argmax())
        lit = first.images[i].amax(0) > 0.15
        painted = first.images[i][:, lit].mean(1)
        expected = torch.tensor(list(__import__("shared_models.datasets").datasets.COLOURS.values())[colour])
        assert torch.allclose(painted, expected, atol=0.02)


def test_split_is_stratified_and_seeded() -> None:
    digits = load_digits()
    train, test = digits.split(0.2, seed=3)
    assert len(train) + len(test) == len(digits)
    assert all(abs(n - len(test) / 10) <= 3 for n in torch.bincount(test.labels).tolist())
    assert torch.equal(digits.split(0.2, seed=3)[1].images, test.images)


def test_zip_with_class_folders_gives_labels_and_reports_skips() -> None:
    files = {f"pets/cats/{i}.png": _png(10) for i in range(5)}
    files |= {f"pets/dogs/{i}.png": _png(200) for i in range(6)}
    files |= {
        "pets/dogs/broken.png": b"\x89PNG not really",
        "pets/readme.txt": b"hi",
        "pets/birds/one.png": _png(90),
    }
    data, report = load_image_zip(_zip(files), image_size=32, mode="RGB")
    assert data.class_names == ["cats", "dogs"] and data.images.shape == (11, 3, 32, 32)
    assert torch.bincount(data.labels).tolist() == [5, 6]
    assert report.kept == {"cats": 5, "dogs": 6}
    reasons = dict(report.skipped)
    assert "unreadable image" in reasons["pets/dogs/broken.png"]
    assert reasons["pets/readme.txt"] == "not an image file"
    assert "only 1 image" in reasons["birds/"]
    cat = data.images[data.labels == 0][0]
    assert np.allclose(cat[:, 0, 0].numpy(), [10 / 255, 245 / 255, 40 / 255], atol=0.01)


def test_flat_zip_is_one_class_in_grey() -> None:
    data, _ = load_image_zip(_zip({f"{i}.png": _png(i * 20) for i in range(4)}), image_size=28, mode="L")
    assert data.class_names == ["all"] and data.images.shape == (4, 1, 28, 28)


def test_path_traversal_names_are_skipped_never_used() -> None:
    files = {"../../etc/evil.png": _png(1), "/abs/evil.png": _png(2), "c:/win/evil.png": _png(3)}
    files |= {f"ok/{i}.png": _png(4) for i in range(4)}
    data, report = load_image_zip(_zip(files))
    assert len(data) == 4
    assert {name for name, reason in report.skipped if reason == "unsafe path"} == set(files) - {
        f"ok/{i}.png" for i in range(4)
    }


def test_decompression_bomb_is_skipped_by_its_header() -> None:
    buffer = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buffer, format="PNG")  # 25 MP, tiny on disk
    files = {"a/bomb.png": buffer.getvalue()} | {f"a/{i}.png": _png(i) for i in range(4)}
    data, report = load_image_zip(_zip(files), limits=UploadLimits(max_pixels=4096 * 4096))
    assert len(data) == 4
    assert "pixel limit" in dict(report.skipped)["a/bomb.png"]


@pytest.mark.parametrize(
    ("payload", "limits", "error", "message"),
    [
        (b"definitely not a zip", UploadLimits(), InputError, "not a zip"),
        (b"x" * 2048, UploadLimits(max_archive_bytes=1024), ResourceLimitError, "limit is"),
        (None, UploadLimits(max_images=3), ResourceLimitError, "holds 5 images"),
        (_zip({"a.txt": b"no images"}), UploadLimits(), InputError, "no class has"),
    ],
)
def test_bad_uploads_get_clear_errors(
    payload: bytes | None, limits: UploadLimits, error: type, message: str
) -> None:
    payload = payload or _zip({f"a/{i}.png": _png(i) for i in range(5)})
    with pytest.raises(error, match=message):
        load_image_zip(payload, limits=limits)

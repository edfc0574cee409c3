"""Defect-type classifier: both folder layouts, zips, training quality, save/load, stop."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from domains.manufacturing.inspection.classifier import (
    ClassifierTrainConfig,
    DefectClassifier,
    evaluate_classifier,
    train_defect_classifier,
)
from domains.manufacturing.inspection.labelled import LabelledImages, load_labelled_folder, load_labelled_zip
from shared_models.exceptions import InputError, ModelError
from shared_models.store import ModelCard, save_model

NEU = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "neu-det-sample" / "images"
TINY = ClassifierTrainConfig(image_size=24, width=8, steps=60, batch_size=16, seed=0)


def _stripes(count: int, seed: int = 0, size: int = 24) -> LabelledImages:
    """Stripes (horizontal or vertical, random period, phase and contrast) vs scattered spots, with noise."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, size, size), dtype=np.float32)
    labels = np.arange(count) % 2
    grid = np.arange(size, dtype=np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    for i, label in enumerate(labels):
        if label == 0:
            wave = 0.5 + rng.uniform(0.15, 0.4) * np.sin(
                2 * np.pi * grid / rng.uniform(4, 9) + rng.uniform(0, 6)
            )
            images[i] = wave[:, None] if rng.random() < 0.5 else wave[None, :]
        else:
            images[i] = 0.5
            for cy, cx in rng.uniform(0, size, (int(rng.integers(3, 7)), 2)):
                images[i] += rng.uniform(0.2, 0.4) * np.exp(
                    -((yy - cy) ** 2 + (xx - cx) ** 2) / rng.uniform(2, 6)
                )
    images = np.clip(images + rng.normal(0, 0.08, images.shape), 0, 1).astype(np.float32)
    return LabelledImages(images, labels.astype(np.int64), ["stripes", "spots"], [f"{i}.png" for i in labels])


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((array * 255).astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def test_stripes_classifier_beats_chance_clearly_and_round_trips(tmp_path: Path) -> None:
    evaluation = evaluate_classifier(_stripes(80), TINY, test_fraction=0.25)
    assert evaluation.test_count == 20 and evaluation.train_count == 60
    assert evaluation.accuracy >= 0.85  # chance is 0.5
    assert evaluation.confusion.sum() == 20 and np.trace(evaluation.confusion) == round(
        20 * evaluation.accuracy
    )
    classifier = evaluation.classifier
    fresh = _stripes(10, seed=9)
    labels, probabilities = classifier.predict(fresh.images)
    assert probabilities.shape == (10, 2) and np.allclose(probabilities.sum(1), 1, atol=1e-5)
    rgb = np.repeat(fresh.images[..., None], 3, axis=-1)
    assert classifier.predict(rgb)[0] == labels  # RGB input is turned grey the same way
    loaded = DefectClassifier.load(classifier.save(tmp_path / "model", dataset="stripes"))
    assert loaded.class_names == ["stripes", "spots"]
    np.testing.assert_allclose(loaded.predict(fresh.images)[1], probabilities, atol=1e-6)


def test_training_stops_on_request() -> None:
    stop = threading.Event()
    stop.set()
    _, result = train_defect_classifier(_stripes(20), TINY, stop=stop)
    assert result.stopped == "cancelled" and result.steps == 1


def test_load_refuses_other_models(tmp_path: Path) -> None:
    from shared_models.metrics import ClassifierConfig, FeatureClassifier

    save_model(tmp_path / "other", FeatureClassifier(ClassifierConfig()), ModelCard("classifier", {}))
    with pytest.raises(ModelError, match="not a defect classifier"):
        DefectClassifier.load(tmp_path / "other")


def test_folder_layouts_sub_folders_and_numbered_names(tmp_path: Path) -> None:
    stripes = _stripes(10)
    for i, (image, label) in enumerate(zip(stripes.images, stripes.labels, strict=True)):
        name = stripes.class_names[label]
        (tmp_path / "by_folder" / name).mkdir(parents=True, exist_ok=True)
        (tmp_path / "by_folder" / name / f"img{i}.png").write_bytes(_png(image))
        (tmp_path / "by_name").mkdir(exist_ok=True)
        (tmp_path / "by_name" / f"rolled-in_{name}_{i}.png").write_bytes(_png(image))
    (tmp_path / "by_name" / "notes.png").write_bytes(_png(stripes.images[0]))  # no <class>_<n> name
    for folder, classes in (
        ("by_folder", ["spots", "stripes"]),
        ("by_name", ["rolled-in_spots", "rolled-in_stripes"]),
    ):
        data, report = load_labelled_folder(tmp_path / folder, image_size=16)
        assert data.class_names == classes and data.counts() == dict.fromkeys(classes, 5)
        assert data.images.shape == (10, 16, 16)
    assert dict(report.skipped) == {"notes.png": "name is not <class>_<number>"}
    with pytest.raises(InputError, match="at least 2 classes"):
        load_labelled_folder(tmp_path / "by_folder" / "spots")


def test_labelled_zip_skips_unsafe_names_and_small_classes() -> None:
    stripes = _stripes(12)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (image, label) in enumerate(zip(stripes.images, stripes.labels, strict=True)):
            archive.writestr(f"defects/{stripes.class_names[label]}/{i}.png", _png(image))
        archive.writestr("../evil/1.png", _png(stripes.images[0]))
        archive.writestr("defects/rare/1.png", _png(stripes.images[0]))
    data, report = load_labelled_zip(buffer.getvalue(), image_size=16)
    assert data.class_names == ["spots", "stripes"] and len(data.labels) == 12
    assert dict(report.skipped)["../evil/1.png"] == "unsafe path"
    assert dict(report.skipped)["rare/"] == "only 1 image(s) in this class"
    with pytest.raises(InputError, match="not a zip"):
        load_labelled_zip(b"nope")


@pytest.mark.skipif(not NEU.is_dir(), reason=f"NEU sample absent: {NEU}")
def test_neu_sample_stratified_accuracy_well_above_chance() -> None:
    data, _ = load_labelled_folder(NEU, image_size=48)
    assert len(data.class_names) == 6 and len(data.labels) == 119
    config = ClassifierTrainConfig(image_size=48, width=12, steps=300, seed=0)
    evaluation = evaluate_classifier(data, config, test_fraction=0.3)
    # Measured 0.94 with this seed (0.72-0.94 over seeds 0-2); chance is 1/6.
    assert evaluation.accuracy >= 0.6

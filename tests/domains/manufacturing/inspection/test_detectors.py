"""Each detector learns from good images only and beats chance clearly on a small category."""

from __future__ import annotations

import json

import numpy as np
import pytest

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.detectors import build_detector, load_detector
from domains.manufacturing.inspection.metrics import image_auroc, pixel_auroc
from shared_models.exceptions import InputError, ModelError

# Defects a small tile shows plainly; a short budget must find them.
SMALL = BenchmarkSpec(
    surface="woven_fabric",
    image_size=64,
    n_train=32,
    n_calibration=19,
    n_test_good=12,
    n_per_defect=4,
    defect_types=("hole", "crack", "contamination"),
    seed=2,
)
BUDGETS = {
    "patch_stats": {"work_size": 64},
    "autoencoder": {"work_size": 64, "seconds": None, "steps": 120, "channels": (16, 32, 48)},
    "draem": {
        "work_size": 64,
        "seconds": None,
        "steps": 80,
        "recon_channels": (16, 32, 48),
        "seg_channels": (8, 16, 32),
        "exclude_textures": ("woven_fabric",),
    },
}
BARS = {"patch_stats": (0.85, 0.85), "autoencoder": (0.7, 0.7), "draem": (0.7, 0.7)}


@pytest.fixture(scope="module")
def small_set():
    return make_benchmark(SMALL)


@pytest.mark.parametrize("kind", list(BUDGETS))
def test_detector_beats_chance_and_survives_save_and_load(kind, small_set, tmp_path):
    detector = build_detector(kind, **BUDGETS[kind])
    report = detector.fit(small_set.train)
    assert report.steps > 0
    scores = detector.score(small_set.test)
    assert scores.maps.shape == small_set.test_masks.shape and scores.image_scores.shape == (
        len(small_set.test),
    )
    image_bar, pixel_bar = BARS[kind]
    assert image_auroc(scores.image_scores, small_set.is_defective) >= image_bar
    assert pixel_auroc(scores.maps, small_set.test_masks) >= pixel_bar
    loaded = load_detector(detector.save(tmp_path / kind))
    again = loaded.score(small_set.test[:4])
    np.testing.assert_allclose(again.image_scores, scores.image_scores[:4], rtol=1e-4, atol=1e-5)


def test_wrong_sizes_and_settings_are_clear_errors(small_set, tmp_path):
    detector = build_detector("patch_stats", work_size=64)
    with pytest.raises(ModelError, match="not been fitted"):
        detector.score(small_set.test)
    detector.fit(small_set.train)
    with pytest.raises(InputError, match="trained on 64 x 64"):
        detector.score(np.zeros((1, 96, 96, 3), dtype=np.float32))
    with pytest.raises(InputError, match="at least 4"):
        build_detector("autoencoder").fit(small_set.train[:2])
    with pytest.raises(InputError, match="no setting"):
        build_detector("draem", epochs=3)
    with pytest.raises(InputError, match="unknown detector"):
        build_detector("isolation_forest")
    (tmp_path / "detector.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_detector(tmp_path)


def test_patch_stats_image_score_is_the_mean_of_the_hottest_pixels_and_old_saves_keep_the_maximum(
    small_set, tmp_path
):
    detector = build_detector("patch_stats", work_size=64, image_top_share=0.05)
    detector.fit(small_set.train)
    scores = detector.score(small_set.test[:3])
    flat = np.sort(scores.maps.reshape(3, -1), axis=1)[:, ::-1]
    top = round(flat.shape[1] * 0.05)
    np.testing.assert_allclose(scores.image_scores, flat[:, :top].mean(1), rtol=1e-5)
    assert np.all(scores.image_scores < flat[:, 0])
    # a detector saved before the setting existed was calibrated on the map's maximum, and keeps it
    folder = detector.save(tmp_path / "old")
    settings = json.loads((folder / "detector.json").read_text())
    del settings["config"]["image_top_share"]
    (folder / "detector.json").write_text(json.dumps(settings))
    old = load_detector(folder).score(small_set.test[:3])
    np.testing.assert_allclose(old.image_scores, flat[:, 0], rtol=1e-5)
    with pytest.raises(InputError, match="image_top_share"):
        build_detector("patch_stats", image_top_share=1.0)

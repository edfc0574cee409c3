"""Train, calibrate, inspect and evaluate end to end with the fast detector."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from domains.manufacturing.inspection import (
    BenchmarkSpec,
    InspectorSpec,
    evaluate,
    inspect_images,
    load_inspector,
    make_benchmark,
    train_inspector,
)
from domains.manufacturing.inspection.surfaces import make_tiles
from shared_models.exceptions import InputError, ModelError

SPEC = BenchmarkSpec(
    surface="wood_grain", image_size=64, n_train=40, n_calibration=39, n_test_good=10, n_per_defect=3
)


@pytest.fixture(scope="module")
def trained():
    data = make_benchmark(SPEC)
    inspector = train_inspector(data.train, data.calibration, InspectorSpec(false_alarm_rate=0.1))
    return data, inspector


def test_calibrated_threshold_meets_its_false_alarm_rate_on_fresh_good_parts(trained):
    _, inspector = trained
    fresh = make_tiles("wood_grain", 120, size=64, seed=99)  # never seen in training or calibration
    report = inspect_images(inspector, fresh)
    # the guarantee is on average; 120 fresh parts at a 10 % rate: allow sampling noise (3 sigma)
    assert report.failed / len(fresh) <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / len(fresh))


def test_failed_parts_show_regions_and_evaluation_beats_chance(trained):
    data, inspector = trained
    report = inspect_images(inspector, data.test, [f"t{i}" for i in range(len(data.test))])
    for verdict in report.verdicts:
        assert bool(verdict.regions) == (not verdict.passed)
    evaluation = evaluate(inspector, data, report)
    assert evaluation.image_auroc > 0.8 and evaluation.pixel_auroc > 0.8 and evaluation.pro > 0.5
    assert set(evaluation.per_defect) == set(data.defect_types)
    assert 0 <= evaluation.false_alarm_rate <= 1 and "hole_image_auroc" in evaluation.as_metrics()


def test_saved_inspector_loads_with_the_same_thresholds_and_scores(trained, tmp_path):
    data, inspector = trained
    loaded = load_inspector(inspector.save(tmp_path / "model"))
    assert loaded.image_threshold == inspector.image_threshold
    assert loaded.pixel_threshold == inspector.pixel_threshold
    again = inspect_images(loaded, data.test[:5])
    np.testing.assert_allclose(again.scores, inspect_images(inspector, data.test[:5]).scores, rtol=1e-5)


def test_too_few_good_images_for_the_rate_is_a_clear_error():
    images = make_tiles("painted_panel", 12, size=64)
    with pytest.raises(InputError, match="too few"):
        train_inspector(images, None, InspectorSpec(false_alarm_rate=0.05))
    with pytest.raises(InputError, match="between 0 and 1"):
        train_inspector(images, None, InspectorSpec(false_alarm_rate=1.5))


def test_a_stop_while_inspecting_keeps_the_images_scored_so_far(trained):
    data, inspector = trained
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress) -> None:
        messages.append(progress.message)
        if progress.step >= 8:
            stop.set()  # after the first batch

    report = inspect_images(inspector, data.test, on_progress=on_progress, stop=stop, batch_size=8)
    assert len(report.verdicts) == 8 and report.maps.shape[0] == 8 and len(report.scores) == 8
    assert messages == [
        f"inspecting images: 0 of {len(data.test)}",
        f"inspecting images: 8 of {len(data.test)}",
    ]


def test_patch_statistics_stopped_mid_fit_learn_nothing_and_training_says_so() -> None:
    data = make_benchmark(SPEC)
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress) -> None:
        messages.append(progress.message)
        if progress.message.startswith("computing features: 16"):
            stop.set()

    with pytest.raises(ModelError, match="stopped before it learned anything"):
        train_inspector(data.train, data.calibration, InspectorSpec(false_alarm_rate=0.1), on_progress, stop)
    assert [m for m in messages if not m.endswith(" s)")] == [  # without the "still busy (3 s)" ones
        "learning the patch filters",
        "computing features: 0 of 40 images",
        "computing features: 16 of 40 images",
    ]

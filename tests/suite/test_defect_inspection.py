"""Defect Inspection: the page trains on a built-in surface and inspects; the CLI and runner record runs."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.classifier import ClassifierTrainConfig
from domains.manufacturing.inspection.pipeline import InspectorSpec
from shared_models.exceptions import InputError
from suite.capabilities.defect_inspection.runner import (
    classify_and_record,
    inspect_and_record,
    list_models,
    open_inspector,
    train_and_record,
)
from suite.cli import main
from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/defect_inspection/page.py"
KEY = "defect-inspection"
TIMEOUT_S = 120


def test_page_trains_on_a_built_in_surface_then_inspects(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.selectbox(key=f"{KEY}.surface").set_value("circuit")
    app.button(key=f"{KEY}.train").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    metrics = {m.label: m.value for m in app.metric}
    assert float(metrics["Image AUROC"]) > 0.6 and float(metrics["Pixel AUROC"]) > 0.6
    assert {"Precision", "Recall", "False-alarm rate"} <= set(metrics)
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "defects.train" and record.status == "done"
    assert {"model", "evaluation.json", "scores.json", "examples.png"} <= set(record.artifacts)

    # Inspect tab: the benchmark's own test tiles, with the calibrated threshold
    app.button(key=f"{KEY}.inspect").click().run()
    assert app.button(key=f"{KEY}.train").disabled  # one job at a time on the page
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    inspected = {m.label: m.value for m in app.metric}
    assert int(inspected["Inspected"]) == 12 and 0 < int(inspected["Failed"]) <= 12
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Report (CSV)", "Overlays (zip)"} <= downloads
    assert Workspace(aigc_home).get_run(2).capability == "defects.inspect"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((array * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_set():
    spec = BenchmarkSpec(
        surface="painted_panel", image_size=64, n_train=30, n_calibration=19, n_test_good=8, n_per_defect=2
    )
    return make_benchmark(spec)


def test_runner_trains_on_good_images_only_and_inspects_a_folder_by_cli(
    small_set, aigc_home: Path, tmp_path: Path, capsys
) -> None:
    workspace = Workspace(aigc_home)
    good = np.concatenate([small_set.train, small_set.calibration])
    outcome = train_and_record(workspace, good, {"kind": "test"}, InspectorSpec(detector="patch_stats"))
    assert outcome.evaluation is None and outcome.status == "done"
    assert [r.id for r in list_models(workspace)] == [outcome.run_id]
    inspector = open_inspector(workspace, outcome.run_id)
    assert inspector.image_threshold == pytest.approx(outcome.inspector.image_threshold)

    folder = tmp_path / "incoming"
    folder.mkdir()
    for i, image in enumerate(small_set.test):
        (folder / f"{small_set.test_labels[i]}_{i}.png").write_bytes(_png(image))
    report = tmp_path / "report.csv"
    overlays = tmp_path / "overlays.zip"
    code = main(
        [
            "defects",
            "inspect",
            str(outcome.run_id),
            str(folder),
            "--report",
            str(report),
            "--overlays",
            str(overlays),
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == len(small_set.test)
    assert report.read_text().splitlines()[0].startswith("image,score,verdict")
    with zipfile.ZipFile(overlays) as archive:
        assert sum(n.startswith("overlays/") for n in archive.namelist()) == len(small_set.test)

    with pytest.raises(InputError, match="no images"):
        inspect_and_record(workspace, outcome.run_id, inspector, small_set.test[:0], [])


def test_cli_trains_on_a_folder_and_refuses_bad_input(small_set, aigc_home: Path, tmp_path: Path, capsys):
    folder = tmp_path / "good"
    folder.mkdir()
    for i, image in enumerate(np.concatenate([small_set.train, small_set.calibration])):
        (folder / f"good_{i}.png").write_bytes(_png(image))
    assert main(["defects", "train", "--normal", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"
    assert main(["defects", "list"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    # a rate that needs more held-out images than there are, and a budget for a detector without one
    assert main(["defects", "train", "--normal", str(folder), "--false-alarm-rate", "0.01"]) != 0
    assert "needs" in capsys.readouterr().err
    assert main(["defects", "train", "--normal", str(folder), "--seconds", "5"]) != 0
    assert "--seconds applies" in capsys.readouterr().err


def test_page_reports_a_bad_upload(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.radio(key=f"{KEY}.source").set_value("Upload (zip)").run()
    assert not app.exception, app.exception
    # AppTest cannot drive st.file_uploader; the upload check itself is what the page calls
    from domains.manufacturing.inspection.uploads import load_image_zip_for_inspection

    with pytest.raises(InputError, match="not a zip"):
        load_image_zip_for_inspection(b"plain text, not a zip")
    with pytest.raises(InputError):
        load_image_zip_for_inspection(_zip({"../evil.png": _png(np.zeros((8, 8, 3))), "notes.txt": b"hi"}))


def test_cli_classifies_labelled_defects_and_records_the_run(aigc_home: Path, tmp_path: Path, capsys):
    from tests.domains.manufacturing.inspection.test_classifier import _stripes

    data = _stripes(40)
    for i, (image, label) in enumerate(zip(data.images, data.labels, strict=True)):
        (tmp_path / f"{data.class_names[label]}_{i}.png").write_bytes(
            _png(np.repeat(image[..., None], 3, -1))
        )
    assert main(["defects", "classify", "--labelled", str(tmp_path), "--steps", "60"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert sorted(summary["classes"]) == ["spots", "stripes"] and summary["accuracy"] > 0.6
    record = Workspace(aigc_home).get_run(summary["run_id"])
    assert record.capability == "defects.classify" and {"classifier", "confusion.json"} <= set(
        record.artifacts
    )


def test_a_reloaded_page_finds_the_running_training_and_stops_it(app: AppTest, aigc_home: Path) -> None:
    """Patch statistics on the full-size benchmark: a stop before the fit is complete keeps no model."""
    app.switch_page(PAGE).run()
    app.selectbox(key=f"{KEY}.bench_size").set_value("Full: 256 px, 120 good tiles").run()
    app.button(key=f"{KEY}.train").click().run()
    assert app.button(key=f"{KEY}.train").disabled
    store = JobStore(Workspace(aigc_home))
    deadline = time.monotonic() + TIMEOUT_S
    while "patch filters" not in store.list(capability=KEY, limit=1)[0].message:
        assert time.monotonic() < deadline, "the fit did not start"
        time.sleep(0.1)
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key=f"{KEY}.train").disabled
    reloaded.button(key=f"{KEY}.stop").click().run()
    run_until_jobs_end(reloaded, TIMEOUT_S)
    run_until_jobs_end(app, TIMEOUT_S)
    for session in (app, reloaded):
        assert not session.exception, session.exception
        warnings = [w.value for w in session.warning]
        assert warnings == ["Training was stopped: stopped by the user."], warnings  # at its own pace
        assert any("No model was kept" in c.value for c in session.caption)
        assert not session.button(key=f"{KEY}.train").disabled
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None and record.artifacts == []
    assert "stopped before the detector learned anything" in record.error


def test_runner_keeps_a_network_stopped_mid_training_and_skips_its_evaluation(aigc_home: Path) -> None:
    data = make_benchmark(
        BenchmarkSpec(
            surface="brick", image_size=64, n_train=24, n_calibration=19, n_test_good=8, n_per_defect=2
        )
    )
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress) -> None:
        messages.append(progress.message)
        if progress.step >= 10:
            stop.set()

    spec = InspectorSpec(detector="autoencoder", settings={"seconds": 900.0, "steps": None, "work_size": 64})
    outcome = train_and_record(Workspace(aigc_home), data, {"kind": "built-in"}, spec, on_progress, stop)
    assert outcome is not None and outcome.status == "cancelled" and outcome.evaluation is None
    assert outcome.inspector.fit is not None and outcome.inspector.fit.steps == 10
    assert "calibrating on held-out good images" in messages
    assert not any(m.startswith("scoring the test set") for m in messages)
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "cancelled" and "evaluation skipped" in record.error
    assert "model" in record.artifacts and "evaluation.json" not in record.artifacts
    assert [r.id for r in list_models(Workspace(aigc_home))] == [outcome.run_id]


def test_runner_stops_inspection_and_classifier_training_keeping_what_they_did(
    small_set, aigc_home: Path
) -> None:
    from tests.domains.manufacturing.inspection.test_classifier import _stripes

    workspace = Workspace(aigc_home)
    good = np.concatenate([small_set.train, small_set.calibration])
    trained = train_and_record(workspace, good, {"kind": "test"}, InspectorSpec(detector="patch_stats"))
    assert trained is not None
    stop = threading.Event()

    def after_first_batch(progress) -> None:
        if progress.step >= 16:
            stop.set()

    images = np.concatenate([small_set.test, small_set.test])
    names = [f"image_{i}" for i in range(len(images))]
    inspected = inspect_and_record(
        workspace, trained.run_id, trained.inspector, images, names, None, after_first_batch, stop
    )
    assert inspected is not None and len(inspected.report.verdicts) == 16 == len(inspected.pictures)
    record = workspace.get_run(inspected.run_id)
    assert record.status == "cancelled" and "stopped after 16 of" in record.error
    assert len((workspace.run_dir(inspected.run_id) / "report.csv").read_text().splitlines()) == 17

    stop = threading.Event()

    def after_some_steps(progress) -> None:
        if progress.step >= 20:
            stop.set()

    classified = classify_and_record(
        workspace,
        _stripes(40),
        {"file": "test"},
        ClassifierTrainConfig(steps=1000),
        0.3,
        after_some_steps,
        stop,
    )
    record = workspace.get_run(classified.run_id)
    assert record.status == "cancelled" and "classifier" in record.artifacts
    assert 0 <= classified.evaluation.accuracy <= 1

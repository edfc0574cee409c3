from __future__ import annotations

import threading
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from domains.lab.image_lab import CLASSIFIER_MESSAGE, ImageLabSpec
from shared_models.datasets import load_digits
from shared_models.progress import Progress
from suite.capabilities.model_lab.runner import train_and_record
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/model_lab/page.py"
TRAIN_TIMEOUT_S = 240  # a 5 s training, plus the metrics classifier on first use, on 2 shared cores


def _train_tiny(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception
    app.selectbox(key="model-lab.dataset").set_value("digits")
    app.selectbox(key="model-lab.model").set_value("cvae")
    app.slider(key="model-lab.seconds").set_value(5)
    app.button(key="model-lab.train").click()
    return run_until_jobs_end(app, TRAIN_TIMEOUT_S)


def test_model_lab_trains_and_shows_samples_and_metrics(app: AppTest, aigc_home: Path) -> None:
    _train_tiny(app)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Run 1: CVAE on digits"]
    metrics = app.dataframe[0].value
    table = dict(zip(metrics["metric"], metrics["value"], strict=True))
    assert 0.0 <= float(table["Conditional accuracy"]) <= 1.0
    assert float(table["FD-classifier"]) > 0 and float(table["Training steps"]) > 0
    assert "Test ELBO (nats)" in table
    captions = [c for image in app.image for c in image.captions]
    assert "64 random samples" in captions and "A straight line in latent space" in captions
    assert any(c.startswith("One row per class: 0, 1, 2") for c in captions)
    assert "Top: held-out images; bottom: reconstructions" in captions
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Download PNG", "Download model (safetensors + card)"} <= downloads

    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "lab.train" and record.status == "done"
    assert {"model", "samples.png", "history.json"} <= set(record.artifacts)
    assert record.params["model"] == "cvae" and record.metrics["conditional_accuracy"] is not None


def test_model_trained_earlier_opens_without_retraining(app: AppTest, aigc_home: Path) -> None:
    _train_tiny(app)
    fresh = AppTest.from_file(app._script_path, default_timeout=60)
    fresh.switch_page(PAGE).run()
    assert "run 1 · cvae on digits" in fresh.selectbox(key="model-lab.earlier").options[0]
    fresh.button(key="model-lab.open").click().run()
    assert not fresh.exception
    assert [s.value for s in fresh.subheader] == ["Run 1: CVAE on digits"]
    assert Workspace(aigc_home).count_runs() == 1  # nothing was trained again


def test_model_lab_without_training_invites_to_train(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("press **Train**" in i.value for i in app.info)
    assert app.button(key="model-lab.train").disabled is False


def _zip_of_shapes(count_per_class: int = 40) -> bytes:
    import io
    import zipfile

    from PIL import Image

    from shared_models.datasets import make_shapes

    shapes = make_shapes(count_per_class * 3, 32, seed=3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (image, label) in enumerate(zip(shapes.images, shapes.labels, strict=True)):
            png = io.BytesIO()
            Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(png, format="PNG")
            archive.writestr(f"shapes/{shapes.class_names[label]}/{i}.png", png.getvalue())
    return buffer.getvalue()


def test_uploaded_zip_trains_a_conditional_model(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="model-lab.dataset").set_value("upload").run()
    app.file_uploader(key="model-lab.upload").set_value(
        ("shapes.zip", _zip_of_shapes(), "application/zip")
    ).run()
    assert any("120 images in 3 class(es)" in c.value for c in app.caption)
    app.radio(key="model-lab.colour").set_value("colour")
    app.selectbox(key="model-lab.model").set_value("cvae")
    app.slider(key="model-lab.seconds").set_value(5)
    app.button(key="model-lab.train").click()
    run_until_jobs_end(app, TRAIN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Run 1: CVAE on upload"]
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "done" and record.params["images"] == 120 and record.params["image_size"] == 32
    captions = [c for image in app.image for c in image.captions]
    assert any(c.startswith("One row per class: circle, square, triangle") for c in captions)


def test_bad_upload_shows_an_error_and_changes_nothing(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="model-lab.dataset").set_value("upload").run()
    app.file_uploader(key="model-lab.upload").set_value(
        ("x.zip", b"PK\x03\x04 broken", "application/zip")
    ).run()
    assert not app.exception
    assert any("not a zip archive" in e.value for e in app.error)
    assert Workspace(aigc_home).count_runs() == 0
    assert not (aigc_home / "models").exists()


def _wait_for_a_run(workspace: Workspace, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while workspace.count_runs() == 0:
        assert time.monotonic() < deadline, "the training did not start"
        time.sleep(0.2)


def test_a_reloaded_page_finds_the_training_and_stop_keeps_the_unmeasured_model(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="model-lab.dataset").set_value("digits")
    app.selectbox(key="model-lab.model").set_value("cvae")
    app.slider(key="model-lab.seconds").set_value(600)
    app.button(key="model-lab.train").click().run()
    assert not app.exception, app.exception
    assert app.button(key="model-lab.train").disabled  # one training at a time per page
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="model-lab.train").disabled
    _wait_for_a_run(Workspace(aigc_home))  # a stop before the data is loaded would leave no run
    reloaded.button(key="model-lab.stop").click().run()
    run_until_jobs_end(reloaded, TRAIN_TIMEOUT_S)
    assert not reloaded.exception, reloaded.exception
    assert any("Training was stopped" in w.value for w in reloaded.warning)
    assert [s.value for s in reloaded.subheader] == ["Run 1: CVAE on digits"]
    assert any("Not measured" in c.value for c in reloaded.caption)
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    assert {"model", "samples.png", "history.json"} <= set(record.artifacts)
    assert record.metrics["steps"] >= 1 and "fd_classifier" not in record.metrics
    assert not (aigc_home / "models").exists()  # the stop skipped the classifier's first-use training
    run_until_jobs_end(app, TRAIN_TIMEOUT_S)
    assert [s.value for s in app.subheader] == ["Run 1: CVAE on digits"]


def test_a_stop_while_the_classifier_trains_keeps_the_complete_model_unmeasured(aigc_home: Path) -> None:
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress: Progress) -> None:
        messages.append(progress.message)
        if progress.message == CLASSIFIER_MESSAGE:
            stop.set()

    spec = ImageLabSpec(model="cvae", dataset="digits", seconds=None, steps=5, batch_size=16, width=8)
    outcome = train_and_record(Workspace(aigc_home), spec, load_digits(), on_progress, stop)
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "cancelled" and "not measured" in (record.error or "")
    assert record.metrics["steps"] == 5 and "fd_classifier" not in record.metrics
    assert {"model", "samples.png", "history.json"} <= set(record.artifacts)
    assert "saving the model and its samples" in messages
    assert messages.index("saving the model and its samples") < messages.index(CLASSIFIER_MESSAGE)
    assert not (aigc_home / "models").exists()  # no half-trained classifier is stored

"""Style Transfer in the suite: recorded runs, the `aigc style` commands, the page's main action as a
job (found again after a reload, stopped with its painting so far), and one range per control."""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from domains.creative import PAINTERLY_LIMITS, PainterlyConfig, StyleSettings, content_photo, draw_style
from domains.creative.fast import FastStyleConfig, list_fast_styles
from domains.creative.images import resize
from shared_models.exceptions import InputError
from suite.capabilities.style_transfer.cli import PAINTERLY_FLAGS, register
from suite.capabilities.style_transfer.runner import (
    list_results,
    store_root,
    stylise_and_record,
    train_and_record,
    train_job,
)
from suite.cli import main
from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/style_transfer/page.py"
STYLISE_TIMEOUT_S = 180  # a 256 px single-scale painting on 2 shared cores, plus first imports


def test_stylisation_is_recorded_with_its_artifacts(aigc_home: Path) -> None:
    workspace = Workspace(aigc_home)
    content = resize(content_photo("coffee"), (48, 64))
    settings = StyleSettings(method="colour", colour_method="sliced-ot", painterly=PainterlyConfig(64))
    outcome = stylise_and_record(workspace, content, "coffee", draw_style("mosaic", 64), "mosaic", settings)
    record = workspace.get_run(outcome.run_id)
    assert record.capability == "style.apply" and record.status == "done"
    assert {"result.png", "before_after.png", "measures.json", "style.png"} <= set(record.artifacts)
    assert record.params["method"] == "colour" and record.params["style"] == "mosaic"
    measures = json.loads(workspace.artifact_path(record.id, "measures.json").read_text())
    assert measures["colour_distance"] == record.metrics["colour_distance"]
    assert Image.open(workspace.artifact_path(record.id, "result.png")).size == (64, 48)
    assert [r.id for r in list_results(workspace)] == [record.id]


def test_a_stopped_painting_keeps_its_partial_result(aigc_home: Path) -> None:
    workspace = Workspace(aigc_home)
    stop = threading.Event()
    stop.set()
    settings = StyleSettings(painterly=PainterlyConfig(output_size=64, scales=1, iterations=1))
    content = resize(content_photo("astronaut"), (64, 64))
    outcome = stylise_and_record(
        workspace, content, "astronaut", draw_style("swirl", 64), "swirl", settings, stop=stop
    )
    record = workspace.get_run(outcome.run_id)
    assert outcome.result.stopped and record.status == "cancelled"
    assert "result.png" in record.artifacts and record.metrics["stopped"] is True


def test_a_painting_ended_while_measured_keeps_its_image(
    app: AppTest, aigc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker terminated (SIGTERM: a KeyboardInterrupt in it) while measuring: the image is saved."""

    def terminated(*args: object) -> None:
        raise KeyboardInterrupt("stopped by the user (the work did not stop at its own pace)")

    monkeypatch.setattr("domains.creative.style_transfer.measure", terminated)
    workspace = Workspace(aigc_home)
    settings = StyleSettings(method="colour", painterly=PainterlyConfig(64))
    with pytest.raises(KeyboardInterrupt):
        stylise_and_record(
            workspace, content_photo("coffee"), "coffee", draw_style("mosaic", 64), "mosaic", settings
        )
    record = workspace.list_runs(capability="style.apply")[0]
    assert record.status == "cancelled" and {"result.png", "before_after.png"} <= set(record.artifacts)
    app.switch_page(PAGE).run()
    app.button(key=f"style-transfer.open_{record.id}").click().run()  # from the gallery
    assert not app.exception, app.exception
    assert {m.label: m.value for m in app.metric}["Colour distance"] == "not measured"


def test_a_stopped_training_job_ends_cancelled_and_stores_nothing(aigc_home: Path) -> None:
    workspace, stop = Workspace(aigc_home), threading.Event()
    messages: list[str] = []
    stop.set()  # as if Stop came while the first training example was painted
    assert (
        train_job(
            workspace, draw_style("swirl", 512), "swirl", 30.0, lambda p: messages.append(p.message), stop
        )
        is None
    )
    record = workspace.list_runs(capability="style.train")[0]
    assert record.status == "cancelled" and list_fast_styles(store_root(workspace)) == []
    assert messages[0] == "preparing the training examples"


def test_cli_stylises_a_folder_and_explains_bad_input(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    cat = Image.fromarray((content_photo("chelsea") * 255).astype(np.uint8))
    cat.resize((80, 60)).save(inputs / "cat.jpg")
    (inputs / "readme.txt").write_text("not an image")
    out = tmp_path / "out"
    code = main(["style", "apply", "--style", "pointillism", "--in", str(inputs), "--out", str(out),
                 "--method", "colour", "--size", "64"])  # fmt: skip
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["file"]).name for r in rows] == ["cat_pointillism.png"]
    assert Image.open(out / "cat_pointillism.png").size == (64, 48)
    assert Workspace(aigc_home).get_run(rows[0]["run_id"]).status == "done"

    assert main(["style", "list"]) == 0
    assert "swirl" in json.loads(capsys.readouterr().out)["built_in_styles"]
    assert main(["style", "apply", "--style", "cubism", "--in", str(inputs), "--out", str(out)]) == 2
    assert (
        main(
            ["style", "apply", "--style", "swirl", "--method", "fast", "--in", str(inputs), "--out", str(out)]
        )
        == 2
    )
    assert "no fast style is trained" in capsys.readouterr().err


def test_page_stylises_and_shows_measures_and_downloads(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert any("press **Stylise**" in i.value for i in app.info)
    app.selectbox(key="style-transfer.Style").set_value("stained_glass")
    app.select_slider(key="style-transfer.size").set_value(256)
    app.slider(key="style-transfer.scales").set_value(1)
    app.slider(key="style-transfer.iterations").set_value(1)
    app.button(key="style-transfer.stylise").click()
    run_until_jobs_end(app, STYLISE_TIMEOUT_S)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader][:1] == ["Run 1: astronaut in the style of stained_glass"]
    metrics = {m.label: m.value for m in app.metric}
    assert float(metrics["Colour distance"]) > 0 and 0 < float(metrics["SSIM to the photo"]) <= 1
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Result (PNG)", "Before/after (PNG)", "Measures (JSON)"} <= downloads
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "done" and record.params["painterly"]["output_size"] == 256
    assert record.params["method"] == "painterly" and record.metrics["texture_distance"] > 0


def test_page_applies_a_fast_style_trained_earlier(app: AppTest, aigc_home: Path) -> None:
    tiny = {
        "data_size": 64,
        "painterly_scales": 1,
        "painterly_iterations": 1,
        "crop": 32,
        "crops_per_image": 4,
    }
    network = FastStyleConfig(channels=(8, 8, 8), residual_blocks=1)
    trained = train_and_record(
        Workspace(aigc_home),
        draw_style("swirl", 512),
        "swirl",
        steps=3,
        seconds=None,
        network=network,
        **tiny,
    )
    assert Workspace(aigc_home).get_run(trained.run_id).capability == "style.train"

    app.switch_page(PAGE).run()
    app.selectbox(key="style-transfer.Style").set_value("swirl")
    app.radio(key="style-transfer.method").set_value("fast")
    app.select_slider(key="style-transfer.size").set_value(256)
    app.run()
    assert app.selectbox(key="style-transfer.fast").options[0].startswith("swirl · trained")
    app.button(key="style-transfer.stylise").click()
    run_until_jobs_end(app, STYLISE_TIMEOUT_S)
    assert not app.exception, app.exception
    record = Workspace(aigc_home).get_run(trained.run_id + 1)
    assert record.status == "done" and record.params["method"] == "fast"
    assert record.params["fast_style"] == {"key": trained.fast_style.folder.name, "name": "swirl"}
    assert [s.value for s in app.subheader][:1] == [f"Run {record.id}: astronaut in the style of swirl"]


def test_a_reloaded_page_finds_the_running_painting_and_a_stop_keeps_it(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="style-transfer.Style").set_value("swirl")
    app.select_slider(key="style-transfer.size").set_value(1024)
    app.slider(key="style-transfer.scales").set_value(4)
    app.slider(key="style-transfer.iterations").set_value(10)  # many minutes on 2 cores
    app.button(key="style-transfer.stylise").click().run()
    assert app.button(key="style-transfer.stylise").disabled  # one job at a time per page
    store, deadline = JobStore(Workspace(aigc_home)), time.monotonic() + STYLISE_TIMEOUT_S
    while not any(r.step >= 1 for r in store.list(statuses=["running"])):  # a first round is painted
        assert time.monotonic() < deadline, "the painting did not start"
        time.sleep(0.2)
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="style-transfer.stylise").disabled
    reloaded.button(key="style-transfer.stop").click().run()
    run_until_jobs_end(reloaded, STYLISE_TIMEOUT_S)
    assert any("Stylising was stopped" in w.value for w in reloaded.warning), reloaded.warning
    assert any("painting so far was measured and saved" in i.value for i in reloaded.info)
    record = Workspace(aigc_home).list_runs(capability="style.apply")[0]
    assert record.status == "cancelled" and record.job_id is not None and record.metrics["stopped"] is True
    assert "result.png" in record.artifacts  # a cooperative stop: the worker saved the painting itself
    assert [s.value for s in reloaded.subheader][:1] == [f"Run {record.id}: astronaut in the style of swirl"]
    assert Image.open(Workspace(aigc_home).artifact_path(record.id, "result.png")).size == (1024, 1024)


def _accepts(flag: str, value: float) -> bool:
    parser = argparse.ArgumentParser(exit_on_error=False)
    register(parser.add_subparsers())
    base = ["style", "apply", "--style", "swirl", "--in", "a", "--out", "b"]
    try:
        parser.parse_args([*base, flag, str(value)])
    except SystemExit:  # a usage error (argparse exits on a bad value of a sub-command)
        return False
    return True


def test_the_page_and_the_cli_take_exactly_the_domains_ranges(
    app: AppTest, aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app.switch_page(PAGE).run()
    sizes = [int(o) for o in app.select_slider(key="style-transfer.size").options]
    widgets = {
        "output_size": (min(sizes), max(sizes)),
        "seed": (
            app.number_input(key="style-transfer.seed").min,
            app.number_input(key="style-transfer.seed").max,
        ),
        **{
            name: (app.slider(key=f"style-transfer.{name}").min, app.slider(key=f"style-transfer.{name}").max)
            for name in ("content_weight", "style_scale", "scales", "iterations")
        },
    }
    assert widgets == {name: (limit.low, limit.high) for name, limit in PAINTERLY_LIMITS.items()}
    assert {field for field, _, _ in PAINTERLY_FLAGS.values()} == set(PAINTERLY_LIMITS)
    for flag, (field, kind, _) in PAINTERLY_FLAGS.items():
        limit = PAINTERLY_LIMITS[field]
        step = 1 if kind is int else 0.01
        assert _accepts(flag, limit.low) and _accepts(flag, limit.high), flag
        assert not _accepts(flag, limit.low - step) and not _accepts(flag, limit.high + step), flag
        with pytest.raises(InputError, match=field.replace("_", " ")):
            PainterlyConfig(**{field: kind(limit.high + step)})
    assert "is outside 0.5-3.0" in capsys.readouterr().err

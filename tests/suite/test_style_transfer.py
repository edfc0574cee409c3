"""Style Transfer in the suite: recorded runs, the `aigc style` commands and the page's main action."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from domains.creative import PainterlyConfig, StyleSettings, content_photo, draw_style
from domains.creative.fast import FastStyleConfig
from domains.creative.images import resize
from suite.cli import main
from suite.runners.style import list_results, stylise_and_record, train_and_record
from suite.workspace import Workspace

PAGE = "pages/style_transfer.py"
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
    app.run(timeout=STYLISE_TIMEOUT_S)  # the page polls until the painting has finished
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
    app.run(timeout=STYLISE_TIMEOUT_S)
    assert not app.exception, app.exception
    record = Workspace(aigc_home).get_run(trained.run_id + 1)
    assert record.status == "done" and record.params["method"] == "fast"
    assert record.params["fast_style"] == {"key": trained.fast_style.folder.name, "name": "swirl"}
    assert [s.value for s in app.subheader][:1] == [f"Run {record.id}: astronaut in the style of swirl"]

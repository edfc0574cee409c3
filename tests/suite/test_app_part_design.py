from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from suite.workspace import Workspace

PAGE = "pages/part_design.py"
STUDY_TIMEOUT_S = 180  # a few coarse trials on 2 shared cores


def _short_study(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.selectbox(key="part-design.family").set_value("plate").run()
    app.select_slider(key="part-design.resolution").set_value(1)
    app.number_input(key="part-design.trials").set_value(4)
    app.text_input(key="part-design.study").set_value("apptest-plate")
    app.button(key="part-design.optimise").click()
    return app.run(timeout=STUDY_TIMEOUT_S)  # the page polls (st.rerun) until the study has finished


def test_part_design_runs_a_study_and_shows_a_design_in_3d(app: AppTest, aigc_home: Path) -> None:
    _short_study(app)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Study apptest-plate (run 1)"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Trials"] == "4" and int(metrics["Feasible"]) >= 1
    design = app.selectbox(key="part-design.trial.apptest-plate")
    assert design.value is not None and "feasible" in design.format_func(design.value)
    charts = [c for c in app.get("plotly_chart")]
    assert any('"type":"mesh3d"' in c.proto.spec.replace(" ", "") for c in charts)
    numbers = app.dataframe[0].value
    assert "Peak von Mises (MPa)" in list(numbers["quantity"])
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {
        "Download STL",
        "Download GLB",
        "Download 3MF",
        "Download JSON",
        "Download trials (CSV)",
    } <= downloads

    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "part.optimize" and record.status == "done"
    assert {"trials.csv", "study_spec.json", "best.stl", "best.glb", "best.3mf", "best_design.json"} <= set(
        record.artifacts
    )
    assert record.metrics["trials"] == 4 and record.params["spec"]["family"] == "plate"

    fresh = AppTest.from_file(app._script_path, default_timeout=60)  # a new session reopens it
    fresh.switch_page(PAGE).run()
    assert "apptest-plate" in fresh.selectbox(key="part-design.earlier").options[0]
    fresh.button(key="part-design.open").click().run()
    assert not fresh.exception
    assert [s.value for s in fresh.subheader] == ["Study apptest-plate (run 1)"]
    assert Workspace(aigc_home).count_runs() == 1


def test_bad_range_shows_an_error_and_writes_nothing(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.multiselect(key="part-design.objectives").set_value([]).run()
    assert any("at least one objective" in i.value for i in app.info)
    assert app.button(key="part-design.optimise").disabled
    app.multiselect(key="part-design.objectives").set_value(["mass"]).run()
    app.number_input(key="part-design.load.l-bracket").set_value(0.0).run()
    assert any("positive force" in e.value for e in app.error)
    assert Workspace(aigc_home).count_runs() == 0

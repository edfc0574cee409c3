from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from suite.jobs import JobStore
from suite.jobs.service import shutdown_job_services
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/part_design/page.py"
STUDY_TIMEOUT_S = 180  # a few coarse trials on 2 shared cores


def _short_study(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.selectbox(key="part-design.family").set_value("plate").run()
    app.select_slider(key="part-design.resolution").set_value(1)
    app.number_input(key="part-design.trials").set_value(4)
    app.text_input(key="part-design.study").set_value("apptest-plate")
    app.button(key="part-design.optimise").click()
    return run_until_jobs_end(app, STUDY_TIMEOUT_S)


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


def _wait_for_trials(home: Path, finished: int, timeout: float = STUDY_TIMEOUT_S) -> None:
    store = JobStore(Workspace(home))
    deadline = time.monotonic() + timeout
    while store.list(capability="part-design", limit=1)[0].step < finished:
        assert time.monotonic() < deadline, f"fewer than {finished} trials after {timeout} s"
        time.sleep(0.2)


def test_a_reloaded_page_finds_the_running_study_and_a_stop_keeps_its_trials(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="part-design.family").set_value("plate").run()
    app.select_slider(key="part-design.resolution").set_value(1)
    app.number_input(key="part-design.trials").set_value(2000)
    app.text_input(key="part-design.study").set_value("apptest-long")
    app.button(key="part-design.optimise").click().run()
    assert app.button(key="part-design.optimise").disabled  # one job at a time on the page
    _wait_for_trials(aigc_home, 2)
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="part-design.optimise").disabled
    reloaded.button(key="part-design.stop").click().run()
    run_until_jobs_end(reloaded, STUDY_TIMEOUT_S)
    run_until_jobs_end(app, STUDY_TIMEOUT_S)
    for session in (app, reloaded):
        assert not session.exception, session.exception
        assert any("was stopped" in w.value for w in session.warning), [w.value for w in session.warning]
        assert [s.value for s in session.subheader] == ["Study apptest-long (run 1)"]
        assert int({m.label: m.value for m in session.metric}["Trials"]) >= 2  # the finished ones, shown
        assert not session.button(key="part-design.optimise").disabled
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    assert record.metrics["trials"] >= 2 and "trials.csv" in record.artifacts

    # after an app restart the result is gone from memory: Home's link reopens the study from its run
    shutdown_job_services()
    restarted = AppTest.from_file(APP_FILE, default_timeout=60)
    restarted.query_params["job"] = str(record.job_id)
    restarted.switch_page(PAGE).run()
    assert not restarted.exception, restarted.exception
    assert any("was stopped" in w.value for w in restarted.warning)
    assert [s.value for s in restarted.subheader] == ["Study apptest-long (run 1)"]

"""The Topology page: run a small problem to the end, a custom problem, and an oversized grid refused."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/topology/page.py"
RUN_TIMEOUT_S = 120  # a 30 x 10 problem takes about a second


def _open(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_topology_runs_and_shows_part_numbers_and_downloads(app: AppTest, aigc_home: Path) -> None:
    _open(app)
    app.number_input(key="topology.nelx").set_value(30)
    app.number_input(key="topology.nely").set_value(10)
    app.number_input(key="topology.max_iter").set_value(40)
    app.button(key="topology.run").click()
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    labels = {m.label: m.value for m in app.metric}
    assert "Volume fraction" in labels, (
        [w.value for w in app.warning],
        [i.value for i in app.info],
        [c.value for c in app.caption],
        [getattr(p, "text", None) for p in app.get("progress")],
    )
    assert float(labels["Volume fraction"]) == pytest_approx(0.5)
    assert float(labels["Compliance"]) > 0 and labels["Mass"].endswith(" g")
    assert "Max von Mises" in labels and labels["Max von Mises"].endswith("MPa")
    assert "Quick check with the Part Design FE core" in [s.value for s in app.subheader]
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"STL", "GLB", "3MF", "PNG", "CSV", "History", "JSON"} <= downloads
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "manufacturing.topology" and record.status == "done"
    assert record.params["problem"]["nelx"] == 30 and record.metrics["watertight"] is True

    # "Send to Part Design": the design opens there, ready for a check in another material
    app.button(key="topology.send").click()
    app.run(timeout=RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert "Design from Topology run 1" in [s.value for s in app.subheader]
    # AppTest reruns the page it was told to open, where a browser follows st.switch_page's new URL
    app.switch_page("capabilities/part_design/page.py").run()
    app.selectbox(key="part-design.topo.material").set_value("s355")
    app.button(key="part-design.topo.check").click()
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    checked = {m.label: m.value for m in app.metric}
    assert checked["Max deflection"].endswith("mm") and float(checked["Safety factor"]) > 0
    check = Workspace(aigc_home).list_runs(limit=1, capability="part.check-topology")[0]
    assert check.params["topology_run"] == 1, [(r.id, r.capability) for r in Workspace(aigc_home).list_runs()]
    assert check.capability == "part.check-topology" and check.params["material"] == "s355"
    assert check.metrics["max_displacement_mm"] < record.metrics["fe_max_displacement_mm"]  # steel is stiffer


def test_custom_problem_runs_and_an_oversized_grid_is_refused_before_a_run(
    app: AppTest, aigc_home: Path
) -> None:
    _open(app)
    app.selectbox(key="topology.problem").set_value("custom")
    app.run()
    assert not app.exception, app.exception
    app.slider(key="topology.volfrac").set_value(0.4)
    app.button(key="topology.run").click()
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    assert not app.error, [e.value for e in app.error]  # the default custom table is a valid problem
    assert Workspace(aigc_home).count_runs() == 1
    fresh = _open(AppTest.from_file(app._script_path, default_timeout=60))
    fresh.selectbox(key="topology.problem").set_value("mbb")
    fresh.number_input(key="topology.nelx").set_value(100)
    fresh.number_input(key="topology.nely").set_value(40)
    fresh.number_input(key="topology.nelz").set_value(20)
    fresh.button(key="topology.run").click()
    fresh.run()
    assert any("limit" in e.value for e in fresh.error)
    assert Workspace(aigc_home).count_runs() == 1  # nothing recorded for the refused problem


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, abs=0.01)


def test_pareto_study_shows_its_front(app: AppTest, aigc_home: Path) -> None:
    _open(app)
    app.number_input(key="topology.nelx").set_value(16)
    app.number_input(key="topology.nely").set_value(8)
    app.number_input(key="topology.study_trials").set_value(3)
    app.number_input(key="topology.study_iter").set_value(8)
    app.button(key="topology.study").click()
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    front = app.dataframe[0].value
    assert len(front) >= 1 and {"volfrac", "rmin", "penal", "compliance"} <= set(front.columns)
    record = Workspace(aigc_home).list_runs(limit=1)[0]
    assert record.capability == "manufacturing.topology-study" and record.metrics["trials"] == 3


def _wait_for_step(home: Path, step: int, timeout: float = RUN_TIMEOUT_S) -> None:
    store = JobStore(Workspace(home))
    deadline = time.monotonic() + timeout
    while store.list(capability="topology", limit=1)[0].step < step:
        assert time.monotonic() < deadline, f"not at step {step} after {timeout} s"
        time.sleep(0.2)


def test_a_reloaded_page_finds_the_running_optimisation_and_a_stop_keeps_the_design(
    app: AppTest, aigc_home: Path
) -> None:
    _open(app)
    app.number_input(key="topology.nelx").set_value(300)
    app.number_input(key="topology.nely").set_value(100)
    app.number_input(key="topology.max_iter").set_value(1000)
    app.button(key="topology.run").click().run()
    assert app.button(key="topology.run").disabled and app.button(key="topology.study").disabled
    _wait_for_step(aigc_home, 3)
    reloaded = _open(AppTest.from_file(APP_FILE, default_timeout=60))  # a new session
    assert reloaded.button(key="topology.run").disabled
    reloaded.button(key="topology.stop").click().run()
    run_until_jobs_end(reloaded, RUN_TIMEOUT_S)
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    for session in (app, reloaded):
        assert not session.exception, session.exception
        assert any("was stopped" in w.value for w in session.warning), [w.value for w in session.warning]
        assert "part not checked: stopped early" in " ".join(w.value for w in session.warning)
        labels = {m.label: m.value for m in session.metric}
        assert int(labels["Iterations"]) >= 3 and labels["Mass"] != "–"  # the design so far, as a part
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    assert {"density.csv", "part.stl"} <= set(record.artifacts)


def test_a_study_is_one_job_with_the_optimisation_and_a_stop_keeps_its_trials(
    app: AppTest, aigc_home: Path
) -> None:
    _open(app)
    app.number_input(key="topology.nelx").set_value(40)
    app.number_input(key="topology.nely").set_value(14)
    app.number_input(key="topology.study_trials").set_value(200)
    app.number_input(key="topology.study_iter").set_value(30)
    app.button(key="topology.study").click().run()
    assert app.button(key="topology.run").disabled and app.button(key="topology.study").disabled
    _wait_for_step(aigc_home, 2)  # two trials finished
    app.button(key="topology.stop").click().run()
    run_until_jobs_end(app, RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert any("The study was stopped" in w.value for w in app.warning)
    assert len(app.dataframe[0].value) >= 1  # the front of the finished trials
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "manufacturing.topology-study" and record.status == "cancelled"
    assert record.metrics["trials"] >= 2 and record.job_id is not None

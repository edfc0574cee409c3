"""The Topology page: run a small problem to the end, a custom problem, and an oversized grid refused."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from suite.workspace import Workspace

PAGE = "pages/topology.py"
RUN_TIMEOUT_S = 120  # a 30 x 10 problem takes about a second; the page polls until it is done


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
    app.run(timeout=RUN_TIMEOUT_S)
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
    app.switch_page("pages/part_design.py").run()
    app.selectbox(key="part-design.topo.material").set_value("s355")
    app.button(key="part-design.topo.check").click()
    app.run(timeout=RUN_TIMEOUT_S)
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
    app.run(timeout=RUN_TIMEOUT_S)
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
    app.run(timeout=RUN_TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    front = app.dataframe[0].value
    assert len(front) >= 1 and {"volfrac", "rmin", "penal", "compliance"} <= set(front.columns)
    record = Workspace(aigc_home).list_runs(limit=1)[0]
    assert record.capability == "manufacturing.topology-study" and record.metrics["trials"] == 3

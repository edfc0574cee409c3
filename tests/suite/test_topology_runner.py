"""`aigc topo run` and the runner behind the page: a recorded run with every file, nothing on bad input."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import trimesh

from domains.manufacturing.topology import TopologySettings
from domains.manufacturing.topology_problems import builtin_problem
from shared_models.progress import Progress
from suite.capabilities.topology.runner import optimize_and_record
from suite.cli import main
from suite.workspace import Workspace


def test_topo_run_records_a_run_with_its_part(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bracket.stl"
    argv = [
        "topo",
        "run",
        "--problem",
        "cantilever",
        "--nelx",
        "24",
        "--nely",
        "12",
        "--max-iter",
        "30",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    out_text = capsys.readouterr().out
    summary = json.loads(out_text[out_text.index("{") :])
    record = Workspace.from_env().list_runs(limit=1)[0]
    assert record.capability == "manufacturing.topology" and record.status == "done"
    assert {
        "part.stl",
        "part.glb",
        "part.3mf",
        "density.png",
        "density.csv",
        "history.csv",
        "problem.json",
    } <= set(record.artifacts)
    assert record.metrics["watertight"] is True
    assert record.metrics["fe_max_von_mises_mpa"] > 0 and record.metrics["part_mass_kg"] > 0
    assert record.params["settings"]["rmin"] == pytest.approx(1.5)  # 0.04 * nelx, at least 1.5
    assert trimesh.load(out).is_watertight
    assert summary["run_id"] == record.id and summary["compliance"] == record.metrics["compliance"]


def test_topo_run_rejects_bad_input_without_recording(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["topo", "run", "--volfrac", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert main(["topo", "run", "--nelx", "2000", "--nely", "500"]) == 2
    assert "limit" in capsys.readouterr().err
    assert Workspace.from_env().count_runs() == 0


def test_topo_study_and_worker_share_one_study(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--trials", "3", "--study", "cli-front"]
    argv = [
        "topo",
        "study",
        "--problem",
        "cantilever",
        "--nelx",
        "16",
        "--nely",
        "8",
        "--max-iter",
        "10",
        *common,
    ]
    assert main(argv) == 0
    assert "Pareto front" in capsys.readouterr().out
    assert main(["topo", "worker", "--trials", "4", "--study", "cli-front"]) == 0
    runs = Workspace.from_env().list_runs(limit=5)
    assert [r.capability for r in runs] == ["manufacturing.topology-study"] * 2
    assert runs[0].metrics["trials"] == 4 and "pareto.csv" in runs[0].artifacts
    assert (aigc_home / "studies.db").exists()


def test_part_design_checks_a_saved_topology_design_as_its_own_run(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["topo", "run", "--problem", "mbb", "--nelx", "24", "--nely", "8", "--max-iter", "30"]
    assert main(argv) == 0
    workspace = Workspace.from_env()
    topo = workspace.list_runs(limit=1)[0]
    capsys.readouterr()
    part = topo.params["part"]
    argv = ["part", "check-topology", str(topo.id), "--material", part["material"]]
    argv += ["--load", str(part["load_n"]), "--thickness", str(part["thickness_mm"])]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    check = workspace.get_run(printed["run"])
    assert check.capability == "part.check-topology" and check.status == "done"
    assert check.params["topology_run"] == topo.id and "check.json" in check.artifacts
    # the design read back from the run's files is the one the run checked itself
    for name in ("max_von_mises_mpa", "max_displacement_mm", "elements"):
        assert check.metrics[name] == pytest.approx(topo.metrics[f"fe_{name}"], rel=1e-4), name
    steel = main(
        ["part", "check-topology", str(topo.id), "--material", "s355", "--load", str(part["load_n"])]
    )
    assert steel == 0
    stiffer = json.loads(capsys.readouterr().out)
    assert stiffer["max_displacement_mm"] < check.metrics["max_displacement_mm"] / 2  # E 210 vs 69 GPa


def test_check_topology_refuses_other_runs_and_bad_loads_without_recording(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["topo", "run", "--problem", "mbb", "--nelx", "20", "--nely", "8", "--max-iter", "5"]) == 0
    workspace = Workspace.from_env()
    topo_id = workspace.list_runs(limit=1)[0].id
    with workspace.start_run("lab.train", {}) as other:
        pass
    before = workspace.count_runs()
    assert main(["part", "check-topology", str(other.id)]) != 0
    assert main(["part", "check-topology", str(topo_id), "--load", "0"]) != 0
    assert main(["part", "check-topology", "999"]) != 0
    assert workspace.count_runs() == before
    err = capsys.readouterr().err
    assert "not a topology optimisation" in err and "must be positive" in err


def test_a_stopped_optimisation_saves_its_design_and_part_but_skips_the_check(aigc_home: Path) -> None:
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        if progress.step >= 3:
            stop.set()

    workspace = Workspace.from_env()
    problem = builtin_problem("mbb", 30, 10)
    outcome = optimize_and_record(workspace, problem, TopologySettings(rmin=1.5), None, on_progress, stop)
    assert outcome is not None and outcome.result.stopped and outcome.result.iterations == 3
    assert outcome.check is None and "stopped early" in outcome.note and outcome.mesh is not None
    record = workspace.get_run(outcome.run_id)
    assert record.status == "cancelled" and "stopped at iteration 3" in record.error
    assert {"density.csv", "part.stl", "problem.json"} <= set(record.artifacts)


def test_a_stop_before_the_first_iteration_keeps_nothing(aigc_home: Path) -> None:
    stop = threading.Event()
    stop.set()
    workspace = Workspace.from_env()
    problem = builtin_problem("mbb", 30, 10)
    assert optimize_and_record(workspace, problem, TopologySettings(rmin=1.5), None, None, stop) is None
    record = workspace.list_runs(limit=1)[0]
    assert record.status == "cancelled" and record.artifacts == []

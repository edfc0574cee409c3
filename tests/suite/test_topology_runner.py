"""`aigc topo run` and the runner behind the page: a recorded run with every file, nothing on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh

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

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh

from suite.cli import main
from suite.workspace import Workspace


def test_part_optimize_records_a_run_and_exports_the_best_design(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["part", "optimize", "--family", "plate", "--load", "300", "--max-deflection", "0.1"]
    argv += ["--range", "thickness=2:8", "--set", "hole_rows=1", "--trials", "4", "--resolution", "1"]
    assert main([*argv, "--study", "cli-plate", "--seed", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["study"] == "cli-plate" and summary["trials"] == 4 and summary["run_id"] == 1
    assert summary["best_params"]["hole_rows"] == 1
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "part.optimize" and record.metrics["trials"] == 4
    assert main(["part", "studies"]) == 0
    assert capsys.readouterr().out.split()[:2] == ["cli-plate", "plate"]
    out = tmp_path / "best.stl"
    assert main(["part", "export", "--study", "cli-plate", "--format", "stl", "--out", str(out)]) == 0
    assert trimesh.load(out).is_watertight
    assert main(["part", "worker", "--study", "cli-plate", "--trials", "5"]) == 0  # joins by name alone
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["trials"] == 5


def test_part_commands_explain_bad_input(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["part", "families"]) == 0 and "l-bracket" in capsys.readouterr().out
    assert main(["part", "materials"]) == 0 and "Ti-6Al-4V" in capsys.readouterr().out
    base = ["part", "optimize", "--family", "beam", "--load", "100", "--trials", "2"]
    assert main([*base, "--range", "height=60:20"]) == 2
    assert "above the maximum" in capsys.readouterr().err
    assert main([*base, "--range", "height"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    assert main([*base, "--range", "height=20:40", "--storage", "postgresql://x@127.0.0.1:9/none"]) == 2
    assert "cannot open the study storage" in capsys.readouterr().err
    assert main(["part", "worker", "--study", "nothing-here"]) == 2
    assert Workspace(aigc_home).count_runs() == 0

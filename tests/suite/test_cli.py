from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from suite.cli import build_parser, main
from suite.commands.serve import APP_PATH, streamlit_command
from suite.workspace import Workspace


def _seed(home: Path) -> list[int]:
    ws = Workspace(home)
    with ws.start_run("lab.train", {"model": "vae"}) as first:
        first.log_metrics({"elbo": -95.25})
        first.save_bytes("grid.png", b"png")
    with pytest.raises(RuntimeError), ws.start_run("lab.sample") as second:
        raise RuntimeError("out of memory")
    return [first.id, second.id]


def test_runs_list_prints_a_table(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _seed(aigc_home)
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CAPABILITY", "STATUS"]
    assert lines[1].split()[:3] == [str(second), "lab.sample", "failed"]
    assert lines[2].split()[:3] == [str(first), "lab.train", "done"]
    assert "elbo=-95.25" in lines[2]


def test_runs_list_filters_and_json(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(aigc_home)
    assert main(["runs", "list", "--status", "failed", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["capability"] for r in rows] == ["lab.sample"]
    assert rows[0]["error"] == "RuntimeError: out of memory"


def test_runs_show_gives_paths_of_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "elsewhere"
    first, _ = _seed(home)
    assert main(["--home", str(home), "runs", "show", str(first)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["params"] == {"model": "vae"} and shown["status"] == "done"
    assert Path(shown["artifacts"][0]).read_bytes() == b"png"


def test_empty_workspace_and_unknown_run(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no runs yet"
    assert main(["runs", "show", "42"]) == 2
    assert "no run 42" in capsys.readouterr().err


def test_corrupt_workspace_is_an_error_not_a_traceback(
    aigc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aigc_home.mkdir(parents=True)
    (aigc_home / "runs.db").write_text("garbage" * 50)
    assert main(["runs", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aigc: error:") and "runs.db" in err and "Traceback" not in err


def test_serve_runs_this_app_headless() -> None:
    command = streamlit_command("127.0.0.1", 8600)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(APP_PATH)
    assert APP_PATH.is_file()
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[command.index("--server.headless") + 1] == "true"
    args = build_parser().parse_args(["serve", "--port", "9000"])
    assert args.port == 9000 and args.address == "127.0.0.1"


def test_console_script_is_installed() -> None:
    aigc = Path(sys.executable).parent / "aigc"
    done = subprocess.run([str(aigc), "--help"], capture_output=True, text=True, check=True)
    for command in ("runs", "serve"):
        assert command in done.stdout


def test_lab_train_then_sample(aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "train", "--dataset", "digits", "--model", "cvae", "--steps", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"] == 1 and out["steps"] == 5 and out["stopped_by"] == "steps"
    assert 0 <= out["conditional_accuracy"] <= 1
    grid = tmp_path / "grid.png"
    assert main(["lab", "sample", "1", "--n", "20", "--per-class", "--out", str(grid)]) == 0
    from PIL import Image

    with Image.open(grid) as image:
        assert image.size == ((2 * 30 + 2) * 2, (10 * 30 + 2) * 2)  # 10 rows of 2, enlarged x2
    assert main(["lab", "sample", "1", "--n", "0"]) == 2
    assert "--n must be between" in capsys.readouterr().err


def test_lab_sample_of_a_run_without_model(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(aigc_home)
    assert main(["lab", "sample", "1"]) == 2
    assert "saved no model" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["runs", "list"], ["jobs", "list"]])
def test_light_commands_start_without_torch(argv: list[str], aigc_home: Path) -> None:
    code = (
        "import sys\n"
        "from suite.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "NO-TORCH"


def test_listed_help_matches_each_group() -> None:
    from suite.cli import COMMAND_GROUPS

    parser = build_parser()  # every group loaded
    actions = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in actions._choices_actions}
    assert helps == {group.name: group.help for group in COMMAND_GROUPS}


def test_jobs_list_and_stop(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from suite.jobs import JobStore

    store = JobStore(Workspace(aigc_home))
    job_id = store.create("strategy-studio", "search", "200 trials")
    assert main(["jobs", "list", "--active"]) == 0
    assert "strategy-studio" in capsys.readouterr().out
    assert main(["jobs", "stop", str(job_id)]) == 0
    assert store.get(job_id).stop_requested is not None
    store.finish(job_id, "cancelled")
    assert main(["jobs", "stop", str(job_id)]) == 1

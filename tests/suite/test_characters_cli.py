"""`aigc characters generate`: a sprite sheet and a recorded run from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from suite.cli import main
from suite.workspace import Workspace


def test_generate_writes_a_sheet_and_records_a_run(
    aigc_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sheet.png"
    argv = ["characters", "generate", "--hair", "red", "--outfit", "armour", "--n", "6", "--steps", "20"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["characters"] == 6 and summary["sheet"] == str(out)
    sheet = Image.open(out)
    assert sheet.mode == "RGBA" and sheet.size == ((6 * 33 + 1) * 4, (1 * 33 + 1) * 4)
    record = Workspace(aigc_home).get_run(summary["run_id"])
    assert record.status == "done" and record.params["chosen"] == {"hair": "red", "outfit": "armour"}
    rows = json.loads(Workspace(aigc_home).artifact_path(record.id, "characters.json").read_text())
    assert all(r["attributes"]["outfit"] == "armour" for r in rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "0"], "--n must be between 1 and 256"),
        (["--card", "c.json"], "--card and --pitch need --brief"),
    ],
)
def test_bad_arguments_are_user_errors(
    aigc_home: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["characters", "generate", *argv]) == 2
    assert message in capsys.readouterr().err
    assert Workspace(aigc_home).count_runs() == 0


def test_unknown_attribute_value_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["characters", "generate", "--hair", "green"])
    assert "invalid choice: 'green'" in capsys.readouterr().err

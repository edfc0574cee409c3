"""The suite side of part design: a stopped study is kept and recorded as cancelled."""

from __future__ import annotations

import threading
from pathlib import Path

from suite.runners.part_design import optimize_and_record
from suite.workspace import Workspace
from tests.domains.manufacturing.test_optimize import plate_spec


def test_stop_ends_a_study_after_the_running_trial_and_keeps_it(tmp_path: Path) -> None:
    stop = threading.Event()

    def on_progress(progress: object) -> None:
        stop.set()  # as the page's Stop button does after the first report

    workspace = Workspace(tmp_path / "home")
    outcome = optimize_and_record(workspace, plate_spec(), 50, "stopped", None, on_progress, stop)
    assert outcome.stopped and len(outcome.result.trials) == 1
    record = workspace.get_run(outcome.run_id)
    assert record.status == "cancelled" and "stopped after 1 of 50 trials" in record.error
    assert "trials.csv" in record.artifacts

"""The suite side of part design: a stopped study is kept and recorded as cancelled."""

from __future__ import annotations

import threading
from pathlib import Path

from domains.manufacturing.materials import get_material
from domains.manufacturing.topology import TopologySettings
from domains.manufacturing.topology_problems import builtin_problem
from shared_models.progress import Progress
from suite.capabilities.part_design.runner import check_topology_design, optimize_and_record
from suite.capabilities.topology.runner import optimize_and_record as optimize_topology_run
from suite.workspace import Workspace
from tests.domains.manufacturing.test_optimize import plate_spec


def test_stop_ends_a_study_at_once_and_keeps_the_finished_trials(tmp_path: Path) -> None:
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress: Progress) -> None:
        messages.append(progress.message)
        if progress.message.endswith("complete"):
            stop.set()  # as the page's Stop button does after the first trial

    workspace = Workspace(tmp_path / "home")
    outcome = optimize_and_record(workspace, plate_spec(), 50, "stopped", None, on_progress, stop)
    assert messages[:2] == [
        "opening the study and solving the default design",
        "trial 0: building and solving the design",
    ]
    assert outcome.stopped and list(outcome.result.trials["state"]) == ["COMPLETE"]
    record = workspace.get_run(outcome.run_id)
    assert record.status == "cancelled" and "stopped after 1 of 50 trials" in record.error
    assert {"trials.csv", "best.stl"} <= set(record.artifacts)


def test_a_stop_before_any_trial_finished_records_an_empty_cancelled_study(tmp_path: Path) -> None:
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        if progress.message.startswith("trial 0"):
            stop.set()  # the first trial is abandoned

    workspace = Workspace(tmp_path / "home")
    outcome = optimize_and_record(workspace, plate_spec(), 50, "early", None, on_progress, stop)
    assert outcome.stopped and list(outcome.result.trials["state"]) == ["FAIL"]
    record = workspace.get_run(outcome.run_id)
    assert record.status == "cancelled" and record.metrics["trials"] == 0
    assert record.metrics["best_mass_kg"] is None and "best.stl" not in record.artifacts


def test_a_stopped_topology_check_keeps_nothing_and_is_recorded_as_cancelled(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "home")
    design = optimize_topology_run(workspace, builtin_problem("mbb", 30, 10), TopologySettings(rmin=1.5))
    assert design is not None
    stop = threading.Event()
    stop.set()
    material = get_material("s355")
    assert check_topology_design(workspace, design.run_id, material, 1000.0, 1.0, 10.0, stop) is None
    record = workspace.list_runs(limit=1, capability="part.check-topology")[0]
    assert record.status == "cancelled" and record.artifacts == []
    checked = check_topology_design(workspace, design.run_id, material, 1000.0, 1.0, 10.0)
    assert checked is not None and checked.check.safety_factor > 0

"""Design studies: constrained and Pareto searches, persistence, workers, resume, bad input.

The plate family at one voxel through the thickness keeps each trial to a fraction of a second.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from domains.manufacturing.materials import get_material
from domains.manufacturing.optimize import (
    Limits,
    PartDesignSpec,
    evaluate_design,
    list_studies,
    load_result,
    open_storage,
    optimize,
    prepare_study,
)
from shared_models.exceptions import InputError

ROOT = Path(__file__).resolve().parents[3]
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
WORKER = (
    "import sys\n"
    "from domains.manufacturing.optimize import optimize, open_storage, worker_seed_offset\n"
    "optimize(None, int(sys.argv[1]), open_storage(sys.argv[2], heartbeat_s=1), sys.argv[3],"
    " seed_offset=worker_seed_offset())\n"
)


def plate_spec(**changes: object) -> PartDesignSpec:
    settings: dict = {
        "family": "plate",
        "material": get_material("al6061-t6"),
        "load_n": 300.0,
        "ranges": {"thickness": (2.0, 8.0)},
        "limits": Limits(min_safety_factor=2.0, max_deflection_mm=0.2),
        "voxels_per_wall": 1,
        "seed": 3,
    }
    settings.update(changes)
    return PartDesignSpec(**settings)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'studies.db'}"


def test_constrained_study_finds_a_feasible_design_lighter_than_the_default(tmp_path: Path) -> None:
    spec = plate_spec()
    reports = []
    result = optimize(spec, 8, sqlite_url(tmp_path), "plate-mass", on_progress=reports.append)
    ended = [r for r in reports if "building" not in r.message]
    started = [r for r in reports if "building" in r.message]
    assert len(result.trials) == 8 and [r.step for r in ended] == list(range(1, 9))
    assert [r.step for r in started] == list(range(8))  # each trial says it started, with trials done
    assert result.baseline["feasible"] and result.best_numbers
    best = result.best_params
    assert best is not None and best["thickness"] < spec.baseline_params()["thickness"]
    assert result.mass_saved() > 0.05
    check = evaluate_design(spec, best)  # re-evaluated from its parameters alone: same verdict
    assert check.feasible and check.metrics["mass_kg"] == pytest.approx(
        result.baseline["mass_kg"] * (1 - result.mass_saved())
    )
    assert reports[-1].metrics["feasible"] == result.feasible_count


def test_multi_objective_study_returns_a_feasible_pareto_front(tmp_path: Path) -> None:
    spec = plate_spec(
        ranges={"thickness": (2.0, 8.0), "hole_diameter": (4.0, 12.0)},
        objectives=("mass", "deflection"),
        limits=Limits(2.0, 0.5),
    )
    result = optimize(spec, 6, sqlite_url(tmp_path), "plate-pareto")
    front = result.trials.set_index("number").loc[result.best_numbers]
    assert len(front) >= 2 and front["feasible"].all()
    values = front[["mass_kg", "deflection_mm"]].to_numpy()
    others = result.trials[result.trials["feasible"]][["mass_kg", "deflection_mm"]].to_numpy()
    for point in values:  # nothing feasible dominates a front member
        assert not np.any(np.all(others <= point, axis=1) & np.any(others < point, axis=1))
    assert np.all(np.diff(values[:, 0]) >= 0) and np.all(np.diff(values[:, 1]) <= 0)  # a trade-off


def test_when_nothing_is_feasible_the_least_violating_designs_are_given(tmp_path: Path) -> None:
    result = optimize(plate_spec(limits=Limits(2.0, 1e-6)), 4, sqlite_url(tmp_path), "impossible")
    assert result.best_numbers == [] and result.feasible_count == 0 and result.best_params is None
    assert 1 <= len(result.least_violating) <= 4 and result.mass_saved() is None


def test_bad_specs_and_storages_get_clear_errors(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with pytest.raises(InputError, match="above the maximum"):
        optimize(plate_spec(ranges={"thickness": (8.0, 2.0)}), 2, url, "s")
    with pytest.raises(InputError, match="positive force"):
        optimize(plate_spec(load_n=-5.0), 2, url, "s")
    with pytest.raises(InputError, match="objectives"):
        optimize(plate_spec(objectives=("beauty",)), 2, url, "s")
    with pytest.raises(InputError, match="cannot open the study storage"):
        open_storage("postgresql+psycopg2://nobody:secret@127.0.0.1:9/none")
    with pytest.raises(InputError, match="cannot open"):
        open_storage(f"sqlite:///{tmp_path}/missing/folder/x.db")
    # A default design that cannot be built: refused before any study is written.
    broken = PartDesignSpec(
        family="beam",
        material=get_material("s355"),
        load_n=100.0,
        ranges={"width": (20.0, 30.0)},
        fixed={"height": 20.0, "flange_thickness": 12.0},
        voxels_per_wall=1,
    )
    with pytest.raises(InputError, match="no web"):
        optimize(broken, 2, url, "broken")
    assert list_studies(url) == []
    optimize(plate_spec(), 1, url, "plates")
    beam = PartDesignSpec(
        family="beam", material=get_material("s355"), load_n=100.0, ranges={"height": (20.0, 40.0)}
    )
    with pytest.raises(InputError, match="belongs to the plate family"):
        optimize(beam, 2, url, "plates")
    with pytest.raises(InputError, match="other settings"):
        optimize(plate_spec(load_n=999.0), 2, url, "plates")
    with pytest.raises(InputError, match="no study named"):
        load_result(url, "nope")
    assert [s["study"] for s in list_studies(url)] == ["plates"]


def _run_workers(count: int, target: int, url: str, name: str) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(target), url, name], cwd=ROOT, env=env, stderr=subprocess.PIPE
        )
        for _ in range(count)
    ]


def test_two_processes_on_one_sqlite_study_lose_no_trial(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    prepare_study(plate_spec(), url, "shared")
    workers = _run_workers(2, 6, url, "shared")
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    trials = optuna.load_study(study_name="shared", storage=url).get_trials()
    states = {t.state for t in trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}, states
    assert sorted(t.number for t in trials) == list(range(len(trials))) and len(trials) >= 6
    by_worker = {t.user_attrs["metrics"]["worker"] for t in trials if "metrics" in t.user_attrs}
    assert len(by_worker) == 2  # both processes contributed to the one study


def _has_beaten(url: str, trial: optuna.trial.FrozenTrial) -> bool:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        query = "SELECT 1 FROM trial_heartbeats WHERE trial_id = ?"
        return db.execute(query, (trial._trial_id,)).fetchone() is not None


def test_a_study_resumes_after_its_worker_is_killed(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    prepare_study(plate_spec(), url, "resume")
    storage = open_storage(url, heartbeat_s=1)
    (worker,) = _run_workers(1, 50, url, "resume")
    deadline, victim = time.monotonic() + 240, None
    while time.monotonic() < deadline and victim is None:
        trials = optuna.load_study(study_name="resume", storage=storage).get_trials()
        done = [t for t in trials if t.state in FINISHED]
        # Only a trial that has beaten once: Optuna cannot tell a trial killed before its first
        # heartbeat from one just starting, so such a trial would never be failed (a real, tiny window).
        # It must also have drawn its design, so the retry can be checked to redo that same design.
        running = [
            t
            for t in trials
            if t.state == optuna.trial.TrialState.RUNNING and t.params and _has_beaten(url, t)
        ]
        if len(done) >= 2 and running:
            worker.send_signal(signal.SIGKILL)
            victim = running[0].number
        time.sleep(0.05)
    worker.wait(timeout=30)
    assert victim is not None, "the worker never ran two trials"
    study = optuna.load_study(study_name="resume", storage=storage)
    if study.trials[victim].state != optuna.trial.TrialState.RUNNING:
        pytest.skip("the trial finished in the instant before the kill; nothing was interrupted")
    finished_before = sum(t.state in FINISHED for t in study.trials)
    # the grace period (3 heartbeats) after which a silent trial counts as dead, plus a second:
    # SQLite's now() and the stored heartbeat are whole seconds, so 3.5 s can read as 3
    time.sleep(5.0)
    result = optimize(None, finished_before + 2, storage, "resume")
    trials = optuna.load_study(study_name="resume", storage=storage).trials
    assert trials[victim].state == optuna.trial.TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == victim]
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    assert retried[0].params == trials[victim].params  # the interrupted design itself was redone
    assert sum(t.state in FINISHED for t in trials) == finished_before + 2
    assert not any(t.state == optuna.trial.TrialState.RUNNING for t in trials)
    assert len(result.trials) == len(trials)


def test_postgresql_storage_shares_a_study(postgres_url: str) -> None:
    spec = plate_spec()
    first = optimize(spec, 3, postgres_url, "pg-study")
    assert len(first.trials) == 3
    joined = optimize(None, 5, postgres_url, "pg-study")  # a worker: name and URL are enough
    assert len(joined.trials) == 5 and joined.spec == spec
    assert [s["study"] for s in list_studies(postgres_url)] == ["pg-study"]
    assert load_result(postgres_url, "pg-study").best_numbers == joined.best_numbers


def test_a_stop_abandons_the_running_trial_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    stop = threading.Event()

    def on_progress(progress) -> None:
        if progress.message.startswith("trial 2:"):  # the third trial starts: stop now
            stop.set()

    result = optimize(plate_spec(), 10, sqlite_url(tmp_path), "stopped", on_progress, stop)
    assert list(result.trials["state"]) == ["COMPLETE", "COMPLETE", "FAIL"]
    assert "stopped" in result.trials["error"].iloc[2]
    assert result.best_numbers  # the finished trials still rank
    again = optimize(plate_spec(), 4, sqlite_url(tmp_path), "stopped")  # the study resumes
    assert (again.trials["state"] == "COMPLETE").sum() == 4

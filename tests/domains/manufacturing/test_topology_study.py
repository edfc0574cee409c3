"""The Optuna layer: a Pareto front of volume fraction vs compliance, workers joining a stored study."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import optuna
import pytest

from domains.manufacturing.topology import TopologySettings, optimize_topology, standard_compliance
from domains.manufacturing.topology_problems import builtin_problem
from domains.manufacturing.topology_study import TopologyStudySpec, load_topology_study, tune_topology
from shared_models.exceptions import InputError

SPEC = TopologyStudySpec(problem="cantilever", nelx=20, nely=10, max_iter=15, volfrac=(0.25, 0.6))


def test_pareto_front_is_non_dominated_and_a_worker_continues_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    first = tune_topology(SPEC, 6, url, "front")
    assert len(first.trials) == 6
    front = first.pareto[["volume_fraction", "compliance"]].to_numpy()
    assert len(front) >= 2
    for v in front:  # nobody in the whole study beats a front member in both objectives
        others = first.trials[["volume_fraction", "compliance"]].to_numpy()
        assert not np.any(np.all(others <= v, axis=1) & np.any(others < v, axis=1))
    # more material, less compliance along the front
    assert np.all(np.diff(front[:, 1]) < 0)
    joined = tune_topology(None, 8, url, "front", seed_offset=7)  # a worker: spec read from the storage
    assert len(joined.trials) == 8 and joined.spec == SPEC
    assert len(load_topology_study(url, "front").trials) == 8


def test_studies_refuse_mismatches_and_bad_ranges(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    tune_topology(SPEC, 1, url, "one")
    with pytest.raises(InputError, match="other settings"):
        tune_topology(TopologyStudySpec(problem="mbb", nelx=20, nely=10), 2, url, "one")
    with pytest.raises(InputError, match="no study"):
        tune_topology(None, 2, url, "missing")
    with pytest.raises(InputError, match="low <= high"):
        tune_topology(TopologyStudySpec(volfrac=(0.6, 0.2)), 2, url, "bad")
    with pytest.raises(InputError, match="between 0 and 1"):
        tune_topology(TopologyStudySpec(volfrac=(0.0, 0.5)), 2, url, "bad")


def test_standard_compliance_matches_the_optimiser_at_the_same_penalty() -> None:
    problem = builtin_problem("mbb", 20, 8)
    result = optimize_topology(problem, TopologySettings(rmin=1.5, max_iter=5, filter="sensitivity"))
    assert standard_compliance(problem, result.density, 3.0) == pytest.approx(result.compliance, rel=1e-9)


def test_a_stop_abandons_the_running_trial_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    stop = threading.Event()
    messages: list[str] = []

    def on_progress(progress) -> None:
        messages.append(progress.message)
        if progress.message.startswith("trial 1: iteration 3"):  # inside the second trial
            stop.set()

    result = tune_topology(SPEC, 6, url, "stopped", on_progress, stop)
    assert len(result.trials) == 1  # the half-grown second design is no result
    assert messages[0] == "trial 0: assembling the model"
    study = optuna.load_study(study_name="stopped", storage=url)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL"]

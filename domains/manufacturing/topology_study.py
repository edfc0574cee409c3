"""Optuna on top of topology optimisation: a mass/compliance Pareto front over volfrac, rmin and penalty.

Each trial optimises the problem with suggested settings; NSGA-II minimises the volume fraction
(mass is proportional to it) and the compliance. So that designs grown with different penalties
compare fairly, every final design's compliance is re-evaluated with the standard penalty 3.

Studies use the part-design storage conventions (`optimize.open_storage`: an SQLite file by default,
any SQLAlchemy URL for many workers, heartbeats re-queue a killed worker's trial); the study spec is
stored in the study, so a worker joins with only the URL and the name (`aigc topo worker`).

Example:
    >>> spec = TopologyStudySpec(problem="mbb", nelx=40, nely=14)
    >>> result = tune_topology(spec, 12, "sqlite:///topo.db", "mbb-front")
    >>> result.pareto
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from domains.manufacturing.optimize import FINISHED, open_storage
from domains.manufacturing.stoppable import Stopped, run_stoppable
from domains.manufacturing.topology import TopologySettings, optimize_topology, standard_compliance
from domains.manufacturing.topology_problems import builtin_problem
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = ["TopologyStudyResult", "TopologyStudySpec", "load_topology_study", "tune_topology"]

SPEC_ATTR = "topology_spec"
METRICS_ATTR = "topology_metrics"
REFERENCE_PENAL = 3.0


@dataclass(frozen=True)
class TopologyStudySpec:
    """What a topology study searches.

    Attributes:
        problem, nelx, nely, nelz: A built-in problem and its grid.
        filter: The filter of every trial.
        volfrac, rmin, penal: Search ranges (low, high).
        max_iter: Iteration cap per trial.
        seed: Sampler seed.
    """

    problem: str = "mbb"
    nelx: int = 60
    nely: int = 20
    nelz: int = 0
    filter: str = "density"
    volfrac: tuple[float, float] = (0.2, 0.6)
    rmin: tuple[float, float] = (1.5, 3.0)
    penal: tuple[float, float] = (2.0, 4.0)
    max_iter: int = 80
    seed: int = 0

    def validate(self) -> TopologyStudySpec:
        """Raises InputError for bad ranges or a bad problem (checked before any trial)."""
        for name, (low, high) in (("volfrac", self.volfrac), ("rmin", self.rmin), ("penal", self.penal)):
            if not low <= high:
                raise InputError(f"{name} range must be (low, high) with low <= high, got {(low, high)}")
        TopologySettings(
            volfrac=self.volfrac[0], rmin=self.rmin[0], penal=self.penal[0], filter=self.filter
        ).validate()  # type: ignore[arg-type]
        TopologySettings(
            volfrac=self.volfrac[1], rmin=self.rmin[1], penal=self.penal[1], max_iter=self.max_iter
        ).validate()
        builtin_problem(self.problem, self.nelx, self.nely, self.nelz).validate(self.volfrac[0])
        return self

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TopologyStudySpec:
        fields = cls.__dataclass_fields__
        try:
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields})
        except TypeError as exc:
            raise InputError(f"not a topology study spec: {exc}") from exc


@dataclass
class TopologyStudyResult:
    """All trials of a study and its Pareto front (volume fraction vs compliance at p = 3)."""

    study_name: str
    spec: TopologyStudySpec
    trials: pd.DataFrame = field(repr=False)

    @property
    def pareto(self) -> pd.DataFrame:
        return self.trials[self.trials["pareto"]].sort_values("volume_fraction")


def _objective(
    spec: TopologyStudySpec,
    on_status: Callable[[optuna.Trial, Progress], None] | None = None,
    stop: threading.Event | None = None,
):
    problem = builtin_problem(spec.problem, spec.nelx, spec.nely, spec.nelz)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        settings = TopologySettings(
            volfrac=trial.suggest_float("volfrac", *spec.volfrac),
            rmin=trial.suggest_float("rmin", *spec.rmin),
            penal=trial.suggest_float("penal", *spec.penal),
            filter=spec.filter,  # type: ignore[arg-type]
            max_iter=spec.max_iter,
            preview_every=0,
        )
        inner = None if on_status is None else (lambda progress: on_status(trial, progress))
        result = optimize_topology(problem, settings, inner, stop)
        if result.stopped:  # a half-grown design is no trial result: the trial is marked failed
            trial.set_user_attr("error", "stopped by the user")
            raise Stopped(f"trial {trial.number} stopped")
        compliance = run_stoppable(
            lambda: standard_compliance(problem, result.density, REFERENCE_PENAL), stop
        )
        trial.set_user_attr(
            METRICS_ATTR,
            {
                "iterations": result.iterations,
                "converged": result.converged,
                "raw_compliance": result.compliance,
            },
        )
        return result.volume_fraction, compliance

    return objective


def _open(
    spec: TopologyStudySpec | None, storage: optuna.storages.RDBStorage, name: str, seed: int
) -> tuple[optuna.Study, TopologyStudySpec]:
    names = {s.study_name: s for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if name in names:
        stored = names[name].user_attrs.get(SPEC_ATTR)
        if stored is None:
            raise InputError(f"study {name!r} is not a topology study; choose another name")
        if spec is not None and spec.to_dict() != stored:
            raise InputError(f"study {name!r} was created with other settings; join it as it is or rename")
        spec = TopologyStudySpec.from_dict(stored)
    elif spec is None:
        raise InputError(f"no study {name!r} in this storage")
    spec.validate()
    sampler = optuna.samplers.NSGAIISampler(population_size=8, seed=spec.seed + seed)
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        directions=["minimize", "minimize"],
        sampler=sampler,
        load_if_exists=True,
    )
    if name not in names:
        study.set_user_attr(SPEC_ATTR, spec.to_dict())
    return study, spec


def tune_topology(
    spec: TopologyStudySpec | None,
    n_trials: int,
    storage: str | optuna.storages.RDBStorage,
    study_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    seed_offset: int = 0,
) -> TopologyStudyResult:
    """Run (or join) a study until it holds ``n_trials`` finished trials, or until stopped.

    Args:
        spec: The study; None joins an existing one with its stored spec (a worker).
        n_trials: Target number of finished trials in the whole study (all workers).
        storage: Storage URL (see `optimize.open_storage`) or an opened storage.
        study_name: Study name in that storage.
        on_progress: Called after every trial (a point of the front), and with status lines while
            a trial iterates; returning False stops.
        stop: Set to stop at once: the running trial is abandoned (marked failed), the finished
            ones are kept.
        seed_offset: Added to the spec's seed (workers use distinct offsets).

    Raises:
        InputError: Bad spec, storage or study name; a name taken by a different study.
    """
    if not 1 <= n_trials <= 10_000:
        raise InputError(f"the number of trials must be between 1 and 10000, got {n_trials}")
    if not study_name or len(study_name) > 120 or not study_name.isprintable():
        raise InputError("a study needs a printable name of 1 to 120 characters")
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    study, spec = _open(spec, rdb, study_name, seed_offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    start = time.perf_counter()
    finished = [len(study.get_trials(deepcopy=False, states=FINISHED))]

    def on_status(trial: optuna.Trial, inner: Progress) -> None:
        """A trial's own iterations, as status lines (they are no points of the study's curve)."""
        if on_progress is not None:
            message = f"trial {trial.number}: {inner.message}"
            on_progress(Progress(finished[0], n_trials, message, elapsed_s=time.perf_counter() - start))

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = len(study.get_trials(deepcopy=False, states=FINISHED))
        finished[0] = done
        values = trial.values or [float("nan"), float("nan")]
        progress = Progress(
            step=done,
            total=n_trials,
            message=f"trial {trial.number}: volume {values[0]:.3f}, compliance {values[1]:.4g}",
            metrics={"volume_fraction": float(values[0]), "compliance": float(values[1])},
            elapsed_s=time.perf_counter() - start,
        )
        if should_stop(progress, on_progress, stop) or done >= n_trials:
            study.stop()

    done = len(study.get_trials(deepcopy=False, states=FINISHED))
    if done < n_trials and not (stop is not None and stop.is_set()):
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # a stop abandons the running trial; the finished ones are in the study
        with contextlib.suppress(Stopped):
            study.optimize(
                _objective(spec, on_status, stop),
                n_trials=n_trials - done,
                callbacks=[after_trial],
                catch=(),
                gc_after_trial=False,
            )
    return load_topology_study(rdb, study_name)


def load_topology_study(storage: str | optuna.storages.RDBStorage, study_name: str) -> TopologyStudyResult:
    """The trials of a stored topology study, with its Pareto front marked."""
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    study, spec = _open(None, rdb, study_name, 0)
    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        rows.append(
            {
                "trial": t.number,
                **t.params,
                "volume_fraction": t.values[0],
                "compliance": t.values[1],
                **t.user_attrs.get(METRICS_ATTR, {}),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(
            columns=["trial", "volfrac", "rmin", "penal", "volume_fraction", "compliance", "pareto"]
        )
        return TopologyStudyResult(study_name, spec, frame)
    values = frame[["volume_fraction", "compliance"]].to_numpy()
    dominated = np.array(
        [np.any(np.all(values <= v, axis=1) & np.any(values < v, axis=1)) for v in values], dtype=bool
    )
    frame["pareto"] = ~dominated
    return TopologyStudyResult(study_name, spec, frame)

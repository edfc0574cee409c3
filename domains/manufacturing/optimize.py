"""Design search with Optuna: the lightest (stiffest, cheapest) part that holds, with FE in the loop.

One objective (minimise mass, say) runs TPE with constraints; several (mass vs deflection vs cost)
run NSGA-II for a Pareto front. Constraints follow Optuna's convention (``<= 0`` is feasible):

* stress: ``peak von Mises * required safety factor / yield - 1``
* deflection: ``largest displacement / allowed deflection - 1``

Studies live in a storage URL (an SQLite file by default; any SQLAlchemy URL such as PostgreSQL
lets workers on many machines share one study). The spec that defines a study is stored in it, so a
worker needs only the study name and the URL. Heartbeats mark the trials of a killed worker as
failed and re-queue their parameters, so a study resumes where it stopped.

Example:
    >>> spec = PartDesignSpec(family="beam", material=get_material("s355"), load_n=2000,
    ...                       ranges={"height": (20, 60)}, objectives=("mass",))
    >>> result = optimize(spec, n_trials=20, storage="sqlite:///studies.db", study_name="beam-1")
    >>> result.best_numbers
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import optuna
import pandas as pd
import sqlalchemy
import sqlalchemy.event
import sqlalchemy.exc
import trimesh

from domains.manufacturing.fea import Analysis, analyze, voxelize
from domains.manufacturing.materials import Material
from domains.manufacturing.parts import MeshProperties, PartFamily, get_family, mesh_properties
from domains.manufacturing.stoppable import Stopped, run_stoppable
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = [
    "OBJECTIVES",
    "DesignEvaluation",
    "Limits",
    "Objective",
    "OptimizationResult",
    "PartDesignSpec",
    "default_ranges",
    "evaluate_design",
    "list_studies",
    "load_result",
    "open_storage",
    "optimize",
    "prepare_study",
    "redact_url",
    "stored_spec",
    "worker_seed_offset",
]

Objective = Literal["mass", "deflection", "cost", "stress"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)
OBJECTIVE_METRIC = {
    "mass": "mass_kg",
    "deflection": "deflection_mm",
    "cost": "cost",
    "stress": "max_von_mises_mpa",
}
SPEC_ATTR, BASELINE_ATTR, METRICS_ATTR = "part_design_spec", "baseline", "metrics"
INVALID = (1e3, 1e3)  # constraint values of a design that could not be built: far from feasible
optuna.logging.set_verbosity(optuna.logging.WARNING)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What a design must hold: a safety factor on yield and a largest deflection (mm)."""

    min_safety_factor: float = 2.0
    max_deflection_mm: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_safety_factor) and self.min_safety_factor > 0):
            raise InputError(f"the safety factor must be positive, got {self.min_safety_factor}")
        if not (math.isfinite(self.max_deflection_mm) and self.max_deflection_mm > 0):
            raise InputError(f"the deflection limit must be positive, got {self.max_deflection_mm} mm")


@dataclass(frozen=True)
class PartDesignSpec:
    """Everything that defines a design study.

    Attributes:
        family: Part family name (`parts.FAMILIES`).
        material: The material (built-in or the user's own).
        load_n: Load magnitude in N (direction from the family's load case).
        load_case: One of the family's load cases (default: its first).
        limits: Safety factor and deflection limit.
        ranges: Parameters to search: ``name -> (low, high)``, or a tuple of choices for a
            categorical one. A range with low == high fixes the value.
        fixed: Values for other parameters (the rest keep the family defaults).
        objectives: What to minimise; one runs TPE, several run NSGA-II.
        voxels_per_wall: FE resolution (voxels across the thinnest wall).
        seed: Sampler seed.
    """

    family: str
    material: Material
    load_n: float
    ranges: dict[str, Any]
    load_case: str | None = None
    limits: Limits = field(default_factory=Limits)
    fixed: dict[str, Any] = field(default_factory=dict)
    objectives: tuple[str, ...] = ("mass",)
    voxels_per_wall: int = 2
    seed: int = 0

    @property
    def family_cls(self) -> type[PartFamily]:
        return get_family(self.family)

    def validate(self) -> PartDesignSpec:
        """Check names, bounds and objectives; return self. Raises `InputError` with the reason."""
        family = self.family_cls
        family._positive_force(self.load_n)
        family._case(self.load_case)
        if not self.objectives or any(o not in OBJECTIVES for o in self.objectives):
            raise InputError(
                f"objectives must be a non-empty choice of {list(OBJECTIVES)}, got {self.objectives}"
            )
        if len(set(self.objectives)) != len(self.objectives):
            raise InputError(f"objectives repeat: {self.objectives}")
        if not 1 <= self.voxels_per_wall <= 4:
            raise InputError(f"voxels per wall must be 1 to 4, got {self.voxels_per_wall}")
        if not self.ranges:
            raise InputError("give at least one parameter range to search")
        for name, bounds in self.ranges.items():
            p = family.parameter(name)
            if p.categorical:
                if not bounds or any(v not in p.choices for v in bounds):
                    raise InputError(f"{p.label}: choose among {list(p.choices)}, got {bounds}")
                continue
            low, high = (p.check(v) for v in bounds)
            if low > high:
                raise InputError(f"{p.label}: the range minimum {low:g} is above the maximum {high:g}")
        family.resolve({k: v for k, v in self.fixed.items() if k not in self.ranges})
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ranges"] = {k: list(v) for k, v in self.ranges.items()}
        data["objectives"] = list(self.objectives)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartDesignSpec:
        try:
            return cls(
                family=data["family"],
                material=Material.from_dict(data["material"]),
                load_n=float(data["load_n"]),
                ranges={k: tuple(v) for k, v in data["ranges"].items()},
                load_case=data.get("load_case"),
                limits=Limits(**data.get("limits", {})),
                fixed=dict(data.get("fixed", {})),
                objectives=tuple(data.get("objectives", ("mass",))),
                voxels_per_wall=int(data.get("voxels_per_wall", 2)),
                seed=int(data.get("seed", 0)),
            ).validate()
        except (KeyError, TypeError) as exc:
            raise InputError(f"not a part-design spec: {exc}") from exc

    def baseline_params(self) -> dict[str, Any]:
        """The family's default design with the fixed values applied."""
        return self.family_cls.resolve({k: v for k, v in self.fixed.items() if k not in self.ranges})

    def pinned_params(self) -> dict[str, Any]:
        """The baseline with the ranges that hold a single value (low == high, one choice) applied."""
        params = self.baseline_params()
        for name, bounds in self.ranges.items():
            if len(bounds) == 1 or (len(bounds) == 2 and bounds[0] == bounds[1]):
                params[name] = bounds[0]
        return self.family_cls.resolve(params)


def default_ranges(family: str) -> dict[str, tuple[float, float]]:
    """A first search space: the family's usual parameters from half to one and a half times default."""
    cls = get_family(family)
    ranges = {}
    for name in cls.default_search:
        p = cls.parameter(name)
        low, high = max(p.low, 0.5 * p.default), min(p.high, 1.5 * p.default)
        ranges[name] = (round(low), round(high)) if p.integer else (low, high)
    return ranges


@dataclass
class DesignEvaluation:
    """One design built, voxelised and solved."""

    params: dict[str, Any]
    mesh: trimesh.Trimesh
    properties: MeshProperties
    analysis: Analysis
    metrics: dict[str, float]
    constraints: tuple[float, float]

    @property
    def feasible(self) -> bool:
        return all(c <= 0 for c in self.constraints)


def evaluate_design(spec: PartDesignSpec, params: dict[str, Any]) -> DesignEvaluation:
    """Build a design, check it with the FE core, and score it against the spec's limits.

    Raises:
        InputError: The geometry cannot be built, or the load case does not reach it.
    """
    family = spec.family_cls
    resolved = family.resolve(params)
    mesh = family.build(resolved)
    props = mesh_properties(mesh, spec.material)
    grid = voxelize(mesh.vertices, mesh.faces, family.voxel_spacing(resolved, spec.voxels_per_wall))
    material = spec.material
    result = analyze(
        grid,
        family.load_case(resolved, spec.load_n, spec.load_case),
        material.youngs_modulus_mpa,
        material.poisson_ratio,
        material.yield_strength_mpa,
    )
    metrics = {
        "mass_kg": props.mass_kg,
        "cost": props.cost,
        "deflection_mm": result.max_displacement,
        "max_von_mises_mpa": result.max_von_mises,
        "safety_factor": result.safety_factor,
        "compliance_nmm": result.compliance,
        "fe_dofs": float(result.dofs),
        "fe_seconds": result.seconds,
    }
    constraints = (
        result.max_von_mises * spec.limits.min_safety_factor / material.yield_strength_mpa - 1,
        result.max_displacement / spec.limits.max_deflection_mm - 1,
    )
    return DesignEvaluation(resolved, mesh, props, result, metrics, constraints)


# -- storage and studies --------------------------------------------------------------------------


def open_storage(url: str, heartbeat_s: int = 5) -> optuna.storages.RDBStorage:
    """An Optuna storage with heartbeats, so trials of a killed worker are failed and retried.

    Raises:
        InputError: The URL is malformed, its driver is missing, or the database does not answer.
    """
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}  # wait for the other workers' write locks
    else:
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.8, and stable
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_s,
                grace_period=3 * heartbeat_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
        if url.startswith("sqlite"):
            _tune_sqlite(storage.engine)
        return storage
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot open the study storage {redact_url(url)}: {reason}") from exc


def _tune_sqlite(engine: sqlalchemy.engine.Engine) -> None:
    """WAL lets workers read while one writes; NORMAL sync drops an fsync per commit (WAL stays safe)."""

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(engine, "connect", on_connect)
    engine.dispose()  # reconnect with the pragmas


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(malformed URL)"


def _sampler(spec: PartDesignSpec, seed_offset: int, n_trials: int) -> optuna.samplers.BaseSampler:
    seed = spec.seed + seed_offset
    # Both samplers read the constraints each trial sets (`Trial.set_constraint`).
    if len(spec.objectives) == 1:
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(5, min(10, n_trials // 3)))
    population = int(np.clip(n_trials // 8, 8, 50))
    return optuna.samplers.NSGAIISampler(population_size=population, seed=seed)


def _set_constraints(trial: optuna.Trial, values: tuple[float, float]) -> None:
    trial.set_constraint("stress", values[0])
    trial.set_constraint("deflection", values[1])


def _open_study(
    spec: PartDesignSpec,
    storage: optuna.storages.RDBStorage,
    study_name: str,
    seed_offset: int,
    n_trials: int,
) -> optuna.Study:
    """Create the study (storing its spec and baseline) or reopen it after checking it matches."""
    existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if study_name in existing:
        stored = stored_spec(storage, study_name)
        if stored.family != spec.family:
            raise InputError(
                f"study {study_name!r} belongs to the {stored.family} family, not {spec.family}; "
                "choose another study name"
            )
        if stored.to_dict() != spec.to_dict():
            raise InputError(
                f"study {study_name!r} was created with other settings; reopen it as it is "
                "(`aigc part worker`) or choose another study name"
            )
    # Evaluated before the study exists: a study is either created whole or not at all.
    baseline = None if study_name in existing else _baseline(spec)
    directions = ["minimize"] * len(spec.objectives)
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        directions=directions,
        sampler=_sampler(spec, seed_offset, n_trials),
        load_if_exists=True,
    )
    if baseline is not None:
        try:  # a study without its spec would be unusable: never leave one half-written
            study.set_user_attr(BASELINE_ATTR, baseline)
            study.set_user_attr(SPEC_ATTR, spec.to_dict())
        except BaseException:
            optuna.delete_study(study_name=study_name, storage=storage)
            raise
    return study


def prepare_study(
    spec: PartDesignSpec, storage: str | optuna.storages.RDBStorage, study_name: str
) -> optuna.Study:
    """Create a study (spec and default-design baseline stored) without running trials, for workers.

    Raises:
        InputError: Bad spec or storage, or a study of that name with other settings exists.
    """
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    return _open_study(spec.validate(), rdb, _check_name(study_name), 0, 100)


def _check_name(study_name: str) -> str:
    if not study_name or len(study_name) > 120 or not study_name.isprintable():
        raise InputError("a study needs a printable name of 1 to 120 characters")
    return study_name


def _baseline(spec: PartDesignSpec) -> dict[str, Any]:
    evaluation = evaluate_design(spec, spec.baseline_params())
    return {"params": evaluation.params, **evaluation.metrics, "feasible": evaluation.feasible}


def stored_spec(storage: str | optuna.storages.BaseStorage, study_name: str) -> PartDesignSpec:
    """The spec a study was created with (what a worker needs to join it).

    Raises:
        InputError: No such study, or it is not a part-design study.
    """
    storage = open_storage(storage) if isinstance(storage, str) else storage
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        raise InputError(f"no study named {study_name!r} in this storage") from None
    attrs = storage.get_study_user_attrs(study_id)
    if SPEC_ATTR not in attrs:
        raise InputError(f"study {study_name!r} is not a part-design study (it has no stored spec)")
    return PartDesignSpec.from_dict(attrs[SPEC_ATTR])


def _suggest(trial: optuna.Trial, spec: PartDesignSpec) -> dict[str, Any]:
    family = spec.family_cls
    params = spec.pinned_params()
    for name, bounds in spec.ranges.items():
        p = family.parameter(name)
        if p.categorical:
            if len(bounds) > 1:
                params[name] = trial.suggest_categorical(name, list(bounds))
        elif bounds[0] == bounds[1]:
            continue
        elif p.integer:
            params[name] = trial.suggest_int(name, int(bounds[0]), int(bounds[1]))
        else:
            params[name] = trial.suggest_float(name, float(bounds[0]), float(bounds[1]))
    return params


def _objective(spec: PartDesignSpec, stop: threading.Event | None = None) -> Any:  # an Optuna objective
    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        params = _suggest(trial, spec)
        try:
            # a fine design can take seconds to solve: a stop abandons it (the trial is marked failed)
            evaluation = run_stoppable(lambda: evaluate_design(spec, params), stop)
        except Stopped:
            trial.set_user_attr("error", "stopped by the user before this design was solved")
            raise
        except InputError as exc:  # e.g. holes that cut the part in two: record why, move on
            trial.set_user_attr("error", str(exc))
            _set_constraints(trial, INVALID)
            raise optuna.TrialPruned(str(exc)) from None
        # One attribute write per trial: each is a database commit, shared by every worker.
        metrics = {
            **evaluation.metrics,
            "constraints": list(evaluation.constraints),
            "feasible": evaluation.feasible,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        trial.set_user_attr(METRICS_ATTR, metrics)
        _set_constraints(trial, evaluation.constraints)
        return tuple(evaluation.metrics[OBJECTIVE_METRIC[o]] for o in spec.objectives)

    return objective


FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def optimize(
    spec: PartDesignSpec | None,
    n_trials: int,
    storage: str | optuna.storages.RDBStorage,
    study_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    seed_offset: int = 0,
) -> OptimizationResult:
    """Run (or continue) a study until it holds ``n_trials`` finished trials, or until stopped.

    Args:
        spec: The study's definition; None joins an existing study with its stored spec (a worker).
        n_trials: Target number of finished trials in the whole study (all workers together).
        storage: Storage URL or an opened storage.
        study_name: Name of the study in that storage.
        on_progress: Called as each trial starts and after it ends (trials done, best so far,
            feasible count).
        stop: Set to stop at once: the running trial is abandoned (marked failed), the finished
            ones are kept.
        seed_offset: Added to the spec's seed (workers use distinct offsets).

    Returns:
        The study's `OptimizationResult` (all trials so far; partial when stopped).
    """
    if not 1 <= n_trials <= 100_000:
        raise InputError(f"the number of trials must be between 1 and 100000, got {n_trials}")
    _check_name(study_name)
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    if spec is None:
        spec = stored_spec(rdb, study_name)
    spec.validate()
    study = _open_study(spec, rdb, study_name, seed_offset, n_trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a killed worker's trial: failed, re-queued
    start = time.perf_counter()
    done = len(study.get_trials(deepcopy=False, states=FINISHED))
    finished = [done]  # trials finished so far in the whole study, as of the last callback
    objective = _objective(spec, stop)

    def reporting_objective(trial: optuna.Trial) -> tuple[float, ...]:
        if on_progress is not None:  # said before each trial too: one design can take seconds
            message = f"trial {trial.number}: building and solving the design"
            on_progress(Progress(finished[0], n_trials, message, elapsed_s=time.perf_counter() - start))
        return objective(trial)

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        trials = study.get_trials(deepcopy=False, states=FINISHED)
        finished[0] = len(trials)
        feasible = [_metrics(t) for t in trials if _metrics(t).get("feasible")]
        metrics = {"feasible": float(len(feasible))}
        if feasible:
            key = OBJECTIVE_METRIC[spec.objectives[0]]
            metrics[f"best_{key}"] = min(float(m[key]) for m in feasible)
        progress = Progress(
            step=len(trials),
            total=n_trials,
            message=f"trial {trial.number} {trial.state.name.lower()}",
            metrics=metrics,
            elapsed_s=time.perf_counter() - start,
        )
        if should_stop(progress, on_progress, stop) or len(trials) >= n_trials:
            study.stop()

    if done < n_trials and not (stop is not None and stop.is_set()):
        # a stop abandons the running trial; every finished one is in the study
        with contextlib.suppress(Stopped):
            study.optimize(
                reporting_objective,
                n_trials=n_trials - done + _waiting(study),
                callbacks=[after_trial],
                catch=(),
                gc_after_trial=False,
            )
    return load_result(rdb, study_name)


def _waiting(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


# -- results --------------------------------------------------------------------------------------


@dataclass
class OptimizationResult:
    """A study's outcome, readable any time (also while workers still run).

    Attributes:
        trials: One row per trial: number, state, params, metrics, constraints, feasible.
        best_numbers: Feasible Pareto-optimal trials (one objective: the single best), best first.
        least_violating: When nothing is feasible, the five trials closest to feasible.
        baseline: Metrics of the family's default design under the same load and limits.
    """

    study_name: str
    spec: PartDesignSpec
    trials: pd.DataFrame
    best_numbers: list[int]
    least_violating: list[int]
    baseline: dict[str, Any]

    @property
    def feasible_count(self) -> int:
        return int(self.trials["feasible"].sum()) if len(self.trials) else 0

    @property
    def best_params(self) -> dict[str, Any] | None:
        if not self.best_numbers:
            return None
        return self.params_of(self.best_numbers[0])

    def params_of(self, number: int) -> dict[str, Any]:
        """Full parameters (fixed ones included) of a trial."""
        row = self.trials.loc[self.trials["number"] == number]
        if row.empty:
            raise InputError(f"study {self.study_name!r} has no trial {number}")
        params = self.spec.pinned_params()
        for name in self.spec.ranges:
            value = row.iloc[0].get(f"params_{name}")
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                params[name] = value
        return self.spec.family_cls.resolve(params)

    def mass_saved(self) -> float | None:
        """Share of the default design's mass saved by the lightest feasible design, if any."""
        feasible = self.trials[self.trials["feasible"]]
        if feasible.empty:
            return None
        return 1 - float(feasible["mass_kg"].min()) / float(self.baseline["mass_kg"])


def _pareto(values: np.ndarray) -> np.ndarray:
    """Indices of non-dominated rows (all objectives minimised)."""
    keep = []
    for i, row in enumerate(values):
        dominated = np.any(np.all(values <= row, axis=1) & np.any(values < row, axis=1))
        if not dominated:
            keep.append(i)
    return np.asarray(keep, dtype=int)


def _metrics(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return trial.user_attrs.get(METRICS_ATTR, {})


def _trials_frame(study: optuna.Study, spec: PartDesignSpec) -> pd.DataFrame:
    rows = []
    for t in study.get_trials(deepcopy=False):
        metrics = _metrics(t)
        constraints = metrics.get("constraints")
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                **{f"params_{k}": v for k, v in t.params.items()},
                **{k: metrics.get(k) for k in OBJECTIVE_METRIC.values()},
                "safety_factor": metrics.get("safety_factor"),
                "stress_violation": constraints[0] if constraints else None,
                "deflection_violation": constraints[1] if constraints else None,
                "feasible": bool(metrics.get("feasible", False)),
                "worker": metrics.get("worker", ""),
                "seconds": t.duration.total_seconds() if t.duration else None,
                "error": t.user_attrs.get("error", ""),
            }
        )
    columns = ["number", "state", *OBJECTIVE_METRIC.values(), "safety_factor", "feasible", "error"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns).astype({"feasible": bool})
    for name in spec.ranges:  # keep every searched parameter as a column, even before its first trial
        if f"params_{name}" not in frame:
            frame[f"params_{name}"] = None
    return frame


def load_result(storage: str | optuna.storages.BaseStorage, study_name: str) -> OptimizationResult:
    """Read a study back (instantly: nothing is recomputed).

    Raises:
        InputError: No such study, or it is not a part-design study.
    """
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    try:
        study = optuna.load_study(study_name=study_name, storage=rdb)
    except KeyError:
        raise InputError(f"no study named {study_name!r} in this storage") from None
    spec = stored_spec(rdb, study_name)
    trials = _trials_frame(study, spec)
    best: list[int] = []
    least: list[int] = []
    if len(trials):
        done = trials[trials["state"] == "COMPLETE"]
        feasible = done[done["feasible"]]
        columns = [OBJECTIVE_METRIC[o] for o in spec.objectives]
        if not feasible.empty:
            front = feasible.iloc[_pareto(feasible[columns].to_numpy(dtype=float))]
            best = front.sort_values(columns)["number"].astype(int).tolist()
        elif not done.empty:
            violation = done[["stress_violation", "deflection_violation"]].clip(lower=0).sum(axis=1)
            least = done.assign(v=violation).sort_values("v")["number"].astype(int).head(5).tolist()
    return OptimizationResult(
        study_name=study_name,
        spec=spec,
        trials=trials,
        best_numbers=best,
        least_violating=least,
        baseline=dict(study.user_attrs.get(BASELINE_ATTR, {})),
    )


def list_studies(storage: str | optuna.storages.BaseStorage) -> list[dict[str, Any]]:
    """Part-design studies in a storage: name, family, objectives, trial count, start time."""
    rdb = open_storage(storage) if isinstance(storage, str) else storage
    studies = []
    for summary in optuna.get_all_study_summaries(rdb, include_best_trial=False):
        spec = summary.user_attrs.get(SPEC_ATTR)
        if spec is None:
            continue
        studies.append(
            {
                "study": summary.study_name,
                "family": spec["family"],
                "objectives": ", ".join(spec["objectives"]),
                "trials": summary.n_trials,
                "started": summary.datetime_start,
            }
        )
    return studies


def spec_json(spec: PartDesignSpec) -> str:
    return json.dumps(spec.to_dict(), indent=2)


def worker_seed_offset() -> int:
    """A distinct seed offset per worker process, so workers do not propose the same designs."""
    return os.getpid() % 100_000

"""Part design as recorded runs: a study -> workspace run with its trials, spec and best design.

The page and `aigc part optimize` both call `optimize_and_record`, so a study from either looks the
same in the workspace: params (the spec, study name, storage), metrics (trials, feasible count, best
mass, mass saved against the default design) and artifacts ``trials.csv``, ``study_spec.json`` and,
when a design met the limits, ``best.stl``, ``best.glb``, ``best.3mf``, ``best_design.json``.
Studies themselves live in an Optuna storage: by default ``studies/part_design.db`` in the workspace.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from domains.manufacturing.export import design_spec, export_mesh, trials_csv
from domains.manufacturing.materials import Material
from domains.manufacturing.optimize import (
    DesignEvaluation,
    OptimizationResult,
    PartDesignSpec,
    evaluate_design,
    load_result,
    optimize,
    prepare_study,
    redact_url,
    stored_spec,
)
from domains.manufacturing.stoppable import Stopped, run_stoppable
from domains.manufacturing.topology_part import DesignCheck, check_design
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from suite.capabilities.topology.runner import load_design
from suite.workspace import RunCancelled, RunRecord, Workspace

__all__ = [
    "CAPABILITY",
    "CHECK_CAPABILITY",
    "PartOutcome",
    "TopologyCheck",
    "check_job",
    "check_topology_design",
    "default_storage_url",
    "design_files",
    "evaluate_trial",
    "list_part_runs",
    "open_study",
    "optimize_and_record",
]

CAPABILITY = "part.optimize"
CHECK_CAPABILITY = "part.check-topology"
STUDIES_FILE = "part_design.db"


@dataclass
class PartOutcome:
    """What a recorded study produced."""

    run_id: int
    result: OptimizationResult
    storage_url: str
    stopped: bool


def default_storage_url(workspace: Workspace) -> str:
    """The workspace's SQLite study file (created on first use)."""
    folder = workspace.root / "studies"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / STUDIES_FILE}"


def optimize_and_record(
    workspace: Workspace,
    spec: PartDesignSpec | None,
    n_trials: int,
    study_name: str,
    storage_url: str | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    seed_offset: int = 0,
) -> PartOutcome:
    """Run (or continue, or join with ``spec=None``) a study as a workspace run.

    A stopped study keeps its finished trials and records what it has (the trial running at the
    stop is abandoned); the run ends as cancelled. A bad spec or storage fails before anything is
    written to the study.
    """
    url = storage_url or default_storage_url(workspace)
    # Validate (and store the spec) before the run opens, so a bad request leaves no run behind.
    if spec is not None:
        if on_progress is not None:
            on_progress(Progress(0, n_trials, "opening the study and solving the default design"))
        prepare_study(spec, url, study_name)
    else:
        stored_spec(url, study_name)
    params: dict[str, Any] = {"study": study_name, "storage": redact_url(url), "n_trials": n_trials}
    with workspace.start_run(CAPABILITY, params) as run:
        result = optimize(spec, n_trials, url, study_name, on_progress, stop, seed_offset=seed_offset)
        run.log_params({"spec": result.spec.to_dict()})
        run.log_metrics(_metrics(result))
        run.save_bytes("trials.csv", trials_csv(result.trials))
        run.save_json("study_spec.json", result.spec.to_dict())
        if result.best_numbers:
            for name, data in design_files(result, result.best_numbers[0]).items():
                run.save_bytes(f"best.{name}" if name != "json" else "best_design.json", data)
        finished = int(result.trials["state"].isin(["COMPLETE", "PRUNED"]).sum())
        stopped = stop is not None and stop.is_set() and finished < n_trials
        if stopped:
            run.finish("cancelled", error=f"stopped after {finished} of {n_trials} trials")
    return PartOutcome(run.id, result, url, stopped)


def _metrics(result: OptimizationResult) -> dict[str, Any]:
    trials = result.trials
    finished = trials[trials["state"].isin(["COMPLETE", "PRUNED"])] if len(trials) else trials
    best = result.trials.set_index("number").loc[result.best_numbers[0]] if result.best_numbers else None
    saved = result.mass_saved()
    return {
        "trials": len(finished),
        "feasible": result.feasible_count,
        "best_mass_kg": None if best is None else float(best["mass_kg"]),
        "best_deflection_mm": None if best is None else float(best["deflection_mm"]),
        "best_safety_factor": None if best is None else float(best["safety_factor"]),
        "default_mass_kg": result.baseline.get("mass_kg"),
        "mass_saved_pct": None if saved is None else round(100 * saved, 2),
        "pareto_size": len(result.best_numbers),
    }


def design_files(result: OptimizationResult, number: int) -> dict[str, bytes]:
    """STL, GLB, 3MF and the rebuilding JSON spec of one trial's design."""
    spec = result.spec
    params = result.params_of(number)
    mesh = spec.family_cls.build(params)
    name = f"{result.study_name}-trial-{number}"
    files = {fmt: export_mesh(mesh, fmt, name=name) for fmt in ("stl", "glb", "3mf")}
    files["json"] = design_spec(
        spec.family,
        params,
        spec.material,
        spec.load_n,
        spec.load_case,
        extra={"study": result.study_name, "trial": number, "limits": spec.to_dict()["limits"]},
    ).encode("utf-8")
    return files


def evaluate_trial(result: OptimizationResult, number: int) -> DesignEvaluation:
    """Rebuild and re-solve one trial's design (for its 3D stress view)."""
    return evaluate_design(result.spec, result.params_of(number))


def open_study(storage_url: str, study_name: str) -> OptimizationResult:
    """A study's result as stored (nothing recomputed)."""
    return load_result(storage_url, study_name)


def list_part_runs(workspace: Workspace, limit: int = 50) -> list[RunRecord]:
    """Recorded studies, newest first (finished or stopped; their trials are in the storage)."""
    return [
        r
        for r in workspace.list_runs(limit=limit, capability=CAPABILITY)
        if r.status in ("done", "cancelled")
    ]


@dataclass
class TopologyCheck:
    """A topology design checked in Part Design: the recorded run, its source run and the FE numbers."""

    run_id: int
    topology_run_id: int
    check: DesignCheck


def check_topology_design(
    workspace: Workspace,
    topology_run_id: int,
    material: Material,
    load_n: float,
    element_size_mm: float,
    thickness_mm: float,
    stop: threading.Event | None = None,
) -> TopologyCheck | None:
    """Check a topology run's design for stress and deflection with the FE core, as a workspace run.

    The design is read back from the topology run's files and thresholded at density 0.5; each load
    case of its problem is scaled to ``load_n`` newtons and the worst case is reported (with the
    safety factor against the material's yield strength). Inputs are checked before the run opens.
    A ``stop`` abandons the solve: the run ends as cancelled and this returns None.

    Raises:
        InputError: Not a topology run, no saved design, a non-positive size or load, or a load
            that acts where the thresholded design has no material.
    """
    for name, value in (("load", load_n), ("element size", element_size_mm), ("thickness", thickness_mm)):
        if not value > 0:
            raise InputError(f"the {name} must be positive, got {value}")
    design = load_design(workspace, topology_run_id)
    params = {
        "topology_run": int(topology_run_id),
        "material": material.name,
        "material_properties": asdict(material),
        "load_n": float(load_n),
        "element_size_mm": float(element_size_mm),
        "thickness_mm": float(thickness_mm),
    }
    outcome: TopologyCheck | None = None
    with workspace.start_run(CHECK_CAPABILITY, params) as run:
        try:  # a 3-D design takes seconds to solve: a stop does not wait for it
            check = run_stoppable(
                lambda: check_design(design, material, load_n, element_size_mm, thickness_mm), stop
            )
        except Stopped:
            raise RunCancelled("stopped before the check was solved; nothing to keep") from None
        run.log_metrics({k: v for k, v in check.as_dict().items() if k != "material"})
        run.save_text("check.json", json.dumps({**params, "check": check.as_dict()}, indent=2))
        outcome = TopologyCheck(run.id, int(topology_run_id), check)
    return outcome


def check_job(
    workspace: Workspace,
    topology_run_id: int,
    material: Material,
    load_n: float,
    element_size_mm: float,
    thickness_mm: float,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TopologyCheck | None:
    """`check_topology_design` as a job: says what it does (a 3-D design takes seconds to solve)."""
    if on_progress is not None:
        message = f"solving the design of topology run {topology_run_id} with the FE core"
        on_progress(Progress(0, None, message))
    return check_topology_design(
        workspace, topology_run_id, material, load_n, element_size_mm, thickness_mm, stop
    )

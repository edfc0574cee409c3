"""Topology optimisation as recorded runs: optimise -> mesh -> check with the FE core -> save files.

The page and `aigc topo run` both call `optimize_and_record`, so their runs look alike in the
workspace: params (problem, settings, part), metrics (compliance, volume, mass, stress, ...) and
artifacts ``density.png``, ``density.csv``, ``history.csv``, ``problem.json``, ``part.stl``,
``part.glb``, ``part.3mf``.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import asdict, dataclass, fields

import numpy as np
import trimesh

from domains.manufacturing.export import export_mesh
from domains.manufacturing.materials import get_material
from domains.manufacturing.optimize import redact_url
from domains.manufacturing.stoppable import Stopped, run_stoppable
from domains.manufacturing.topology import TopologyResult, TopologySettings, density_image, optimize_topology
from domains.manufacturing.topology_part import DesignCheck, check_design, design_mesh
from domains.manufacturing.topology_problems import Problem
from domains.manufacturing.topology_study import TopologyStudyResult, TopologyStudySpec, tune_topology
from shared_models.exceptions import InputError, SuiteError
from shared_models.images import to_png
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import Run, RunCancelled, Workspace

__all__ = [
    "CAPABILITY",
    "STUDY_CAPABILITY",
    "PartSettings",
    "TopologyOutcome",
    "default_study_storage",
    "history_csv",
    "load_design",
    "optimize_and_record",
    "study_and_record",
]

CAPABILITY = "manufacturing.topology"


@dataclass(frozen=True)
class PartSettings:
    """How the optimised design becomes a physical part.

    Attributes:
        material: Built-in material name (see `domains.manufacturing.materials`).
        element_size_mm: Edge of one element.
        thickness_mm: Plate thickness of a 2-D design.
        load_n: Total load of each load case for the stress check.
    """

    material: str = "al6061-t6"
    element_size_mm: float = 1.0
    thickness_mm: float = 10.0
    load_n: float = 1000.0

    def validate(self) -> PartSettings:
        get_material(self.material)
        for name in ("element_size_mm", "thickness_mm", "load_n"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number, got {value!r}")
        return self


@dataclass
class TopologyOutcome:
    """What a recorded optimisation produced."""

    run_id: int
    result: TopologyResult
    mesh: trimesh.Trimesh | None
    check: DesignCheck | None
    metrics: dict[str, float | int | str | bool | None]
    note: str = ""


def history_csv(result: TopologyResult) -> bytes:
    lines = ["iteration,compliance,volume,change,seconds"]
    lines += [
        f"{h['iteration']:.0f},{h['compliance']:.8g},{h['volume']:.6f},{h['change']:.6f},{h['seconds']:.5f}"
        for h in result.history
    ]
    return ("\n".join(lines) + "\n").encode()


def density_png(density: np.ndarray) -> bytes:
    """The density field as a grey PNG (black = solid), enlarged to about 600 pixels wide."""
    pixels = (density_image(density) * 255).round().astype(np.uint8)
    return to_png(pixels, scale=max(1, 600 // max(pixels.shape)))


def density_csv(result: TopologyResult) -> bytes:
    """Element densities, one row per element: indices and value (2-D and 3-D alike)."""
    buffer = io.StringIO()
    axes = "xyz"[: result.density.ndim]
    buffer.write(",".join([*axes, "density"]) + "\n")
    for idx in np.ndindex(result.density.shape):
        buffer.write(",".join([*map(str, idx), f"{result.density[idx]:.5f}"]) + "\n")
    return buffer.getvalue().encode()


def optimize_and_record(
    workspace: Workspace,
    problem: Problem,
    settings: TopologySettings,
    part: PartSettings | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TopologyOutcome | None:
    """Optimise a problem as a workspace run, then mesh the design, check it and save every file.

    Inputs are validated before the run opens, so a bad problem records nothing. A stopped
    optimisation still meshes and saves its design (the FE check, seconds on a 3-D part, is left
    to "Send to Part Design") and ends as cancelled; stopped before its first iteration finished,
    it keeps nothing and returns None.
    """
    part = (part or PartSettings()).validate()
    settings.validate()
    problem.validate(settings.volfrac)
    material = get_material(part.material)
    params = {
        "problem": problem.to_dict(),
        "settings": {**asdict(settings), "rmin": settings.radius(problem)},
        "part": asdict(part),
    }
    outcome: TopologyOutcome | None = None
    with workspace.start_run(CAPABILITY, params) as run:
        result = optimize_topology(problem, settings, on_progress, stop)
        if result.iterations == 0:
            raise RunCancelled("stopped before the first iteration finished; nothing to keep")
        metrics: dict[str, float | int | str | bool | None] = {**result.summary(), "solver": result.solver}
        _save_design(run, result)
        mesh, check, note = None, None, ""
        try:
            if on_progress is not None:
                on_progress(Progress(result.iterations, result.iterations, "meshing the part"))
            mesh = design_mesh(result, part.element_size_mm, part.thickness_mm)
            _save_mesh(run, mesh)
            metrics.update(
                part_volume_mm3=round(float(mesh.volume), 3),
                part_mass_kg=round(float(mesh.volume) * 1e-9 * material.density, 6),
                watertight=bool(mesh.is_watertight),
            )
            if result.stopped:
                note = "part not checked: stopped early (send it to Part Design to check it)"
                metrics["part_note"] = note
            else:
                if on_progress is not None:
                    message = "checking stress and deflection with the FE core"
                    on_progress(Progress(result.iterations, result.iterations, message))
                check = run_stoppable(
                    lambda: check_design(
                        result, material, part.load_n, part.element_size_mm, part.thickness_mm
                    ),
                    stop,
                )
                metrics.update({f"fe_{k}": v for k, v in check.as_dict().items() if k != "material"})
        except Stopped:  # a stop during the check: the optimised design and its part are complete
            note = "part not checked: stopped during the check (send it to Part Design to check it)"
            metrics["part_note"] = note
        except SuiteError as exc:  # a design too thin to mesh or to carry its load is still a result
            note = f"part not checked: {exc}"
            metrics["part_note"] = note
        run.log_metrics(metrics)
        outcome = TopologyOutcome(run.id, result, mesh, check, metrics, note)
        if result.stopped or (stop is not None and stop.is_set()):
            run.finish(
                "cancelled", error=f"stopped at iteration {result.iterations}; the design so far was saved"
            )
    return outcome


def load_design(workspace: Workspace, run_id: int) -> TopologyResult:
    """The design a topology run saved, read back from its ``problem.json`` and ``density.csv``.

    This is what "send to Part Design" hands over: the files of the run, not the page's memory, so a
    design from any earlier run (or the CLI) can be checked too.

    Raises:
        InputError: The run is not a topology run or has no saved design.
    """
    record = workspace.get_run(run_id)
    if record.capability != CAPABILITY:
        raise InputError(f"run {run_id} is a {record.capability} run, not a topology optimisation")
    folder = workspace.run_dir(run_id)
    if not {"problem.json", "density.csv"} <= set(record.artifacts):
        raise InputError(f"run {run_id} saved no design (it failed before the first iteration)")
    saved = json.loads((folder / "problem.json").read_text())
    problem = Problem.from_dict(saved["problem"])
    settings = TopologySettings(**{k: v for k, v in saved["settings"].items() if k in _SETTING_FIELDS})
    table = np.loadtxt(folder / "density.csv", delimiter=",", skiprows=1, ndmin=2)
    if table.shape != (problem.n_elements, problem.dim + 1):
        raise InputError(f"run {run_id}: density.csv does not match its problem's grid")
    density = np.zeros(problem.shape)
    density[tuple(table[:, :-1].astype(int).T)] = table[:, -1]
    metrics = record.metrics
    return TopologyResult(
        problem,
        settings,
        density,
        compliance=float(metrics.get("compliance", float("nan"))),
        volume_fraction=float(density.mean()),
    )


_SETTING_FIELDS = {f.name for f in fields(TopologySettings)}


def _save_design(run: Run, result: TopologyResult) -> None:
    run.save_bytes("density.png", density_png(result.density))
    run.save_bytes("density.csv", density_csv(result))
    run.save_bytes("history.csv", history_csv(result))
    run.save_text(
        "problem.json",
        json.dumps(
            {"problem": result.problem.to_dict(), "settings": result.settings_dict()}, indent=2, default=float
        ),
    )


def _save_mesh(run: Run, mesh: trimesh.Trimesh) -> None:
    for fmt in ("stl", "glb", "3mf"):
        run.save_bytes(f"part.{fmt}", export_mesh(mesh, fmt, name="topology-part"))


STUDY_CAPABILITY = "manufacturing.topology-study"


def default_study_storage(workspace: Workspace) -> str:
    """The workspace's Optuna storage (an SQLite file beside the runs; any SQLAlchemy URL works too)."""
    return f"sqlite:///{workspace.root / 'studies.db'}"


def study_and_record(
    workspace: Workspace,
    spec: TopologyStudySpec | None,
    n_trials: int,
    study_name: str,
    storage: str | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    seed_offset: int = 0,
) -> tuple[int, TopologyStudyResult]:
    """Run or join a volfrac/rmin/penal study as a workspace run; saves all trials and the Pareto front."""
    storage = storage or default_study_storage(workspace)
    if spec is not None:
        spec.validate()
    params = {
        "study": study_name,
        "trials": n_trials,
        "spec": spec.to_dict() if spec else None,
        "storage": redact_url(storage),
    }
    with workspace.start_run(STUDY_CAPABILITY, params) as run:
        result = tune_topology(spec, n_trials, storage, study_name, on_progress, stop, seed_offset)
        run.save_bytes("trials.csv", result.trials.to_csv(index=False).encode())
        run.save_bytes("pareto.csv", result.pareto.to_csv(index=False).encode())
        run.log_metrics({"trials": len(result.trials), "pareto_designs": len(result.pareto)})
        if stop is not None and stop.is_set():
            run.finish("cancelled", error="stopped; the finished trials are kept in the study")
    return run.id, result

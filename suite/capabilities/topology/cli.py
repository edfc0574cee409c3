"""`aigc topo`: topology optimisation from the terminal (the same recorded runs as the page)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from domains.manufacturing.materials import MATERIALS
from domains.manufacturing.optimize import worker_seed_offset
from domains.manufacturing.topology import TopologySettings
from domains.manufacturing.topology_problems import PROBLEMS, builtin_problem
from domains.manufacturing.topology_study import TopologyStudyResult, TopologyStudySpec
from suite.capabilities.topology.runner import PartSettings, optimize_and_record, study_and_record
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("topo", help="Topology optimisation: grow a part from loads and supports")
    sub = parser.add_subparsers(dest="topo_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="optimise a built-in problem as a workspace run")
    run.add_argument("--problem", choices=sorted(PROBLEMS), default="mbb")
    run.add_argument("--nelx", type=int, default=60, help="elements along x (default 60)")
    run.add_argument("--nely", type=int, default=20, help="elements along y (default 20)")
    run.add_argument("--nelz", type=int, default=0, help="elements along z; 0 = 2-D plane stress (default)")
    run.add_argument("--volfrac", type=float, default=0.5, help="material budget, in (0, 1) (default 0.5)")
    run.add_argument("--penal", type=float, default=3.0, help="SIMP penalty (default 3)")
    run.add_argument(
        "--rmin", type=float, help="filter radius in elements (default 0.04 * nelx, at least 1.5)"
    )
    run.add_argument("--filter", choices=("sensitivity", "density"), default="density")
    run.add_argument("--max-iter", type=int, default=300)
    run.add_argument("--solver", choices=("auto", "cholmod", "superlu"), default="auto")
    run.add_argument("--material", choices=sorted(MATERIALS), default="al6061-t6")
    run.add_argument("--element-mm", type=float, default=1.0, help="element edge in mm (default 1)")
    run.add_argument("--thickness-mm", type=float, default=10.0, help="plate thickness of a 2-D part")
    run.add_argument("--load-n", type=float, default=1000.0, help="load for the stress check, N")
    run.add_argument("--out", type=Path, help="also write the part here (.stl, .glb or .3mf)")
    run.set_defaults(handler=run_command)

    study = sub.add_parser("study", help="Optuna over volfrac, rmin, penalty: a mass/compliance Pareto front")
    study.add_argument("--problem", choices=sorted(PROBLEMS), default="mbb")
    study.add_argument("--nelx", type=int, default=60)
    study.add_argument("--nely", type=int, default=20)
    study.add_argument("--nelz", type=int, default=0)
    study.add_argument("--filter", choices=("sensitivity", "density"), default="density")
    study.add_argument("--volfrac", type=float, nargs=2, default=(0.2, 0.6), metavar=("LOW", "HIGH"))
    study.add_argument("--rmin", type=float, nargs=2, default=(1.5, 3.0), metavar=("LOW", "HIGH"))
    study.add_argument("--penal", type=float, nargs=2, default=(2.0, 4.0), metavar=("LOW", "HIGH"))
    study.add_argument("--max-iter", type=int, default=80, help="iteration cap per trial")
    study.add_argument("--seed", type=int, default=0)
    _study_options(study)
    study.set_defaults(handler=study_command)

    worker = sub.add_parser("worker", help="join a stored topology study (its spec is read from the storage)")
    _study_options(worker)
    worker.set_defaults(handler=worker_command)


def _study_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=24, help="finished trials wanted in the whole study")
    parser.add_argument("--study", default="topology", help="study name (default 'topology')")
    parser.add_argument("--storage", help="SQLAlchemy URL (default: studies.db in the workspace)")


def run_command(args: argparse.Namespace) -> int:
    problem = builtin_problem(args.problem, args.nelx, args.nely, args.nelz)
    settings = TopologySettings(
        volfrac=args.volfrac,
        penal=args.penal,
        rmin=args.rmin,
        filter=args.filter,
        max_iter=args.max_iter,
        solver=args.solver,
        preview_every=0,
    )
    part = PartSettings(args.material, args.element_mm, args.thickness_mm, args.load_n)
    workspace = Workspace.from_env()
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = optimize_and_record(workspace, problem, settings, part, progress, stop)
    progress.close()
    if outcome is None:
        print("stopped before the first iteration finished; nothing was kept")
        return 130
    if args.out is not None and outcome.mesh is not None:
        suffix = args.out.suffix.lower().lstrip(".")
        source = workspace.artifact_path(
            outcome.run_id, f"part.{suffix if suffix in ('stl', 'glb', '3mf') else 'stl'}"
        )
        args.out.write_bytes(source.read_bytes())
        print(f"wrote {args.out}")
    print(json.dumps({"run_id": outcome.run_id, **outcome.metrics}, indent=2))
    return 0


def _print_study(run_id: int, result: TopologyStudyResult) -> None:
    front = result.pareto[["trial", "volfrac", "rmin", "penal", "volume_fraction", "compliance"]]
    print(f"run {run_id}: study {result.study_name!r}, {len(result.trials)} trials; Pareto front:")
    print(front.round(4).to_string(index=False))


def study_command(args: argparse.Namespace) -> int:
    spec = TopologyStudySpec(
        problem=args.problem,
        nelx=args.nelx,
        nely=args.nely,
        nelz=args.nelz,
        filter=args.filter,
        volfrac=tuple(args.volfrac),
        rmin=tuple(args.rmin),
        penal=tuple(args.penal),
        max_iter=args.max_iter,
        seed=args.seed,
    )
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        run_id, result = study_and_record(
            Workspace.from_env(), spec, args.trials, args.study, args.storage, progress, stop
        )
    progress.close()
    _print_study(run_id, result)
    return 0


def worker_command(args: argparse.Namespace) -> int:
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        run_id, result = study_and_record(
            Workspace.from_env(),
            None,
            args.trials,
            args.study,
            args.storage,
            progress,
            stop,
            worker_seed_offset(),
        )
    progress.close()
    _print_study(run_id, result)
    return 0

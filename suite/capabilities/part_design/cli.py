"""`aigc part`: parametric part design with FE checks and Optuna studies.

Example:
    $ aigc part optimize --family l-bracket --material al6061-t6 --load 500 \\
          --range thickness=2:10 --range gusset_thickness=2:10 --trials 40 --study bracket-1
    $ aigc part worker --study bracket-1 --storage postgresql://user@db/studies --trials 200
    $ aigc part export --study bracket-1 --format stl --out bracket.stl
    $ aigc part check-topology 12 --material s355 --load 2000   # a Topology run's design
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domains.manufacturing.materials import MATERIALS, get_material
from domains.manufacturing.optimize import (
    OBJECTIVES,
    Limits,
    PartDesignSpec,
    list_studies,
    worker_seed_offset,
)
from domains.manufacturing.parts import FAMILIES, get_family
from shared_models.exceptions import InputError
from suite.capabilities.part_design.runner import (
    check_topology_design,
    default_storage_url,
    design_files,
    open_study,
    optimize_and_record,
)
from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["parse_assignments", "register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("part", help="Part design: parametric parts, FE checks, Optuna studies")
    sub = parser.add_subparsers(dest="part_command", required=True, metavar="ACTION")

    sub.add_parser("families", help="part families and their parameters").set_defaults(
        handler=families_command
    )
    sub.add_parser("materials", help="the material library").set_defaults(handler=materials_command)

    opt = sub.add_parser("optimize", help="search a family's design space (a workspace run)")
    opt.add_argument("--family", choices=sorted(FAMILIES), required=True)
    opt.add_argument("--material", choices=sorted(MATERIALS), default="al6061-t6")
    opt.add_argument("--load", type=float, required=True, metavar="N", help="load in newtons")
    opt.add_argument("--load-case", help="one of the family's load cases (default: its first)")
    opt.add_argument("--min-safety", type=float, default=2.0, help="safety factor on yield (default 2)")
    opt.add_argument("--max-deflection", type=float, default=1.0, metavar="MM", help="default 1 mm")
    opt.add_argument(
        "--objective", action="append", choices=OBJECTIVES, help="minimise this (repeat for a Pareto front)"
    )
    opt.add_argument(
        "--range", action="append", default=[], metavar="NAME=LOW:HIGH", help="search a parameter (repeat)"
    )
    opt.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="fix a parameter")
    opt.add_argument("--resolution", type=int, default=2, help="voxels through the thinnest wall (1-4)")
    opt.add_argument("--seed", type=int, default=0)
    _study_arguments(opt, required_study=False)
    opt.set_defaults(handler=optimize_command)

    worker = sub.add_parser("worker", help="join a study (its spec is stored in it) and run trials")
    _study_arguments(worker, required_study=True)
    worker.set_defaults(handler=worker_command)

    studies = sub.add_parser("studies", help="part-design studies in a storage")
    studies.add_argument("--storage", help="SQLAlchemy URL (default: the workspace's SQLite file)")
    studies.set_defaults(handler=studies_command)

    export = sub.add_parser("export", help="write a design of a study as STL, GLB, 3MF or JSON")
    export.add_argument("--study", required=True)
    export.add_argument("--storage", help="SQLAlchemy URL (default: the workspace's SQLite file)")
    export.add_argument("--trial", type=int, help="trial number (default: the best feasible design)")
    export.add_argument("--format", choices=("stl", "glb", "3mf", "json"), default="stl")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(handler=export_command)

    check = sub.add_parser("check-topology", help="stress and deflection of a Topology run's design (a run)")
    check.add_argument("run", type=int, help="id of an `aigc topo run` (or Topology page) run")
    check.add_argument("--material", choices=sorted(MATERIALS), default="al6061-t6")
    check.add_argument("--load", type=float, default=1000.0, metavar="N", help="per load case (default 1000)")
    check.add_argument("--element-size", type=float, default=1.0, metavar="MM", help="default 1 mm")
    check.add_argument("--thickness", type=float, default=10.0, metavar="MM", help="2-D designs (default 10)")
    check.set_defaults(handler=check_topology_command)


def _study_arguments(parser: argparse.ArgumentParser, required_study: bool) -> None:
    parser.add_argument("--study", required=required_study, help="study name (default: FAMILY-TIMESTAMP)")
    parser.add_argument("--storage", help="SQLAlchemy URL (default: the workspace's SQLite file)")
    parser.add_argument("--trials", type=int, default=40, help="finished trials the study should reach")


def parse_assignments(items: list[str], separator: str = "=") -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition(separator)
        if not sep or not name or not value:
            raise InputError(f"expected NAME{separator}VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _ranges(family: str, items: list[str]) -> dict[str, tuple[Any, ...]]:
    ranges: dict[str, tuple[Any, ...]] = {}
    for name, value in parse_assignments(items).items():
        if get_family(family).parameter(name).categorical:
            ranges[name] = tuple(v for v in value.split(","))
            continue
        low, sep, high = value.partition(":")
        try:
            ranges[name] = (float(low), float(high if sep else low))
        except ValueError:
            raise InputError(f"--range {name}: expected LOW:HIGH numbers, got {value!r}") from None
    return ranges


def _fixed(items: list[str]) -> dict[str, Any]:
    fixed: dict[str, Any] = {}
    for name, value in parse_assignments(items).items():
        try:
            fixed[name] = float(value)
        except ValueError:
            fixed[name] = value  # a category, e.g. section=box
    return fixed


def _print_outcome(outcome: Any) -> None:
    result = outcome.result
    summary = {
        "run_id": outcome.run_id,
        "study": result.study_name,
        "trials": len(result.trials),
        "feasible": result.feasible_count,
        "best_trials": result.best_numbers[:10],
        "best_params": result.best_params,
        "default_mass_kg": result.baseline.get("mass_kg"),
        "mass_saved_pct": None if result.mass_saved() is None else round(100 * result.mass_saved(), 2),
    }
    if not result.best_numbers:
        summary["note"] = "no design met the limits; the least-violating trials are listed"
        summary["least_violating"] = result.least_violating
    print(json.dumps(summary, indent=2, default=str))


def optimize_command(args: argparse.Namespace) -> int:
    if not args.range:
        raise InputError("give at least one --range NAME=LOW:HIGH to search")
    spec = PartDesignSpec(
        family=args.family,
        material=get_material(args.material),
        load_n=args.load,
        load_case=args.load_case,
        ranges=_ranges(args.family, args.range),
        limits=Limits(args.min_safety, args.max_deflection),
        fixed=_fixed(args.set),
        objectives=tuple(args.objective or ("mass",)),
        voxels_per_wall=args.resolution,
        seed=args.seed,
    ).validate()
    study = args.study or f"{args.family}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = optimize_and_record(
            Workspace.from_env(), spec, args.trials, study, args.storage, progress, stop
        )
    progress.close()
    _print_outcome(outcome)
    return 0


def worker_command(args: argparse.Namespace) -> int:
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = optimize_and_record(
            Workspace.from_env(),
            None,
            args.trials,
            args.study,
            args.storage,
            progress,
            stop,
            seed_offset=worker_seed_offset(),
        )
    progress.close()
    _print_outcome(outcome)
    return 0


def studies_command(args: argparse.Namespace) -> int:
    for study in list_studies(args.storage or default_storage_url(Workspace.from_env())):
        name, family, objectives = study["study"], study["family"], study["objectives"]
        print(f"{name:<32} {family:<10} {objectives:<24} {study['trials']:>5} trials")
    return 0


def families_command(args: argparse.Namespace) -> int:
    for family in FAMILIES.values():
        print(f"{family.name}: {family.description} Load cases: {', '.join(family.load_cases)}")
        for p in family.parameters:
            bounds = "|".join(p.choices) if p.categorical else f"{p.low:g}..{p.high:g} {p.unit}"
            print(f"  {p.name:<18} {p.label:<36} default {p.default!s:<6} {bounds}")
    return 0


def materials_command(args: argparse.Namespace) -> int:
    print(f"{'NAME':<10} {'E (GPa)':>8} {'nu':>5} {'yield (MPa)':>11} {'kg/m3':>6} {'USD/kg':>7}  LABEL")
    for m in MATERIALS.values():
        print(
            f"{m.name:<10} {m.youngs_modulus / 1e9:>8.1f} {m.poisson_ratio:>5.3f} "
            f"{m.yield_strength / 1e6:>11.0f} {m.density:>6.0f} {m.cost_per_kg:>7.2f}  {m.label}"
        )
    return 0


def export_command(args: argparse.Namespace) -> int:
    result = open_study(args.storage or default_storage_url(Workspace.from_env()), args.study)
    number = args.trial if args.trial is not None else (result.best_numbers or [None])[0]
    if number is None:
        raise InputError(f"study {args.study!r} has no feasible design; pass --trial N to export another")
    data = design_files(result, number)[args.format]
    args.out.write_bytes(data)
    print(f"wrote {args.out} (trial {number}, {len(data):,} bytes)")
    return 0


def check_topology_command(args: argparse.Namespace) -> int:
    outcome = check_topology_design(
        Workspace.from_env(),
        args.run,
        get_material(args.material),
        args.load,
        args.element_size,
        args.thickness,
    )
    print(json.dumps({"run": outcome.run_id, "topology_run": args.run, **outcome.check.as_dict()}, indent=2))
    return 0

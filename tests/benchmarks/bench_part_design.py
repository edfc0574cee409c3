"""Part design: FE verification, solve cost per family, Optuna throughput, mass saved.

Trial counts come from the environment so a shared machine can run a shorter version:
``AIGC_BENCH_PART_TRIALS`` (default 200: the NSGA-II study, run once in one process and once with two
worker processes) and ``AIGC_BENCH_PART_SAVING_TRIALS`` (default 40: one mass-minimising study per
family). The notes column says what was run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from domains.manufacturing.fea import DEFAULT_VOXELS_PER_WALL, cantilever_check
from domains.manufacturing.materials import get_material
from domains.manufacturing.optimize import (
    Limits,
    PartDesignSpec,
    default_ranges,
    evaluate_design,
    optimize,
    prepare_study,
)
from domains.manufacturing.parts import FAMILIES
from tests.benchmarks import Figure

ROOT = Path(__file__).resolve().parents[2]
MATERIAL = get_material("al6061-t6")
WORKER = (
    "import sys\n"
    "from domains.manufacturing.optimize import optimize, worker_seed_offset\n"
    "optimize(None, int(sys.argv[1]), sys.argv[2], sys.argv[3], seed_offset=worker_seed_offset())\n"
)


def _spec(family: str, objectives: tuple[str, ...] = ("mass",)) -> PartDesignSpec:
    cls = FAMILIES[family]
    return PartDesignSpec(
        family=family,
        material=MATERIAL,
        load_n=cls.default_load_n,
        ranges=default_ranges(family),
        limits=Limits(2.0, cls.default_max_deflection_mm),
        objectives=objectives,
        voxels_per_wall=DEFAULT_VOXELS_PER_WALL,
    )


def _verification() -> list[Figure]:
    figures = []
    for depth in (DEFAULT_VOXELS_PER_WALL, 2 * DEFAULT_VOXELS_PER_WALL):
        check = cantilever_check(depth)
        note = f"{depth} voxels through the depth, {check.dofs:,} DOFs; L/h = 10, bubble-mode hex8"
        figures += [
            Figure(
                "part_design",
                f"cantilever tip deflection error ({depth}/depth)",
                100 * check.deflection_error,
                "%",
                note,
            ),
            Figure(
                "part_design",
                f"cantilever root stress error ({depth}/depth)",
                100 * check.stress_error,
                "%",
                note,
            ),
        ]
    return figures


def _solve_costs() -> list[Figure]:
    figures = []
    for name in FAMILIES:
        spec = _spec(name)
        evaluate_design(spec, spec.baseline_params())  # warm caches (element matrix, imports)
        start = time.perf_counter()
        evaluation = evaluate_design(spec, spec.baseline_params())
        total = time.perf_counter() - start
        figures += [
            Figure(
                "part_design",
                f"{name}: FE DOFs (default design)",
                evaluation.metrics["fe_dofs"],
                "DOFs",
                f"{evaluation.analysis.elements:,} hex8, {DEFAULT_VOXELS_PER_WALL} voxels per wall",
            ),
            Figure(
                "part_design",
                f"{name}: FE assembly + solve",
                evaluation.analysis.seconds,
                "s",
                f"build + voxelise + solve {total:.2f} s",
            ),
        ]
    return figures


def _throughput(trials: int, tmp: Path) -> list[Figure]:
    spec = _spec("l-bracket", ("mass", "deflection"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    start = time.perf_counter()
    result = optimize(spec, trials, url, "nsga-one")
    one = time.perf_counter() - start
    prepare_study(spec, url, "nsga-two")
    start = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(trials), url, "nsga-two"], cwd=ROOT, env=env)
        for _ in range(2)
    ]
    for worker in workers:
        worker.wait()
    two = time.perf_counter() - start
    note = f"{trials}-trial NSGA-II, L-bracket mass vs deflection, FE in the loop, SQLite"
    saved = result.mass_saved()
    return [
        Figure("part_design", "Optuna trials per minute, 1 process", 60 * trials / one, "trials/min", note),
        Figure(
            "part_design",
            "Optuna trials per minute, 2 worker processes",
            60 * trials / two,
            "trials/min",
            note + " (includes 2 interpreter start-ups)",
        ),
        Figure("part_design", "NSGA-II Pareto front size", len(result.best_numbers), "designs", note),
        Figure(
            "part_design",
            "l-bracket: mass saved, lightest feasible on the front",
            100 * (saved or 0),
            "%",
            note,
        ),
    ]


def _savings(trials: int, tmp: Path) -> list[Figure]:
    figures = []
    for name in FAMILIES:
        result = optimize(_spec(name), trials, f"sqlite:///{tmp / 'savings.db'}", f"save-{name}")
        saved = result.mass_saved()
        figures.append(
            Figure(
                "part_design",
                f"{name}: mass saved vs default design",
                100 * (saved or 0),
                "%",
                f"TPE, {trials} trials, SF 2, deflection {FAMILIES[name].default_max_deflection_mm} mm, "
                f"{result.feasible_count} feasible",
            ),
        )
    return figures


def run() -> list[Figure]:
    trials = int(os.environ.get("AIGC_BENCH_PART_TRIALS", "200"))
    saving_trials = int(os.environ.get("AIGC_BENCH_PART_SAVING_TRIALS", "40"))
    figures = _verification() + _solve_costs()
    with tempfile.TemporaryDirectory() as tmp:
        figures += _throughput(trials, Path(tmp))
        figures += _savings(saving_trials, Path(tmp))
    return figures


if __name__ == "__main__":
    for figure in run():
        print(figure)

"""Topology optimisation: the published 88-line compliances and the suite's speed against the plain port.

Prints (1) the MBB compliances of Andreassen et al. (2011) at 60 x 20 and 150 x 50 for both filters,
as reproduced by the suite, with their error against the paper; (2) seconds per iteration of the plain
port (`top88_reference`: triplet assembly + spsolve) and of the suite (slot-map assembly + CHOLMOD,
convolution filter, volume outside the bisection) on the same problem, their ratio at 150 x 50 and
300 x 100 and the largest difference between their compliance histories; (3) the SuperLU fallback and
a 3-D (60 x 20 x 10) iteration.
"""

from __future__ import annotations

import itertools

import numpy as np

from domains.manufacturing.topology import TopologySettings, optimize_topology
from domains.manufacturing.topology_problems import builtin_problem
from domains.manufacturing.topology_solver import fast_solver_available
from tests.benchmarks import Figure
from tests.benchmarks.top88_reference import top88_iterations

PUBLISHED = {  # (nelx, nely, filter) -> compliance, Andreassen et al. 2011
    (60, 20, "sensitivity"): 216.81,
    (60, 20, "density"): 233.71,
    (150, 50, "sensitivity"): 219.52,
    (150, 50, "density"): 235.73,
}
SPEED_ITERATIONS = {(150, 50): 8, (300, 100): 4}


def _published() -> list[Figure]:
    figures = []
    for (nelx, nely, kind), paper in PUBLISHED.items():
        settings = TopologySettings(volfrac=0.5, penal=3.0, rmin=0.04 * nelx, filter=kind, max_iter=3000)
        result = optimize_topology(builtin_problem("mbb", nelx, nely), settings)
        error = result.compliance / paper - 1
        figures.append(
            Figure(
                "topology",
                f"MBB {nelx}x{nely} {kind} filter: compliance (paper {paper})",
                result.compliance,
                "",
                f"{error:+.3%} vs paper, {result.iterations} iterations, converged={result.converged}, "
                f"{result.seconds_per_iteration * 1000:.0f} ms/iteration",
            )
        )
    return figures


def _speed(nelx: int, nely: int) -> list[Figure]:
    n = SPEED_ITERATIONS[(nelx, nely)]
    rmin = 0.04 * nelx
    plain = list(itertools.islice(top88_iterations(nelx, nely, 0.5, 3.0, rmin, 1), n))
    plain_s = float(np.mean([s for _, _, s in plain]))
    figures = [
        Figure(
            "topology",
            f"plain 88-line port (spsolve), {nelx}x{nely}",
            plain_s,
            "s/iteration",
            f"{n} iterations",
        )
    ]
    backends = ["auto", "superlu"] if fast_solver_available() else ["superlu"]
    for backend in backends:
        settings = TopologySettings(
            rmin=rmin, filter="sensitivity", max_iter=n, solver=backend, preview_every=0
        )
        result = optimize_topology(builtin_problem("mbb", nelx, nely), settings)
        diff = max(abs(h["compliance"] / c - 1) for h, (c, _, _) in zip(result.history, plain, strict=True))
        # steady state: iterations after the first (which also runs CHOLMOD's one-off symbolic analysis)
        steady = float(np.mean([h["seconds"] for h in result.history[1:]]))
        set_up = (
            result.seconds - sum(h["seconds"] for h in result.history) + result.history[0]["seconds"] - steady
        )
        label = "suite, CHOLMOD" if backend == "auto" else "suite, SuperLU fallback"
        figures += [
            Figure(
                "topology",
                f"{label}, {nelx}x{nely}",
                steady,
                "s/iteration",
                f"+ {set_up:.2f} s once (slot map, ordering); compliance within {diff:.1e} of the plain port",
            ),
            Figure(
                "topology",
                f"speed-up per iteration, {label}, {nelx}x{nely}",
                plain_s / steady,
                "x",
                f"{plain_s / result.seconds_per_iteration:.2f}x with the set-up spread over {n} iterations",
            ),
        ]
    return figures


def _three_d() -> Figure:
    settings = TopologySettings(volfrac=0.3, rmin=1.5, max_iter=3, preview_every=0)
    result = optimize_topology(builtin_problem("mbb", 60, 20, nelz=10), settings)
    return Figure(
        "topology",
        "3-D MBB 60x20x10 (hex core)",
        result.seconds_per_iteration,
        "s/iteration",
        f"12,000 hexes, {result.solver.split(':')[0]}",
    )


def run() -> list[Figure]:
    figures = _published()
    for size in SPEED_ITERATIONS:
        figures += _speed(*size)
    figures.append(_three_d())
    return figures

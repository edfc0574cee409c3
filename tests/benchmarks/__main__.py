"""Run every benchmark module (or those named on the command line) and print one markdown table.

Usage: ``python -m tests.benchmarks [workspace app ...]``
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys
import time
from pathlib import Path

import torch

from tests.benchmarks import Figure


def discover(selected: list[str]) -> list[str]:
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected]
    return names


def format_value(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def main(argv: list[str]) -> int:
    torch.set_num_threads(2)
    print(
        f"# AIGC suite benchmarks\n\n{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, Python {platform.python_version()}, "
        f"torch {torch.__version__}\n"
    )
    print("| benchmark | figure | value | unit | notes |\n|---|---|---:|---|---|")
    for name in discover(argv):
        module = importlib.import_module(f"tests.benchmarks.{name}")
        start = time.perf_counter()
        figures: list[Figure] = module.run()
        for f in figures:
            print(
                f"| {f.benchmark} | {f.figure} | {format_value(f.value)} | {f.unit} | {f.notes} |", flush=True
            )
        print(f"<!-- {name}: {time.perf_counter() - start:.1f}s -->", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Benchmarks for `make bench`: each `bench_*.py` module has ``run() -> list[Figure]``.

Benchmarks print figures as a markdown table; they never assert times (tests do not either).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Figure"]


@dataclass(frozen=True)
class Figure:
    """One measured figure: what, how much, in which unit, on what."""

    benchmark: str
    figure: str
    value: float
    unit: str
    notes: str = ""

"""Workspace throughput: recording runs, listing them from a large store, and the app's start-up."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from suite.workspace import Workspace
from tests.benchmarks import Figure

RUNS = 200
STORE_SIZE = 5_000


def _record_runs(ws: Workspace, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        with ws.start_run("bench.workspace", {"i": i}) as run:
            run.log_metrics({"loss": 1.0 / (i + 1)})
            run.save_bytes("result.json", b'{"ok": true}')
    return time.perf_counter() - start


def _list_latency_ms(ws: Workspace, repeats: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        ws.list_runs(limit=25)
    return (time.perf_counter() - start) / repeats * 1000


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        seconds = _record_runs(ws, RUNS)
        with ws._write() as conn:  # bulk-fill to a realistic store size without timing it
            conn.executemany(
                "INSERT INTO runs (capability, params, metrics, status, started, finished) "
                "VALUES ('bench.fill', '{}', '{\"x\": 1}', 'done', "
                "'2026-01-01T00:00:00', '2026-01-01T00:00:01')",
                [()] * (STORE_SIZE - RUNS),
            )
        list_ms = _list_latency_ms(ws)
    return [
        Figure(
            "workspace",
            "full runs recorded (start, metrics, artifact, finish)",
            RUNS / seconds,
            "runs/s",
            f"{RUNS} runs, fsync'd artifacts, tmpfs/disk as /tmp is",
        ),
        Figure("workspace", "list 25 recent runs", list_ms, "ms", f"{STORE_SIZE:,} runs in the store"),
    ]

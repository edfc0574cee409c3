"""`aigc runs`: list and inspect workspace runs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from suite.workspace import RUN_STATUSES, RunRecord, Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("runs", help="list and inspect runs in the workspace")
    sub = parser.add_subparsers(dest="runs_command", required=True, metavar="ACTION")

    list_parser = sub.add_parser("list", help="recent runs, newest first")
    list_parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    list_parser.add_argument("--capability", help="only runs of this capability, e.g. lab.train")
    list_parser.add_argument("--status", choices=RUN_STATUSES, help="only runs with this status")
    list_parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    list_parser.set_defaults(handler=list_runs)

    show_parser = sub.add_parser("show", help="one run's params, metrics and artifacts")
    show_parser.add_argument("run_id", type=int, metavar="ID")
    show_parser.set_defaults(handler=show_run)


def _summary(metrics: dict[str, Any], width: int = 40) -> str:
    text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(records: list[RunRecord]) -> str:
    header = ("ID", "CAPABILITY", "STATUS", "STARTED (UTC)", "SECONDS", "METRICS")
    rows = [
        (
            str(r.id),
            r.capability,
            r.status,
            r.started[:19].replace("T", " "),
            "" if r.duration_s is None else f"{r.duration_s:.1f}",
            _summary(r.metrics),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )


def list_runs(args: argparse.Namespace) -> int:
    records = Workspace.from_env().list_runs(limit=args.limit, capability=args.capability, status=args.status)
    if args.json:
        for record in records:
            print(json.dumps(record.to_dict()))
    elif not records:
        print("no runs yet")
    else:
        print(format_table(records))
    return 0


def show_run(args: argparse.Namespace) -> int:
    workspace = Workspace.from_env()
    record = workspace.get_run(args.run_id)
    shown = record.to_dict()
    shown["artifacts"] = [str(workspace.run_dir(record.id) / name) for name in record.artifacts]
    print(json.dumps(shown, indent=2))
    return 0

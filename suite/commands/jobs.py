"""`aigc jobs`: list the app's jobs (queued, running, ended) and stop one.

Example:
    $ aigc jobs list --active
    $ aigc jobs stop 7
"""

from __future__ import annotations

import argparse
from typing import Any

from suite.jobs.records import JobRecord, JobStore
from suite.workspace import Workspace

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("jobs", help="list the app's jobs and stop one")
    sub = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    list_parser = sub.add_parser("list", help="jobs, newest first")
    list_parser.add_argument("--active", action="store_true", help="only queued and running jobs")
    list_parser.add_argument("--limit", type=int, default=20, help="how many jobs (default 20)")
    list_parser.set_defaults(handler=list_jobs)
    stop_parser = sub.add_parser("stop", help="ask a job to stop (the app that runs it ends it)")
    stop_parser.add_argument("job_id", type=int, metavar="ID")
    stop_parser.set_defaults(handler=stop_job)


def _line(job: JobRecord) -> str:
    where = f"{job.step}/{job.total}" if job.total else str(job.step)
    runs = ",".join(str(r) for r in job.run_ids) or "-"
    note = job.error or job.message
    title = job.title[:30]
    return f"{job.id:>5}  {job.capability:<18} {job.status:<9} {where:>9}  {runs:>6}  {title:<30}  {note}"


def list_jobs(args: argparse.Namespace) -> int:
    store = JobStore(Workspace.from_env())
    store.reap_orphans()
    jobs = store.list(statuses=("queued", "running") if args.active else None, limit=args.limit)
    if not jobs:
        print("no jobs" + (" running" if args.active else " yet"))
        return 0
    print(f"{'ID':>5}  {'CAPABILITY':<18} {'STATUS':<9} {'PROGRESS':>9}  {'RUNS':>6}  {'TITLE':<30}  NOTE")
    for job in jobs:
        print(_line(job))
    return 0


def stop_job(args: argparse.Namespace) -> int:
    store = JobStore(Workspace.from_env())
    if store.request_stop(args.job_id):
        print(f"job {args.job_id}: stop requested; the app running it ends it within a few seconds")
        return 0
    print(f"job {args.job_id} has already ended ({store.get(args.job_id).status})")
    return 1

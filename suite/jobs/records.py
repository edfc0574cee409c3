"""Job records in the workspace database, so every session and process sees the same jobs.

A job is one long action a user started (a training, a search, a draft). Its row holds what it is,
where it stands (queued, running with progress, done, failed, cancelled), whether somebody asked it to
stop, and which process owns it. The process that started it (a `JobService`) is the only writer of
its progress; anybody may ask it to stop.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from shared_models.exceptions import InputError, WorkspaceError
from suite.workspace import Workspace, _now, _process_alive, _process_start

__all__ = ["ACTIVE", "HISTORY_LIMIT", "JobNotFoundError", "JobRecord", "JobStatus", "JobStore"]

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")
HISTORY_LIMIT = 2000  # curve points kept per job; older ones are thinned out, not the newest


class JobNotFoundError(WorkspaceError):
    """No job with the requested id exists in this workspace."""


@dataclass(frozen=True)
class JobRecord:
    """One row of the job table, as read back."""

    id: int
    capability: str
    kind: str
    title: str
    status: JobStatus
    step: int
    total: int | None
    message: str
    metrics: dict[str, float]
    history: list[dict[str, float]]
    text: str
    created: str
    started: str | None
    finished: str | None
    stop_requested: str | None
    error: str | None
    host: str | None
    pid: int | None
    run_ids: list[int] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def elapsed_s(self) -> float:
        """Seconds running so far (or in all, once finished); 0 while queued."""
        if self.started is None:
            return 0.0
        end = datetime.fromisoformat(self.finished) if self.finished else datetime.now(UTC)
        return max(0.0, (end - datetime.fromisoformat(self.started)).total_seconds())

    @property
    def run_id(self) -> int | None:
        """The latest run the job recorded, if any."""
        return self.run_ids[-1] if self.run_ids else None


def _thin(history: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """Keep at most HISTORY_LIMIT points: every other one of the older half, all of the newest."""
    points = [dict(p) for p in history]
    while len(points) > HISTORY_LIMIT:
        half = len(points) // 2
        points = points[:half:2] + points[half:]
    return points


class JobStore:
    """Read and write job rows of one workspace (each call a short transaction).

    Args:
        workspace: The workspace whose ``runs.db`` holds the jobs.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # -- written by the owning service ---------------------------------------------------------

    def create(self, capability: str, kind: str, title: str) -> int:
        """A new queued job owned by this process."""
        pid = os.getpid()
        with self.workspace._write() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (capability, kind, title, status, created, host, pid, pid_start) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                (capability, kind, title, _now(), socket.gethostname(), pid, _process_start(pid)),
            )
            return int(cursor.lastrowid or 0)

    def mark_running(self, job_id: int, worker_pid: int | None) -> None:
        with self.workspace._write() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'running', started = ?, worker_pid = ?, "
                "message = 'starting' WHERE id = ? AND status = 'queued'",
                (_now(), worker_pid, job_id),
            )

    def update_progress(
        self,
        job_id: int,
        step: int,
        total: int | None,
        message: str,
        metrics: Mapping[str, float],
        history: Sequence[Mapping[str, float]],
        text: str,
    ) -> None:
        with self.workspace._write() as conn:
            conn.execute(
                "UPDATE jobs SET step = ?, total = ?, message = ?, metrics = ?, history = ?, text = ? "
                "WHERE id = ? AND status = 'running'",
                (
                    int(step),
                    None if total is None else int(total),
                    message,
                    json.dumps(dict(metrics), default=float),
                    json.dumps(_thin(history), default=float),
                    text,
                    job_id,
                ),
            )

    def finish(self, job_id: int, status: JobStatus, error: str | None = None) -> None:
        """End a job; only a queued or running job changes, so the first outcome stands."""
        if status in ACTIVE or status not in JOB_STATUSES:
            raise InputError(f"a job finishes as done, failed or cancelled, not {status!r}")
        with self.workspace._write() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, finished = ?, error = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (status, _now(), error, job_id),
            )

    def cancel_runs_of(self, job_id: int, why: str) -> None:
        """End as cancelled the runs a stopped job left running (its worker was terminated)."""
        with self.workspace._write() as conn:
            conn.execute(
                "UPDATE runs SET status = 'cancelled', finished = ?, error = ? "
                "WHERE job_id = ? AND status = 'running'",
                (_now(), why, job_id),
            )

    # -- written by anybody --------------------------------------------------------------------

    def request_stop(self, job_id: int) -> bool:
        """Ask a job to stop; False if it had already ended. Its owner acts within a poll period."""
        self.get(job_id)  # a clear error for an unknown id
        with self.workspace._write() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET stop_requested = COALESCE(stop_requested, ?) "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (_now(), job_id),
            )
            return cursor.rowcount > 0

    def reap_orphans(self) -> int:
        """Fail the active jobs of this host whose owning process has exited (the app was stopped)."""
        host = socket.gethostname()
        with self.workspace._read() as conn:
            rows = conn.execute(
                "SELECT id, pid, pid_start FROM jobs WHERE status IN ('queued', 'running') AND host = ?",
                (host,),
            ).fetchall()
        dead = [r["id"] for r in rows if r["pid"] is None or not _process_alive(r["pid"], r["pid_start"])]
        for job_id in dead:
            self.finish(job_id, "failed", "the app process that ran it ended before it finished")
        return len(dead)

    # -- read ----------------------------------------------------------------------------------

    def get(self, job_id: int) -> JobRecord:
        """The job with this id.

        Raises:
            JobNotFoundError: No such job.
        """
        found = self._select("WHERE id = ?", (int(job_id),), 1)
        if not found:
            raise JobNotFoundError(f"no job {job_id} in the workspace {self.workspace.root}")
        return found[0]

    def list(
        self,
        capability: str | None = None,
        statuses: Sequence[JobStatus] | None = None,
        limit: int = 50,
        owner_pid: int | None = None,
    ) -> list[JobRecord]:
        """Newest first, optionally of one capability, some statuses, or one owning process."""
        where, args = [], []
        if capability:
            where.append("capability = ?")
            args.append(capability)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            args.extend(statuses)
        if owner_pid is not None:
            where.append("pid = ? AND host = ?")
            args.extend([owner_pid, socket.gethostname()])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._select(clause, tuple(args), limit)

    def stop_requests(self, job_ids: Sequence[int]) -> dict[int, str]:
        """Of these jobs, those with a pending stop request: id -> when it was asked."""
        if not job_ids:
            return {}
        marks = ", ".join("?" for _ in job_ids)
        with self.workspace._read() as conn:
            rows = conn.execute(
                f"SELECT id, stop_requested FROM jobs WHERE id IN ({marks}) AND stop_requested IS NOT NULL",
                tuple(job_ids),
            ).fetchall()
        return {int(r["id"]): str(r["stop_requested"]) for r in rows}

    def queue_position(self, job_id: int) -> tuple[int, int]:
        """(place, queue length) of a queued job among this host's queued jobs, 1-based."""
        with self.workspace._read() as conn:
            ahead = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND id < ? AND host = ?",
                (job_id, socket.gethostname()),
            ).fetchone()[0]
            total = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND host = ?", (socket.gethostname(),)
            ).fetchone()[0]
        return int(ahead) + 1, int(total)

    def _select(self, clause: str, args: tuple[Any, ...], limit: int) -> list[JobRecord]:
        with self.workspace._read() as conn:
            rows = conn.execute(
                f"SELECT * FROM jobs {clause} ORDER BY id DESC LIMIT ?", (*args, limit)
            ).fetchall()
            runs: dict[int, list[int]] = {}
            if rows:
                marks = ", ".join("?" for _ in rows)
                for r in conn.execute(
                    f"SELECT id, job_id FROM runs WHERE job_id IN ({marks}) ORDER BY id",
                    tuple(r["id"] for r in rows),
                ):
                    runs.setdefault(int(r["job_id"]), []).append(int(r["id"]))
        return [
            JobRecord(
                id=r["id"],
                capability=r["capability"],
                kind=r["kind"],
                title=r["title"],
                status=r["status"],
                step=r["step"],
                total=r["total"],
                message=r["message"],
                metrics=json.loads(r["metrics"]),
                history=json.loads(r["history"]),
                text=r["text"],
                created=r["created"],
                started=r["started"],
                finished=r["finished"],
                stop_requested=r["stop_requested"],
                error=r["error"],
                host=r["host"],
                pid=r["pid"],
                run_ids=runs.get(int(r["id"]), []),
            )
            for r in rows
        ]

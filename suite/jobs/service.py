"""The job service: every long action of the app runs here, in a worker process of its own.

A page calls `JobService.submit` with an importable function and picklable arguments; the service
records a queued job in the workspace, starts it in a fresh worker process when a slot is free (at
most ``max_jobs`` at once, default the core count), and keeps its progress, curve, preview and
result. Because state lives in the workspace and the service lives once per app process, any
session (another tab, a reload, another user) finds the job again and can stop it, and no job can
freeze a session: the Streamlit script thread only ever reads a snapshot.

Workers come from a fork server that has already imported the heavy libraries, so a job starts in
well under a second, and ending one is always possible: a cooperative stop first (the work keeps a
partial result), SIGTERM after ``grace_s`` (an open run ends as cancelled), SIGKILL last.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from shared_models.exceptions import InputError
from shared_models.progress import Progress
from suite.jobs.records import JobRecord, JobStatus, JobStore
from suite.jobs.worker import Outcome, ProgressUpdate, receive, run_in_worker
from suite.workspace import Workspace

__all__ = ["JobHandle", "JobService", "JobView", "get_job_service", "shutdown_job_services"]

STOP_GRACE_S = 2.5  # cooperative stop window before the worker is terminated
KILL_AFTER_S = 1.5  # after SIGTERM, before SIGKILL
DB_WRITE_EVERY_S = 0.5  # progress reaches the job table at most this often
STOP_POLL_S = 0.25  # how often stop requests from other processes are read
RESULTS_KEPT = 16  # finished results kept in memory for pages to render
# Imported once by the fork server, so each worker starts with them loaded.
PRELOAD = [
    "suite.jobs.worker",
    "numpy",
    "pandas",
    "torch",
    "scipy.sparse",
    "scipy.stats",
    "sklearn",
    "optuna",
]
log = logging.getLogger(__name__)


@dataclass
class JobView:
    """What a page draws for a job: a consistent copy taken at one moment.

    ``status`` adds ``queued`` to a run's statuses; ``queue`` is (place, length) while queued.
    """

    id: int
    capability: str
    title: str
    status: JobStatus
    progress: Progress | None
    history: list[dict[str, float]] = field(default_factory=list)
    preview: Any | None = None
    kind: str = ""
    error: str | None = None
    elapsed_s: float = 0.0
    queue: tuple[int, int] | None = None
    run_id: int | None = None
    stop_requested: bool = False

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


@dataclass
class _Live:
    """A job this service owns, from submission to the end of its worker."""

    id: int
    capability: str
    kind: str
    title: str
    target: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    env: dict[str, str]
    process: BaseProcess | None = None
    conn: Connection | None = None
    started: float | None = None
    progress: Progress | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    preview: Any | None = None
    outcome: Outcome | None = None
    stop_asked: float | None = None
    terminated: float | None = None
    dirty: bool = False
    last_write: float = 0.0
    finished: bool = False  # the outcome is final and its result stored


class JobHandle:
    """A page's handle on one job; the same interface as the old in-session thread job.

    Args:
        service: The owning service (or any service of the same workspace, for foreign jobs).
        job_id: The job.
    """

    def __init__(self, service: JobService, job_id: int) -> None:
        self.service, self.id = service, int(job_id)

    def __repr__(self) -> str:
        return f"JobHandle({self.id})"

    def snapshot(self) -> JobView:
        return self.service.view(self.id)

    @property
    def running(self) -> bool:
        """True while queued or running."""
        return self.snapshot().active

    @property
    def result(self) -> Any | None:
        """The work's return value, once done or stopped; None if it failed or is gone from memory."""
        return self.service.result(self.id)

    def request_stop(self) -> None:
        self.service.request_stop(self.id)


def _pick_env() -> dict[str, str]:
    """The suite's settings at submission time, so a worker sees what the page saw."""
    return {k: v for k, v in os.environ.items() if k.startswith("AIGC_")}


def _worker_main(
    job_id: int, conn: Connection, env: dict[str, str], target: Callable[..., Any], args: tuple, kwargs: dict
) -> None:
    for key in [k for k in os.environ if k.startswith("AIGC_")]:
        del os.environ[key]
    os.environ.update(env)
    run_in_worker(job_id, conn, target, args, kwargs)


class JobService:
    """Runs jobs of one workspace in worker processes; one instance per app process and workspace.

    Args:
        workspace: Where job state and runs are kept.
        max_jobs: Jobs running at once (``$AIGC_MAX_JOBS``, else the core count); more wait in a queue.
        grace_s: Seconds a stopped job gets to end by itself before it is terminated.
    """

    def __init__(
        self, workspace: Workspace, max_jobs: int | None = None, grace_s: float = STOP_GRACE_S
    ) -> None:
        env_cap = os.environ.get("AIGC_MAX_JOBS")
        self.max_jobs = max(1, int(max_jobs or (env_cap and int(env_cap)) or os.cpu_count() or 1))
        self.grace_s = grace_s
        self.workspace = workspace
        self.store = JobStore(workspace)
        self.store.reap_orphans()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._queue: deque[int] = deque()
        self._live: dict[int, _Live] = {}
        self._results: OrderedDict[int, Any] = OrderedDict()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._thread = threading.Thread(target=self._loop, name="aigc-job-service", daemon=True)
        self._thread.start()
        threading.Thread(target=self._warm_up, name="aigc-forkserver-start", daemon=True).start()

    # -- the page's side -----------------------------------------------------------------------

    def submit(
        self,
        capability: str,
        kind: str,
        target: Callable[..., Any],
        *args: Any,
        title: str = "",
        **kwargs: Any,
    ) -> JobHandle:
        """Queue ``target(*args, on_progress=..., stop=..., **kwargs)`` as a job.

        Args:
            capability: The capability id that owns the job (its page finds it again by this).
            kind: What the job does, e.g. ``"train"``.
            target: A module-level function (it is imported by name in the worker).
            *args: Its arguments; they are pickled to the worker, so no open files, locks or models
                that hold native handles (load those inside the target).
            title: A label for lists, e.g. ``"cVAE on digits"``.
            **kwargs: More keyword arguments for the target.

        Returns:
            A handle; the job starts as soon as fewer than ``max_jobs`` are running.
        """
        if self._closed:
            raise InputError("the job service has shut down; restart the app")
        job_id = self.store.create(capability, kind, title or kind)
        live = _Live(job_id, capability, kind, title or kind, target, args, kwargs, _pick_env())
        with self._lock:
            self._live[job_id] = live
            self._queue.append(job_id)
        self._wake.set()
        return JobHandle(self, job_id)

    def handle(self, job_id: int) -> JobHandle:
        """A handle on any job of the workspace (raises `JobNotFoundError` for an unknown id)."""
        self.store.get(job_id)
        return JobHandle(self, job_id)

    def latest(self, capability: str, active_only: bool = True) -> JobHandle | None:
        """The newest job of a capability (only a queued or running one, by default)."""
        statuses = ("queued", "running") if active_only else None
        found = self.store.list(capability=capability, statuses=statuses, limit=1)
        return JobHandle(self, found[0].id) if found else None

    def request_stop(self, job_id: int) -> bool:
        """Ask a job to stop, whichever process owns it; False if it had already ended."""
        asked = self.store.request_stop(job_id)
        self._wake.set()
        return asked

    def result(self, job_id: int) -> Any | None:
        with self._lock:
            return self._results.get(int(job_id))

    def view(self, job_id: int) -> JobView:
        """A snapshot of a job: from memory for this service's jobs, else from the job table."""
        with self._lock:
            live = self._live.get(int(job_id))
            view = self._live_view(live) if live is not None else None
        if view is None:
            return self._record_view(self.store.get(job_id))
        if not view.active:  # ended but not yet handed over: its runs are in the table already
            view.run_id = self.store.get(job_id).run_id
        return view

    def _live_view(self, live: _Live) -> JobView:
        queued = live.id in self._queue
        status: JobStatus = "queued" if queued else "running"
        if live.finished and live.outcome is not None:
            status = live.outcome.status  # type: ignore[assignment]
        return JobView(
            id=live.id,
            capability=live.capability,
            kind=live.kind,
            title=live.title,
            status=status,
            progress=live.progress,
            history=list(live.history),
            preview=live.preview,
            error=live.outcome.error if live.outcome else None,
            elapsed_s=0.0 if live.started is None else time.monotonic() - live.started,
            queue=(list(self._queue).index(live.id) + 1, len(self._queue)) if queued else None,
            stop_requested=live.stop_asked is not None,
        )

    def _record_view(self, record: JobRecord) -> JobView:
        progress = None
        if record.status != "queued":
            progress = Progress(record.step, record.total, record.message, record.metrics, text=record.text)
        return JobView(
            id=record.id,
            capability=record.capability,
            kind=record.kind,
            title=record.title,
            status=record.status,
            progress=progress,
            history=record.history,
            error=record.error,
            elapsed_s=record.elapsed_s,
            queue=self.store.queue_position(record.id) if record.status == "queued" else None,
            run_id=record.run_id,
            stop_requested=record.stop_requested is not None,
        )

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job of this service (terminating workers that do not stop in time)."""
        self._closed = True
        with self._lock:
            ids = list(self._live)
        for job_id in ids:
            with contextlib.suppress(Exception):
                self.store.request_stop(job_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            with self._lock:
                if not self._live:
                    return
            time.sleep(0.05)
        with self._lock:
            for live in self._live.values():
                if live.process is not None and live.process.is_alive():
                    live.process.kill()

    # -- the service thread --------------------------------------------------------------------

    def _warm_up(self) -> None:
        """Start the fork server now, so the first job does not wait for its imports."""
        with contextlib.suppress(Exception):
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def _loop(self) -> None:
        last_stop_poll = 0.0
        while True:
            self._wake.wait(0.1)
            self._wake.clear()
            try:
                now = time.monotonic()
                if now - last_stop_poll >= STOP_POLL_S:
                    last_stop_poll = now
                    self._apply_stop_requests(now)
                self._collect(now)
                self._start_queued()
            except Exception:  # the loop must outlive any one job's trouble
                log.exception("job service loop")
            if self._closed and not self._live:
                return

    def _apply_stop_requests(self, now: float) -> None:
        with self._lock:
            ids = list(self._live)
        asked = self.store.stop_requests(ids)
        for job_id in asked:
            with self._lock:
                live = self._live.get(job_id)
                if live is None:
                    continue
                if job_id in self._queue:  # never started: nothing to keep
                    self._queue.remove(job_id)
                    del self._live[job_id]
                    self.store.finish(job_id, "cancelled", "stopped before it started")
                    continue
                if live.stop_asked is None:
                    live.stop_asked = now
                    with contextlib.suppress(OSError):
                        live.conn.send("stop")  # type: ignore[union-attr]
        with self._lock:
            running = [lv for lv in self._live.values() if lv.stop_asked is not None and lv.process]
        for live in running:
            process = live.process
            assert process is not None and live.stop_asked is not None
            waited = now - live.stop_asked
            if process.is_alive() and waited > self.grace_s and live.terminated is None:
                live.terminated = now
                process.terminate()
            elif process.is_alive() and live.terminated and now - live.terminated > KILL_AFTER_S:
                process.kill()

    def _collect(self, now: float) -> None:
        with self._lock:
            running = [lv for lv in self._live.values() if lv.process is not None]
        for live in running:
            self._drain(live)
            if live.dirty and now - live.last_write >= DB_WRITE_EVERY_S:
                self._write_progress(live, now)
            if not live.process.is_alive():  # type: ignore[union-attr]
                self._drain(live)
                self._finish(live)

    def _drain(self, live: _Live) -> None:
        conn = live.conn
        if conn is None:
            return
        try:
            while conn.poll():
                message = receive(conn)
                with self._lock:
                    if isinstance(message, ProgressUpdate):
                        live.progress = message.progress
                        live.history.extend(message.new_points)
                        if message.progress.preview is not None:
                            live.preview = message.progress.preview
                        live.dirty = True
                    elif isinstance(message, Outcome):
                        live.outcome = message
        except (EOFError, OSError):
            live.conn = None
        except Exception:  # a message that cannot be unpickled here: say so, keep the job
            log.exception("job %s: unreadable message from the worker", live.id)

    def _write_progress(self, live: _Live, now: float) -> None:
        progress = live.progress
        if progress is None:
            return
        self.store.update_progress(
            live.id,
            progress.step,
            progress.total,
            progress.message,
            progress.metrics,
            live.history,
            progress.text,
        )
        live.dirty, live.last_write = False, now

    def _finish(self, live: _Live) -> None:
        self._write_progress(live, time.monotonic())
        outcome = live.outcome
        if outcome is None:  # terminated or crashed before it could report
            if live.stop_asked is not None:
                why = f"stopped by the user; the work was ended after {self.grace_s:g} s of grace"
                outcome = Outcome("cancelled", error=why)
            else:
                code = live.process.exitcode if live.process else None
                outcome = Outcome("failed", error=f"the worker process ended unexpectedly (exit code {code})")
        if outcome.status == "cancelled":
            self.store.cancel_runs_of(live.id, outcome.error or "stopped by the user")
        # In this order: the result, the table, then this process's view. Whoever sees the job ended,
        # here or in the table, finds its result and its final record.
        with self._lock:
            if outcome.result is not None:
                self._results[live.id] = outcome.result
                while len(self._results) > RESULTS_KEPT:
                    self._results.popitem(last=False)
        self.store.finish(live.id, outcome.status, outcome.error)  # type: ignore[arg-type]
        if live.conn is not None:
            live.conn.close()
        with self._lock:
            live.outcome, live.finished = outcome, True
            self._live.pop(live.id, None)

    def _start_queued(self) -> None:
        while True:
            with self._lock:
                running = sum(1 for lv in self._live.values() if lv.process is not None)
                if not self._queue or running >= self.max_jobs or self._closed:
                    return
                live = self._live[self._queue.popleft()]
            self._start(live)

    def _start(self, live: _Live) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main,
            args=(live.id, child, live.env, live.target, live.args, live.kwargs),
            name=f"aigc-job-{live.id}",
        )
        try:
            process.start()
        except Exception as exc:  # e.g. an argument that cannot be pickled: a bug, say so plainly
            log.exception("job %s could not start", live.id)
            self.store.mark_running(live.id, None)
            self.store.finish(live.id, "failed", f"the job could not start: {type(exc).__name__}: {exc}")
            with self._lock:
                self._live.pop(live.id, None)
            return
        child.close()
        with self._lock:
            live.process, live.conn, live.started = process, parent, time.monotonic()
            live.progress = Progress(0, None, "starting")
        self.store.mark_running(live.id, process.pid)


_services: dict[str, JobService] = {}
_services_lock = threading.Lock()


def get_job_service(workspace: Workspace) -> JobService:
    """The one job service of this process for a workspace (created on first use)."""
    key = str(workspace.root)
    with _services_lock:
        service = _services.get(key)
        if service is None or service._closed:
            service = _services[key] = JobService(workspace)
        return service


@atexit.register
def shutdown_job_services() -> None:
    """End every job when the app exits (before multiprocessing waits for its children)."""
    with _services_lock:
        services = list(_services.values())
        _services.clear()
    for service in services:
        service.shutdown(timeout=2.0)

"""Long work in a background thread, so a page stays responsive and its Stop button works.

A Streamlit script that trains in its own thread is interrupted by any click, Stop included, which
would lose the model. Instead the page starts a `BackgroundJob` and polls it: the job runs the plain
domain call with an ``on_progress`` callback and a ``stop`` event, and keeps the latest progress,
history and preview for the page to draw. The job never calls Streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from shared_models.exceptions import SuiteError
from shared_models.progress import Progress, ProgressCallback

__all__ = ["BackgroundJob", "JobSnapshot"]

T = TypeVar("T")
JobStatus = Literal["running", "done", "failed", "cancelled"]
log = logging.getLogger(__name__)


@dataclass
class JobSnapshot:
    """A consistent copy of a job's state for one page render."""

    status: JobStatus
    progress: Progress | None
    history: list[dict[str, float]] = field(default_factory=list)
    preview: Any | None = None
    error: str | None = None
    elapsed_s: float = 0.0


class BackgroundJob(Generic[T]):
    """Run ``target(on_progress, stop)`` in a daemon thread.

    Args:
        target: The work; it must honour the stop event (or the callback's False) and return a
            usable result when stopped.
        name: Thread name, for logs.
    """

    def __init__(self, target: Callable[[ProgressCallback, threading.Event], T], name: str = "job") -> None:
        self._target = target
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self._status: JobStatus = "running"
        self._progress: Progress | None = None
        self._history: list[dict[str, float]] = []
        self._preview: Any | None = None
        self._error: str | None = None
        self.result: T | None = None
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob[T]:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _on_progress(self, progress: Progress) -> bool:
        with self._lock:
            self._progress = progress
            if progress.metrics:  # status-only reports ("measuring quality") are not curve points
                self._history.append({"step": float(progress.step), **progress.metrics})
            if progress.preview is not None:
                self._preview = progress.preview
        return not self.stop_event.is_set()

    def _run(self) -> None:
        try:
            result = self._target(self._on_progress, self.stop_event)
            status: JobStatus = "cancelled" if self.stop_event.is_set() else "done"
            error = None
        except SuiteError as exc:
            result, status, error = None, "failed", str(exc)
        except Exception as exc:  # a bug: keep the page alive, log the traceback for developers
            log.exception("background job %s failed", self._thread.name)
            result, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.result, self._status, self._error = result, status, error

    def request_stop(self) -> None:
        """Ask the work to end after its current step; it keeps what it has."""
        self.stop_event.set()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._status == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(
                status=self._status,
                progress=self._progress,
                history=list(self._history),
                preview=self._preview,
                error=self._error,
                elapsed_s=time.monotonic() - self._started,
            )

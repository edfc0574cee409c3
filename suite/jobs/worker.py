"""The side of a job that runs in its worker process.

`run_in_worker` is the process's entry point. It calls the job's target with an ``on_progress``
callback and a ``stop`` event, and sends what happens back to the owning `JobService` over a pipe:
progress (throttled, with new curve points and the latest preview), then one final message with the
outcome and the result. The worker never touches the job table: its owner is the only writer.

Stopping, from gentle to firm: the owner sets ``stop`` (the work ends after its current step and keeps
a partial result); after a grace period it sends SIGTERM, which raises `KeyboardInterrupt` here so an
open workspace run ends as cancelled; last, SIGKILL.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from shared_models.exceptions import SuiteError
from shared_models.progress import Progress
from suite.workspace import bind_job

__all__ = ["Outcome", "ProgressUpdate", "receive", "run_in_worker", "send"]

SEND_EVERY_S = 0.25  # progress messages at most this often (the last one is always sent)
log = logging.getLogger(__name__)


@dataclass
class ProgressUpdate:
    """Progress since the last message: the latest report plus the curve points it added."""

    progress: Progress
    new_points: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Outcome:
    """How the work ended. ``result`` is None when the work raised or its result could not be sent."""

    status: str
    result: Any = None
    error: str | None = None


class _Reporter:
    """The ``on_progress`` callback: collects curve points, sends throttled updates to the owner."""

    def __init__(self, conn: Connection, stop: threading.Event) -> None:
        self.conn, self.stop = conn, stop
        self.pending: Progress | None = None
        self.points: list[dict[str, float]] = []
        self.last_sent = 0.0
        self.last_message = ""
        self.lock = threading.Lock()  # a domain may report from several threads

    def __call__(self, progress: Progress) -> bool:
        with self.lock:
            if progress.metrics:  # status-only reports are not curve points
                self.points.append({"step": float(progress.step), **progress.metrics})
            if progress.preview is None and self.pending is not None and self.pending.preview is not None:
                # keep the latest preview until it has been sent
                progress = dataclasses.replace(progress, preview=self.pending.preview)
            self.pending = progress
            now = time.monotonic()
            if now - self.last_sent >= SEND_EVERY_S or progress.message != self.last_message:
                self._send()
        return not self.stop.is_set()

    def _send(self) -> None:
        if self.pending is None:
            return
        send(self.conn, ProgressUpdate(self.pending, self.points))
        self.last_message = self.pending.message
        self.pending, self.points, self.last_sent = None, [], time.monotonic()

    def flush(self) -> None:
        with self.lock:
            self._send()


def send(conn: Connection, message: object) -> None:
    """Pickle with the plain pickler: multiprocessing's own would pass torch tensors as handles to
    shared memory, which die with this process before the owner reads them."""
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(conn: Connection) -> object:
    """The counterpart of `send`, in the owning app process (a trusted peer: our own worker)."""
    return pickle.loads(conn.recv_bytes())  # written by our own worker, never by a user


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("stopped by the user (the work did not stop at its own pace)")


def _watch_stop(conn: Connection, stop: threading.Event) -> None:
    """The owner sends anything down the pipe to ask for a stop; the pipe closing means it is gone."""
    with contextlib.suppress(EOFError, OSError):
        conn.recv()
    stop.set()


def run_in_worker(
    job_id: int,
    conn: Connection,
    target: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Run ``target(*args, on_progress=..., stop=..., **kwargs)`` and report to the owner over ``conn``."""
    signal.signal(signal.SIGTERM, _interrupt)
    bind_job(job_id)
    stop = threading.Event()
    threading.Thread(target=_watch_stop, args=(conn, stop), daemon=True, name="stop-watch").start()
    reporter = _Reporter(conn, stop)
    try:
        result = target(*args, on_progress=reporter, stop=stop, **kwargs)
        outcome = Outcome("cancelled" if stop.is_set() else "done", result)
    except KeyboardInterrupt as exc:
        outcome = Outcome("cancelled", error=str(exc) or "stopped by the user")
    except SuiteError as exc:
        outcome = Outcome("failed", error=str(exc))
    except Exception as exc:  # a bug: the owner shows the message, the log keeps the traceback
        traceback.print_exc()
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}")
    try:
        reporter.flush()
        send(conn, outcome)
    except Exception as exc:  # the result could not be pickled: the run in the workspace still holds it
        log.warning("job %s: result not sent to the app (%s); its run keeps the files", job_id, exc)
        send(conn, Outcome(outcome.status, None, outcome.error))
    conn.close()

"""Long solves that a stop request can cut short: the caller stops waiting, the solve is abandoned.

A sparse factorisation of a 3-D model can take several seconds and cannot be interrupted from
Python. `run_stoppable` runs such a call in a daemon thread (SuperLU, CHOLMOD and numpy release the
GIL while they work) and returns its value, or raises `Stopped` as soon as ``stop`` is set, so the
caller can keep what it finished before and end at once. The abandoned call runs on in the
background; it must not write to anything the caller keeps. A job worker leaves with ``os._exit``
and takes it along; a normal interpreter exit (the CLI) first waits for it, because freeing BLAS
memory under a running solve crashes the interpreter.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Stopped", "run_stoppable"]

T = TypeVar("T")
POLL_S = 0.05


_abandoned: list[threading.Thread] = []
EXIT_WAIT_S = 120.0


@atexit.register
def _finish_abandoned() -> None:
    """Let abandoned solves end before the interpreter frees the memory they work in."""
    deadline = time.monotonic() + EXIT_WAIT_S
    for thread in _abandoned:
        thread.join(max(0.0, deadline - time.monotonic()))


class Stopped(Exception):
    """A stop request arrived before the call finished (control flow inside a domain, not a user error)."""


def run_stoppable(
    work: Callable[[], T],
    stop: threading.Event | None,
    on_wait: Callable[[float], None] | None = None,
    wait_report_s: float = 1.0,
) -> T:
    """``work()``, unless ``stop`` is set first.

    Args:
        work: The call; it runs in another thread when ``stop`` is given (directly otherwise).
        stop: The caller's stop request.
        on_wait: Called with the seconds waited so far, every ``wait_report_s`` while ``work`` runs,
            so a long solve can say it is still busy.
        wait_report_s: How often ``on_wait`` is called.

    Raises:
        Stopped: ``stop`` was set before ``work`` finished (or before it started).
        Exception: Whatever ``work`` raised.
    """
    if stop is None:
        return work()
    if stop.is_set():
        raise Stopped("stopped before the call started")
    done = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run, name="stoppable-solve", daemon=True)
    thread.start()
    start = last_report = time.monotonic()
    while not done.wait(POLL_S):
        if stop.is_set():
            _abandoned.append(thread)
            raise Stopped("stopped during the call")
        now = time.monotonic()
        if on_wait is not None and now - last_report >= wait_report_s:
            last_report = now
            on_wait(now - start)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]

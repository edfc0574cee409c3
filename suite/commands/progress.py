"""Terminal side of the progress seam: one updating status line on stderr, Ctrl+C asks to stop."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from shared_models.progress import Progress

__all__ = ["TerminalProgress", "stop_on_interrupt"]


class TerminalProgress:
    """An ``on_progress`` callback drawing ``[#####.....]  45% step 450 loss=0.12`` on one line."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.width = width

    def __call__(self, progress: Progress) -> bool:
        fraction = progress.fraction
        bar = (
            ""
            if fraction is None
            else f"[{'#' * round(fraction * self.width):<{self.width}}] {fraction:4.0%} "
        )
        metrics = " ".join(f"{k}={v:.4g}" for k, v in progress.metrics.items())
        line = f"{bar}step {progress.step} {progress.message} {metrics} ({progress.elapsed_s:.0f}s)"
        self.stream.write("\r" + line[:150].ljust(150))
        self.stream.flush()
        return True

    def close(self) -> None:
        self.stream.write("\n")


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """Turn the first Ctrl+C into a stop request (the work ends cleanly); a second one interrupts."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\nstopping after the current step (Ctrl+C again to abort)\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)

"""The progress-and-stop seam shared by every long call.

Long domain calls accept ``on_progress: ProgressCallback`` and ``stop: threading.Event``. The callback
gets a `Progress` now and then; returning ``False`` (or setting ``stop``) ends the work cleanly with a
usable partial result. Pages bridge it to ``st.progress``; the CLI to a terminal line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Progress", "ProgressCallback", "should_stop"]


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes:
        step: Work done so far (steps, trials, items).
        total: Work expected, if known (a wall-clock budget makes it an estimate).
        message: Short human-readable status.
        metrics: Latest scalar metrics, e.g. ``{"loss": 0.31}``.
        preview: Optional preview (an image array, a mesh) for the UI to show.
        elapsed_s: Seconds since the work started.
        text: What a language model is writing right now (the item in progress), for a live view.
    """

    step: int
    total: int | None = None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    preview: Any | None = None
    elapsed_s: float = 0.0
    text: str = ""

    @property
    def fraction(self) -> float | None:
        """Share of the work done, in [0, 1], when the total is known."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.step / self.total))


ProgressCallback = Callable[[Progress], bool | None]


def should_stop(
    progress: Progress, on_progress: ProgressCallback | None, stop: threading.Event | None
) -> bool:
    """Report progress; True when the caller asked to stop (callback returned False or event set)."""
    if on_progress is not None and on_progress(progress) is False:
        return True
    return stop is not None and stop.is_set()

"""Module-level job targets for the job-service tests (workers import them by name)."""

from __future__ import annotations

import threading
import time

from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import RunCancelled, Workspace


def count(limit: int, pause_s: float, on_progress: ProgressCallback, stop: threading.Event) -> int:
    """Counts to ``limit``, reporting a loss curve; stops cooperatively and returns the count."""
    step = 0
    while step < limit and not stop.is_set():
        step += 1
        on_progress(Progress(step=step, total=limit, message="counting", metrics={"loss": 1 / step}))
        time.sleep(pause_s)
    return step


def recorded_count(
    root: str, limit: int, pause_s: float, on_progress: ProgressCallback, stop: threading.Event
) -> int:
    """`count` as a workspace run that ends as cancelled when stopped."""
    workspace = Workspace(root)
    with workspace.start_run("tests.count", {"limit": limit}) as run:
        done = count(limit, pause_s, on_progress, stop)
        run.log_metrics({"count": done})
        if stop.is_set():
            raise RunCancelled(f"stopped at {done}")
    return done


def stubborn(root: str, on_progress: ProgressCallback, stop: threading.Event) -> None:
    """Ignores stop requests (as a long native call would) inside an open run."""
    workspace = Workspace(root)
    with workspace.start_run("tests.stubborn"):
        on_progress(Progress(step=0, message="busy in native code"))
        time.sleep(600)


def fails(on_progress: ProgressCallback, stop: threading.Event) -> None:
    raise InputError("the dataset has 3 images")


def crashes(on_progress: ProgressCallback, stop: threading.Event) -> None:
    raise KeyError("oops")


def tensor_result(on_progress: ProgressCallback, stop: threading.Event) -> dict:
    """A result holding torch tensors (trained networks, curves) must reach the app intact."""
    import torch

    on_progress(Progress(step=1, total=1, message="done", preview=torch.ones(2, 2)))
    return {"weights": torch.arange(3.0), "note": "ok"}

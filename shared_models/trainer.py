"""One training loop for every model of the core (GAN, VAE, GPT).

A model plugs in as a `TrainingTask` (one optimisation step on a batch, and an optional preview); the
loop owns seeding, batching, the budget (steps and/or wall-clock seconds), progress reports, periodic
snapshots and cancellation. Stopping early always leaves the task's model usable: steps are atomic.

Example:
    >>> result = train(task, data=(images, labels), config=TrainConfig(seconds=60, seed=0),
    ...                on_progress=print_progress)
"""

from __future__ import annotations

import abc
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = ["TrainConfig", "TrainResult", "TrainingTask", "seed_everything", "train"]

Batch = tuple[torch.Tensor, ...]


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch and numpy globally and return a generator for explicit use."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
    return torch.Generator().manual_seed(seed)


@dataclass
class TrainConfig:
    """Budget and bookkeeping of one training run.

    Attributes:
        steps: Stop after this many steps (None: no step limit).
        seconds: Stop after this much wall-clock time (None: no time limit). With both, the first wins.
        batch_size: Examples per step.
        seed: Seeds model init (when the task is built after `seed_everything`) and batch order.
        log_every: Steps between progress reports / history entries.
        snapshot_every: Steps between preview snapshots kept in the result (0: none).
    """

    steps: int | None = 1000
    seconds: float | None = None
    batch_size: int = 64
    seed: int = 0
    log_every: int = 25
    snapshot_every: int = 0

    def __post_init__(self) -> None:
        if self.steps is None and self.seconds is None:
            raise InputError("a training budget needs steps, seconds or both")
        if self.steps is not None and self.steps < 1:
            raise InputError(f"steps must be at least 1, got {self.steps}")
        if self.seconds is not None and self.seconds <= 0:
            raise InputError(f"seconds must be positive, got {self.seconds}")
        if self.batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {self.batch_size}")


@dataclass
class TrainResult:
    """What a training run did.

    Attributes:
        steps: Optimisation steps completed.
        seconds: Wall-clock time spent.
        stopped: Why it ended: the step budget, the time budget, or a cancellation.
        history: One entry per report: ``{"step": ..., "seconds": ..., <metrics>}``.
        snapshots: ``(step, preview)`` pairs taken every ``snapshot_every`` steps.
        examples_per_s: Training throughput.
    """

    steps: int
    seconds: float
    stopped: Literal["steps", "seconds", "cancelled"]
    history: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[int, Any]] = field(default_factory=list)
    examples_per_s: float = 0.0


class TrainingTask(abc.ABC):
    """A model and its optimisers, as the trainer sees them."""

    @abc.abstractmethod
    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        """One optimisation step on a batch; returns scalar metrics (losses)."""

    def preview(self) -> Any | None:
        """A small preview of the model's current output (e.g. an image grid), or None."""
        return None


def _batches(data: Batch, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
    """Endless shuffled batches, reshuffled every epoch; the last short batch of an epoch is dropped."""
    count = data[0].shape[0]
    size = min(batch_size, count)
    while True:
        order = torch.randperm(count, generator=generator)
        for start in range(0, count - size + 1, size):
            index = order[start : start + size]
            yield tuple(t[index] for t in data)


def train(
    task: TrainingTask,
    data: Batch,
    config: TrainConfig,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainResult:
    """Train ``task`` on in-memory tensors until the budget runs out or a stop is requested.

    Args:
        task: The model's step function.
        data: Tensors sharing their first dimension (e.g. images and labels).
        config: Budget, batch size, seed, report and snapshot periods.
        on_progress: Called every ``log_every`` steps; returning False stops training.
        stop: Set it (from another thread) to stop training after the current step.

    Returns:
        A `TrainResult`; the task's model holds the weights of the last completed step.
    """
    if not data or data[0].shape[0] == 0:
        raise InputError("the training set is empty")
    if any(t.shape[0] != data[0].shape[0] for t in data):
        raise InputError("all training tensors must have the same number of examples")
    generator = torch.Generator().manual_seed(config.seed)
    batches = _batches(data, config.batch_size, generator)
    total = config.steps
    result = TrainResult(steps=0, seconds=0.0, stopped="steps")
    seen = 0
    start = time.perf_counter()
    step = 0
    while True:
        elapsed = time.perf_counter() - start
        if config.steps is not None and step >= config.steps:
            result.stopped = "steps"
            break
        if config.seconds is not None and elapsed >= config.seconds:
            result.stopped = "seconds"
            break
        batch = next(batches)
        metrics = task.train_step(batch, step)
        step += 1
        seen += batch[0].shape[0]
        if not all(math.isfinite(v) for v in metrics.values()):
            raise InputError(f"training diverged at step {step} ({metrics}); lower the learning rate")
        if config.snapshot_every and step % config.snapshot_every == 0:
            result.snapshots.append((step, task.preview()))
        if step % config.log_every == 0 or step == 1:
            elapsed = time.perf_counter() - start
            if config.seconds is not None and config.steps is None:
                total = max(step, round(step * config.seconds / max(elapsed, 1e-9)))
            result.history.append({"step": float(step), "seconds": elapsed, **metrics})
            fresh = result.snapshots[-1][1] if result.snapshots and result.snapshots[-1][0] == step else None
            report = Progress(step, total, "training", metrics, preview=fresh, elapsed_s=elapsed)
            if should_stop(report, on_progress, stop):
                result.stopped = "cancelled"
                break
        elif stop is not None and stop.is_set():
            result.stopped = "cancelled"
            break
    result.steps = step
    result.seconds = time.perf_counter() - start
    result.examples_per_s = seen / max(result.seconds, 1e-9)
    return result

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from shared_models.exceptions import InputError
from shared_models.progress import Progress
from shared_models.trainer import TrainConfig, TrainingTask, seed_everything, train


class LinearTask(TrainingTask):
    """Fit y = 3x - 1: small enough to check the loop, real enough to learn."""

    def __init__(self) -> None:
        self.model = nn.Linear(1, 1)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.seen: list[torch.Tensor] = []

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        x, y = batch
        self.seen.append(x.clone())
        loss = ((self.model(x) - y) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def preview(self) -> float:
        return self.model.weight.item()


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-1, 1, 100)[:, None]
    return x, 3 * x - 1


def test_step_budget_learns_and_reports() -> None:
    seed_everything(0)
    task, reports = LinearTask(), []
    result = train(
        task,
        _data(),
        TrainConfig(steps=200, batch_size=10, log_every=50, snapshot_every=100),
        on_progress=reports.append,
    )
    assert result.steps == 200 and result.stopped == "steps"
    assert result.history[-1]["loss"] < 1e-3
    assert [r.step for r in reports] == [1, 50, 100, 150, 200]
    assert reports[-1].fraction == 1.0 and isinstance(reports[-1], Progress)
    assert [s for s, _ in result.snapshots] == [100, 200]
    assert abs(result.snapshots[-1][1] - 3.0) < 0.05
    assert result.examples_per_s > 0


def test_same_seed_same_result_and_other_seed_differs() -> None:
    def run(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        seed_everything(seed)
        task = LinearTask()
        train(task, _data(), TrainConfig(steps=20, batch_size=8, seed=seed))
        return task.model.weight.detach().clone(), torch.cat(task.seen)

    (w1, b1), (w2, b2), (_, b3) = run(3), run(3), run(4)
    assert torch.equal(w1, w2) and torch.equal(b1, b2)
    assert not torch.equal(b1, b3)


def test_callback_returning_false_cancels_with_a_usable_model() -> None:
    task = LinearTask()
    result = train(task, _data(), TrainConfig(steps=1000, log_every=5), on_progress=lambda p: p.step < 20)
    assert result.stopped == "cancelled" and result.steps == 20
    assert torch.isfinite(task.model.weight).all()


def test_stop_event_from_another_thread_ends_training() -> None:
    stop = threading.Event()
    task = LinearTask()

    def stop_at_step_7(progress: Progress) -> None:
        if progress.step >= 7:
            stop.set()

    result = train(
        task, _data(), TrainConfig(steps=None, seconds=60, log_every=1), on_progress=stop_at_step_7, stop=stop
    )
    assert result.stopped == "cancelled" and result.steps == 7


def test_seconds_budget_ends_training() -> None:
    result = train(LinearTask(), _data(), TrainConfig(steps=None, seconds=0.2, log_every=10_000))
    assert result.stopped == "seconds" and result.steps > 0 and result.seconds >= 0.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": None, "seconds": None}, "needs steps"),
        ({"steps": 0}, "at least 1"),
        ({"seconds": -1}, "positive"),
    ],
)
def test_bad_budgets_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TrainConfig(**kwargs)


def test_empty_and_mismatched_data_are_refused() -> None:
    with pytest.raises(InputError, match="empty"):
        train(LinearTask(), (torch.zeros(0, 1), torch.zeros(0, 1)), TrainConfig(steps=1))
    with pytest.raises(InputError, match="same number"):
        train(LinearTask(), (torch.zeros(5, 1), torch.zeros(4, 1)), TrainConfig(steps=1))


def test_divergence_is_reported() -> None:
    class Exploding(LinearTask):
        def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
            return {"loss": float("nan")}

    with pytest.raises(InputError, match="diverged"):
        train(Exploding(), _data(), TrainConfig(steps=5))

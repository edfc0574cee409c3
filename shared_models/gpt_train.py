"""Training the small GPT on a text corpus through the shared trainer, and keeping it in the model store.

The corpus becomes one tensor of character ids; the trainer's "examples" are the start positions of
context windows, so its shuffled batches are random windows, as in nanoGPT. The time budget, progress
reports and Stop are the trainer's; the learning-rate schedule follows the share of the budget used.

Example:
    >>> trained = train_gpt(text, GPTTrainSpec(seconds=60))
    >>> save_gpt(trained, run_dir / "model")
    >>> sample(trained.model, trained.tokenizer, "ROMEO:", SampleOptions(seed=1)).text
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from shared_models.exceptions import InputError, ModelError
from shared_models.gpt import GPT, CharTokenizer, GPTConfig
from shared_models.progress import ProgressCallback
from shared_models.store import ModelCard, load_model, register_kind, save_model
from shared_models.trainer import TrainConfig, TrainingTask, seed_everything, train

__all__ = [
    "KIND",
    "PRESETS",
    "GPTTask",
    "GPTTrainSpec",
    "LossPoint",
    "TrainedGPT",
    "load_gpt",
    "save_gpt",
    "split_corpus",
    "train_gpt",
]

KIND = "gpt"
register_kind(KIND, lambda config: GPT(GPTConfig(**config)))

Preset = Literal["tiny", "small"]
# tiny: learns a corpus's alphabet and word shapes in seconds (tests, demos).
# small: nanoGPT's CPU config for Shakespeare (about 0.8M parameters).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32},
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64},
}


@dataclass(frozen=True)
class GPTTrainSpec:
    """Everything that defines a training run.

    Attributes:
        preset: Network size, see `PRESETS`.
        seconds: Wall-clock budget.
        max_steps: Optional step budget as well (whichever comes first).
        batch_size: Context windows per step.
        learning_rate: AdamW peak rate (short warm-up, cosine decay to 10 % over the budget).
        dropout: Dropout inside the network.
        val_fraction: Tail of the corpus held out for the validation loss.
        eval_every: Steps between validation estimates (a multiple of ``log_every``).
        eval_batches: Batches averaged per estimate.
        log_every: Steps between progress reports.
        seed: Seeds the weights and the batch order.
    """

    preset: Preset = "small"
    seconds: float = 120.0
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float = 2e-3
    dropout: float = 0.0
    val_fraction: float = 0.1
    eval_every: int = 100
    eval_batches: int = 8
    log_every: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise InputError(f"unknown GPT preset {self.preset!r}; available: {sorted(PRESETS)}")
        if not 0 < self.seconds <= 24 * 3600:
            raise InputError(f"seconds must be between 0 and 86400, not {self.seconds}")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError("max_steps must be positive")
        if not 0 < self.val_fraction < 0.5:
            raise InputError("val_fraction must be between 0 and 0.5")
        if min(self.batch_size, self.eval_every, self.eval_batches, self.log_every) < 1:
            raise InputError("batch_size, eval_every, eval_batches and log_every must be positive")
        if self.eval_every % self.log_every:
            raise InputError("eval_every must be a multiple of log_every, so every estimate is reported")

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(vocab_size=vocab_size, dropout=self.dropout, **PRESETS[self.preset])


@dataclass(frozen=True)
class LossPoint:
    step: int
    seconds: float
    train_loss: float
    val_loss: float | None = None


@dataclass
class TrainedGPT:
    """A trained model with its tokenizer and the figures of its training."""

    model: GPT
    tokenizer: CharTokenizer
    spec: GPTTrainSpec
    history: list[LossPoint] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    stopped: bool = False

    @property
    def val_loss(self) -> float | None:
        return next((p.val_loss for p in reversed(self.history) if p.val_loss is not None), None)

    def metrics(self) -> dict[str, Any]:
        return {
            "val_loss": self.val_loss,
            "steps": self.steps,
            "seconds": self.seconds,
            "tokens_per_s": self.tokens_per_s,
            "stopped": self.stopped,
            "parameters": self.model.num_parameters(),
        }


def split_corpus(
    text: str, tokenizer: CharTokenizer, val_fraction: float, block_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token tensors for training and validation (the last ``val_fraction`` of the text)."""
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    cut = int(len(data) * (1 - val_fraction))
    train_ids, val_ids = data[:cut], data[cut:]
    if min(len(train_ids), len(val_ids)) <= block_size + 1:
        need = math.ceil((block_size + 2) / val_fraction)
        raise InputError(
            f"the corpus is too short for a context of {block_size}; give at least {need} characters"
        )
    return train_ids, val_ids


def _windows(data: torch.Tensor, starts: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    offsets = torch.arange(block)
    index = starts[:, None] + offsets  # (B, T)
    return data[index], data[index + 1]


class GPTTask(TrainingTask):
    """One AdamW step on a batch of context windows, with periodic validation estimates."""

    def __init__(
        self,
        model: GPT,
        train_ids: torch.Tensor,
        val_ids: torch.Tensor,
        spec: GPTTrainSpec,
        stop: threading.Event | None = None,
    ) -> None:
        self.model, self.train_ids, self.val_ids, self.spec = model, train_ids, val_ids, spec
        self.stop = stop
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=spec.learning_rate, betas=(0.9, 0.99), weight_decay=0.1
        )
        self.eval_gen = torch.Generator().manual_seed(spec.seed + 1)
        self.start = time.perf_counter()
        self.compute_s = 0.0
        self.tokens = 0

    def learning_rate(self, step: int) -> float:
        used = (time.perf_counter() - self.start) / self.spec.seconds
        if self.spec.max_steps:
            used = max(used, step / self.spec.max_steps)
        warmup = min(1.0, (step + 1) / 50)
        return self.spec.learning_rate * warmup * (0.1 + 0.45 * (1 + math.cos(math.pi * min(used, 1.0))))

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        tick = time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        x, y = _windows(self.train_ids, batch[0], self.model.config.block_size)
        self.model.train()
        _, loss = self.model(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.compute_s += time.perf_counter() - tick
        self.tokens += x.numel()
        metrics = {"loss": float(loss.item()), "tokens_per_s": self.tokens / max(self.compute_s, 1e-9)}  # type: ignore[union-attr]
        if (step + 1) % self.spec.eval_every == 0:
            metrics["val_loss"] = self.validation_loss()
        return metrics

    @torch.no_grad()
    def validation_loss(self) -> float:
        """Mean loss over ``eval_batches`` held-out batches; after a stop, over those done (at least
        one), so a stop is not held up by a full estimate (seconds for the small preset on 2 cores)."""
        self.model.eval()
        block = self.model.config.block_size
        losses: list[float] = []
        for _ in range(self.spec.eval_batches):
            if losses and self.stop is not None and self.stop.is_set():
                break
            starts = torch.randint(
                len(self.val_ids) - block - 1, (self.spec.batch_size,), generator=self.eval_gen
            )
            x, y = _windows(self.val_ids, starts, block)
            losses.append(float(self.model(x, y)[1].item()))  # type: ignore[union-attr]
        self.model.train()
        return sum(losses) / len(losses)


def train_gpt(
    text: str,
    spec: GPTTrainSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainedGPT:
    """Train a small GPT on ``text`` until the time (or step) budget runs out or it is stopped.

    Args:
        text: The corpus (see `shared_models.gpt.check_corpus` for uploads).
        spec: Size and budget; defaults to the ``small`` preset for 120 s.
        on_progress: Gets a `Progress` every ``log_every`` steps with metrics ``loss``,
            ``tokens_per_s`` and, every ``eval_every`` steps, ``val_loss``; returning False stops.
        stop: Setting this event stops training after the current step.

    Returns:
        `TrainedGPT`: the model (usable when stopped early), the loss history (ending on a measured
        validation loss) and the training speed in tokens per second of compute.
    """
    spec = spec or GPTTrainSpec()
    seed_everything(spec.seed)
    tokenizer = CharTokenizer.from_text(text)
    config = spec.model_config(tokenizer.vocab_size)
    train_ids, val_ids = split_corpus(text, tokenizer, spec.val_fraction, config.block_size)
    model = GPT(config)
    task = GPTTask(model, train_ids, val_ids, spec, stop)
    starts = torch.arange(len(train_ids) - config.block_size - 1)
    budget = TrainConfig(
        steps=spec.max_steps,
        seconds=spec.seconds,
        batch_size=spec.batch_size,
        seed=spec.seed,
        log_every=spec.log_every,
    )
    result = train(task, (starts,), budget, on_progress=on_progress, stop=stop)
    history = [LossPoint(int(h["step"]), h["seconds"], h["loss"], h.get("val_loss")) for h in result.history]
    if result.steps and (not history or history[-1].step != result.steps or history[-1].val_loss is None):
        last_loss = history[-1].train_loss if history else float("nan")
        history.append(LossPoint(result.steps, result.seconds, last_loss, task.validation_loss()))
    model.eval()
    return TrainedGPT(
        model=model,
        tokenizer=tokenizer,
        spec=spec,
        history=history,
        steps=result.steps,
        seconds=result.seconds,
        tokens_per_s=task.tokens / max(task.compute_s, 1e-9),
        stopped=result.stopped == "cancelled",
    )


def save_gpt(trained: TrainedGPT, folder: str | Path, dataset: str = "") -> Path:
    """Save to the model store format: safetensors weights plus a card holding config, tokenizer,
    training spec, metrics and loss history."""
    card = ModelCard(
        kind=KIND,
        config=trained.model.config.to_dict(),
        dataset=dataset,
        metrics=trained.metrics(),
        training=asdict(trained.spec),
        extra={"tokenizer": trained.tokenizer.to_json(), "history": [asdict(p) for p in trained.history]},
    )
    return save_model(folder, trained.model, card)


def load_gpt(folder: str | Path) -> TrainedGPT:
    """Rebuild a model saved by `save_gpt` (safetensors only: nothing is unpickled)."""
    model, card = load_model(folder)
    if card.kind != KIND:
        raise ModelError(f"{folder} holds a {card.kind!r} model, not a small GPT")
    try:
        tokenizer = CharTokenizer.from_json(card.extra["tokenizer"])
        spec = GPTTrainSpec(**card.training)
        history = [LossPoint(**p) for p in card.extra.get("history", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"the model card in {folder} is incomplete: {exc}") from exc
    metrics = card.metrics
    return TrainedGPT(
        model=model,
        tokenizer=tokenizer,
        spec=spec,
        history=history,  # type: ignore[arg-type]
        steps=int(metrics.get("steps", 0)),
        seconds=float(metrics.get("seconds", 0.0)),
        tokens_per_s=float(metrics.get("tokens_per_s", 0.0)),
        stopped=bool(metrics.get("stopped", False)),
    )

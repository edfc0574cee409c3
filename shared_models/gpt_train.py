"""Training the small GPT on a text corpus, within a wall-clock budget, with progress and stopping.

Example:
    >>> result = train_gpt(text, GPTTrainSpec(seconds=60))
    >>> sample(result.model, result.tokenizer, "ROMEO:", SampleOptions(seed=1)).text
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from shared_models.exceptions import InputError, ModelError
from shared_models.gpt import GPT, CharTokenizer, GPTConfig

__all__ = [
    "PRESETS", "GPTTrainSpec", "LossPoint", "TrainProgress", "TrainedGPT",
    "load_gpt", "save_gpt", "split_corpus", "train_gpt",
]  # fmt: skip

Preset = Literal["tiny", "small"]
# tiny: learns a corpus's alphabet and word shapes in seconds (tests, demos).
# small: nanoGPT's CPU config for Shakespeare (about 0.8M parameters).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32},
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64},
}


@dataclass(frozen=True)
class GPTTrainSpec:
    """Everything that defines a training run (hashable: it keys the model store).

    Attributes:
        preset: Network size, see `PRESETS`.
        seconds: Wall-clock budget; training stops at the first step past it.
        max_steps: Optional step budget as well (whichever comes first).
        batch_size: Sequences per step.
        learning_rate: AdamW peak rate (linear warm-up, cosine decay over the budget).
        dropout: Dropout inside the network.
        val_fraction: Tail of the corpus held out for the validation loss.
        eval_every: Steps between validation estimates.
        eval_batches: Batches averaged per estimate.
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
        if self.batch_size < 1 or self.eval_every < 1 or self.eval_batches < 1:
            raise InputError("batch_size, eval_every and eval_batches must be positive")

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(vocab_size=vocab_size, dropout=self.dropout, **PRESETS[self.preset])


@dataclass(frozen=True)
class LossPoint:
    step: int
    seconds: float
    train_loss: float
    val_loss: float | None = None


@dataclass(frozen=True)
class TrainProgress:
    """What `train_gpt` reports to ``on_progress`` after each step."""

    step: int
    seconds: float
    budget_s: float
    train_loss: float
    val_loss: float | None
    tokens_per_s: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.seconds / self.budget_s)


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
        return {"val_loss": self.val_loss, "steps": self.steps, "seconds": self.seconds,
                "tokens_per_s": self.tokens_per_s, "stopped": self.stopped,
                "parameters": self.model.num_parameters()}  # fmt: skip

    def card(self) -> dict[str, Any]:
        """JSON-able description saved beside the weights."""
        return {"config": self.model.config.to_dict(), "tokenizer": self.tokenizer.to_json(),
                "spec": asdict(self.spec), "metrics": self.metrics()}  # fmt: skip


def split_corpus(text: str, tokenizer: CharTokenizer, val_fraction: float, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token tensors for training and validation (the last ``val_fraction`` of the text)."""
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    cut = int(len(data) * (1 - val_fraction))
    train, val = data[:cut], data[cut:]
    if len(val) <= block_size + 1 or len(train) <= block_size + 1:
        need = math.ceil((block_size + 2) / val_fraction)
        raise InputError(f"the corpus is too short for a context of {block_size}; give at least {need} characters")
    return train, val


def _batch(data: torch.Tensor, block: int, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    starts = torch.randint(len(data) - block - 1, (batch,), generator=gen)
    x = torch.stack([data[i : i + block] for i in starts])  # (B, T)
    y = torch.stack([data[i + 1 : i + 1 + block] for i in starts])  # (B, T)
    return x, y


@torch.no_grad()
def _estimate(model: GPT, data: torch.Tensor, spec: GPTTrainSpec, gen: torch.Generator) -> float:
    model.eval()
    losses = []
    for _ in range(spec.eval_batches):
        x, y = _batch(data, model.config.block_size, spec.batch_size, gen)
        losses.append(model(x, y)[1].item())  # type: ignore[union-attr]
    model.train()
    return sum(losses) / len(losses)


def train_gpt(
    text: str,
    spec: GPTTrainSpec | None = None,
    on_progress: Callable[[TrainProgress], bool | None] | None = None,
    stop: threading.Event | None = None,
) -> TrainedGPT:
    """Train a small GPT on ``text`` until the time (or step) budget runs out or it is stopped.

    Args:
        text: The corpus (see `shared_models.gpt.check_corpus` for uploads).
        spec: Size and budget; defaults to the ``small`` preset for 120 s.
        on_progress: Called after every step; returning False stops training early.
        stop: Setting this event stops training early.

    Returns:
        `TrainedGPT` with the model (a usable partial model when stopped early), the loss history
        (train loss every step, validation loss every ``eval_every`` steps and at the end) and speed.
    """
    spec = spec or GPTTrainSpec()
    torch.manual_seed(spec.seed)
    tokenizer = CharTokenizer.from_text(text)
    config = spec.model_config(tokenizer.vocab_size)
    train, val = split_corpus(text, tokenizer, spec.val_fraction, config.block_size)
    model = GPT(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate, betas=(0.9, 0.99), weight_decay=0.1)
    gen, eval_gen = torch.Generator().manual_seed(spec.seed), torch.Generator().manual_seed(spec.seed + 1)
    result = TrainedGPT(model=model, tokenizer=tokenizer, spec=spec)
    warmup = 50
    start = time.perf_counter()
    train_seconds, step = 0.0, 0
    while True:
        elapsed = time.perf_counter() - start
        done = elapsed >= spec.seconds or (spec.max_steps is not None and step >= spec.max_steps)
        if done or (stop is not None and stop.is_set()) or result.stopped:
            break
        # Learning rate by the fraction of the budget used, so a time budget gets a full schedule.
        used = max(elapsed / spec.seconds, step / spec.max_steps if spec.max_steps else 0.0)
        lr = spec.learning_rate * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(used, 1.0))))
        for group in optimizer.param_groups:
            group["lr"] = lr
        tick = time.perf_counter()
        x, y = _batch(train, config.block_size, spec.batch_size, gen)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        train_seconds += time.perf_counter() - tick
        step += 1
        val_loss = _estimate(model, val, spec, eval_gen) if step % spec.eval_every == 0 else None
        point = LossPoint(step, time.perf_counter() - start, float(loss.item()), val_loss)  # type: ignore[union-attr]
        result.history.append(point)
        speed = step * spec.batch_size * config.block_size / max(train_seconds, 1e-9)
        if on_progress is not None and on_progress(
            TrainProgress(step, point.seconds, spec.seconds, point.train_loss, val_loss, speed)
        ) is False:
            result.stopped = True
    if stop is not None and stop.is_set():
        result.stopped = True
    if result.history and result.history[-1].val_loss is None:  # always end on a measured val loss
        last = result.history[-1]
        result.history[-1] = LossPoint(last.step, last.seconds, last.train_loss, _estimate(model, val, spec, eval_gen))
    result.steps, result.seconds = step, time.perf_counter() - start
    result.tokens_per_s = step * spec.batch_size * config.block_size / max(train_seconds, 1e-9)
    model.eval()
    return result


MODEL_FILE, CARD_FILE = "model.safetensors", "model.json"


def save_gpt(trained: TrainedGPT, folder: str | Path) -> Path:
    """Write the weights (safetensors) and a JSON card (config, tokenizer, spec, metrics) to ``folder``."""
    from safetensors.torch import save_model

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    save_model(trained.model, str(target / MODEL_FILE))  # handles the tied embedding/head weights
    (target / CARD_FILE).write_text(json.dumps({**trained.card(), "history": [asdict(p) for p in trained.history]}))
    return target


def load_gpt(folder: str | Path) -> TrainedGPT:
    """Rebuild a model saved by `save_gpt` (safetensors only: nothing is unpickled)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    source = Path(folder)
    try:
        card = json.loads((source / CARD_FILE).read_text())
        model = GPT(GPTConfig(**card["config"]))
        load_model(model, str(source / MODEL_FILE))
        tokenizer = CharTokenizer.from_json(card["tokenizer"])
        spec = GPTTrainSpec(**card["spec"])
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelError(f"cannot load a small GPT from {source}: {exc}") from exc
    model.eval()
    metrics = card.get("metrics", {})
    return TrainedGPT(
        model=model, tokenizer=tokenizer, spec=spec,
        history=[LossPoint(**p) for p in card.get("history", [])],
        steps=int(metrics.get("steps", 0)), seconds=float(metrics.get("seconds", 0.0)),
        tokens_per_s=float(metrics.get("tokens_per_s", 0.0)), stopped=bool(metrics.get("stopped", False)),
    )  # fmt: skip

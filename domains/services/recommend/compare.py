"""Train several recommenders, score them under the chosen protocols, and keep serving models.

`compare_models` is the one call behind the page, the CLI and the benchmark: for each protocol it
splits the data, fits every model on the training part and scores it; then it fits each model on all
the data for serving (top-N, reasons, similar items) and an item-kNN for explanations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from domains.services.recommend.base import MODELS, Recommender, build_model, top_n
from domains.services.recommend.data import Interactions
from domains.services.recommend.evaluate import (
    Protocol,
    random_split,
    ranking_metrics,
    strong_generalisation_split,
)
from domains.services.recommend.neighbours import ItemKNN
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback

__all__ = ["CompareSpec", "Comparison", "ModelScore", "compare_models", "evaluate_model"]

LATENCY_USERS = 20


@dataclass
class CompareSpec:
    """What to train and how to score it.

    Attributes:
        models: Registry names, e.g. ``("popularity", "item-knn", "ease")``.
        protocols: ``strong`` (held-out users) and/or ``random`` (8:1:1 per user).
        params: Hyper-parameters per model name, e.g. ``{"ease": {"l2": 200}}``.
        seed: Seeds the splits and the models.
        fit_full: Also fit every model on all the data for serving.
        use_validation: Score on the validation part instead of the test part (for tuning).
    """

    models: tuple[str, ...] = ("popularity", "item-knn", "ease", "als")
    protocols: tuple[Protocol, ...] = ("strong",)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    fit_full: bool = True
    use_validation: bool = False

    def __post_init__(self) -> None:
        self.models = tuple(self.models)
        self.protocols = tuple(self.protocols)
        if not self.models:
            raise InputError("choose at least one model")
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            raise InputError(f"unknown model {unknown[0]!r}; available: {sorted(MODELS)}")
        bad = [p for p in self.protocols if p not in ("strong", "random")]
        if bad:
            raise InputError(f"unknown protocol {bad[0]!r}; available: ['strong', 'random']")

    def build(self, name: str) -> Recommender:
        params = dict(self.params.get(name, {}))
        if "random_state" in MODELS[name].param_names():
            params.setdefault("random_state", self.seed)
        return build_model(name, **params)


@dataclass
class ModelScore:
    """One model under one protocol: its metrics and timings."""

    model: str
    protocol: Protocol
    metrics: dict[str, float]
    train_seconds: float
    latency_ms: float


@dataclass
class Comparison:
    """The outcome of `compare_models`.

    Attributes:
        scores: One entry per (model, protocol) scored.
        models: Models fitted on all the data (for serving), by name.
        explainer: Item-kNN fitted on all the data (reasons for models without item weights).
        data: The interactions.
        stopped: True when a stop request ended the work early (what finished is kept).
    """

    scores: list[ModelScore]
    models: dict[str, Recommender]
    explainer: ItemKNN | None
    data: Interactions
    stopped: bool = False

    def table(self) -> pd.DataFrame:
        """One row per (model, protocol): metrics, training seconds and per-user latency."""
        rows = [
            {
                "model": MODELS[s.model].label,
                "protocol": s.protocol,
                **s.metrics,
                "train_s": round(s.train_seconds, 3),
                "latency_ms": round(s.latency_ms, 3),
            }
            for s in self.scores
        ]
        return pd.DataFrame(rows, columns=None if rows else ["model", "protocol", "train_s", "latency_ms"])


def _latency_ms(model: Recommender, users: np.ndarray) -> float:
    """Median time of one top-10 request for a single known user."""
    times = []
    for user in users[:LATENCY_USERS]:
        start = time.perf_counter()
        model.recommend([int(user)], 10)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000) if times else float("nan")


def evaluate_model(
    model: Recommender,
    data: Interactions,
    protocol: Protocol,
    seed: int = 0,
    use_validation: bool = False,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ModelScore | None:
    """Fit ``model`` on the protocol's training part and score it (see `evaluate` for the protocols).

    Returns:
        The score; None when ``stop`` was set by the end of the fit (a half-trained model is not
        scored, and scoring a large data set takes long).
    """
    texts = data.item_texts() if model.needs_text else None
    if protocol == "strong":
        split = strong_generalisation_split(data.matrix, seed=seed)
        given, scored = (
            (split.valid_in, split.valid_out) if use_validation else (split.test_in, split.test_out)
        )
        start = time.perf_counter()
        model.fit(split.train, texts, on_progress, stop)
        seconds = time.perf_counter() - start
        if stop is not None and stop.is_set():
            return None
        ranked, _ = top_n(model.score_histories(given), 100, given)
        metrics = ranking_metrics(ranked, scored, "strong", split.train)
        latency = _latency_ms(model, np.arange(split.train.shape[0]))
    else:
        split = random_split(data.matrix, seed=seed)
        target, other = (split.valid, split.test) if use_validation else (split.test, split.valid)
        start = time.perf_counter()
        model.fit(split.train, texts, on_progress, stop)
        seconds = time.perf_counter() - start
        if stop is not None and stop.is_set():
            return None
        users = np.flatnonzero(np.diff(target.indptr))
        # full ranking over every item unseen in training and in the other held-out part
        ranked, _ = top_n(model.score_users(users), 10, split.train[users] + other[users])
        metrics = ranking_metrics(ranked, target[users], "random", split.train)
        latency = _latency_ms(model, users)
    return ModelScore(model.name, protocol, metrics, seconds, latency)


def compare_models(
    data: Interactions,
    spec: CompareSpec,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> Comparison:
    """Score every model under every protocol and fit it on all the data for serving, model by model.

    A stop keeps what finished: the scores and serving models of the models done before it, and of
    the model it interrupted only the scores completed earlier (a half-trained model is neither scored
    nor served). The item-kNN that explains recommendations is fitted first.

    Args:
        data: The interactions (and item metadata for content models).
        spec: Models, protocols, hyper-parameters and seed.
        on_progress: Reports per stage, with the model's own progress inside; False stops.
        stop: Set to stop; the current stage is dropped, finished stages are kept.

    Returns:
        A `Comparison` (``stopped`` tells whether it ended early).
    """
    needs_text = [m for m in spec.models if MODELS[m].needs_text]
    if needs_text and not data.has_text:
        raise InputError(f"{', '.join(needs_text)} need item metadata (titles or text); upload an items file")
    stages = len(spec.models) * (len(spec.protocols) + int(spec.fit_full)) + int(spec.fit_full)
    done = 0
    started = time.perf_counter()
    cancelled = threading.Event()

    def forward(message: str) -> Callable[[Progress], bool]:
        def inner(progress: Progress) -> bool:
            fraction = progress.fraction or 0.0
            report = Progress(
                step=done * 100 + round(fraction * 100),
                total=stages * 100,
                message=f"{message} ({progress.message})" if progress.message else message,
                metrics=progress.metrics,
                elapsed_s=time.perf_counter() - started,
            )
            refused = on_progress is not None and on_progress(report) is False
            if refused or (stop is not None and stop.is_set()):
                cancelled.set()  # one event for both ways of stopping, handed to the models
            return not cancelled.is_set()

        return inner

    def halted() -> bool:
        return cancelled.is_set() or (stop is not None and stop.is_set())

    def stage(label: str) -> Callable[[Progress], bool]:
        report = forward(label)
        report(Progress(0, 1, "fitting"))
        return report

    forward("preparing the data")(Progress(0, 1))
    texts = data.item_texts() if data.has_text else None
    explainer = None
    if spec.fit_full:
        # first: every served list needs reasons, and nothing slow may be left for after a stop
        stage("all data: item-kNN for the reasons")
        explainer = ItemKNN().fit(data.matrix)
        done += 1
    scores: list[ModelScore] = []
    models: dict[str, Recommender] = {}
    for name in spec.models:  # model by model, so a stop keeps every model finished before it
        for protocol in spec.protocols:
            if halted():
                break
            kind = "held-out users" if protocol == "strong" else "random 8:1:1"
            report = stage(f"{kind}: {MODELS[name].label}")
            model = spec.build(name)
            score = evaluate_model(model, data, protocol, spec.seed, spec.use_validation, report, cancelled)
            if score is None or halted():  # stopped in the fit: a half-trained model is not scored
                break
            scores.append(score)
            done += 1
        if spec.fit_full and not halted():
            report = stage(f"all data: {MODELS[name].label}")
            model = spec.build(name)
            if (
                name == ItemKNN.name
                and explainer is not None
                and model.get_params() == explainer.get_params()
            ):
                model = explainer  # the same fit: do not repeat it
            else:
                model.fit(data.matrix, texts if MODELS[name].needs_text else None, report, cancelled)
            if not halted():  # nor is a half-trained model served
                models[name] = model
            done += 1
    scores.sort(key=lambda s: spec.protocols.index(s.protocol))  # the table groups by protocol
    return Comparison(scores, models, explainer, data, stopped=halted())

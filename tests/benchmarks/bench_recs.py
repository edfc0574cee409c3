"""Recommender: every model under both protocols on MovieLens 100K (``../shared/data/ml-100k``,
skipped when absent) and on the offline demo set; training time and top-10 latency per user; EASE,
Mult-VAE and item-kNN tuned on each protocol's own validation part; NDCG@10 over five random
splits (mean and sd); the suite's ALS against `implicit`'s.

Usage: ``python -m tests.benchmarks recs`` (``AIGC_BENCH_RECS_DATASETS=demo`` for the demo set only)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from domains.services.recommend import (
    MODELS,
    CompareSpec,
    Interactions,
    compare_models,
    load_demo,
    load_movielens_100k,
    top_n,
)
from domains.services.recommend.compare import evaluate_model
from domains.services.recommend.evaluate import Protocol, random_split, ranking_metrics
from tests.benchmarks import Figure

ML100K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ml-100k"
MODELS_BENCHED = ("popularity", "item-knn", "ease", "als", "bpr", "mult-vae", "content", "hybrid")
EASE_GRID = (100.0, 200.0, 400.0, 800.0)
KNN_GRID = (50, 100, 200)
# Mult-VAE (three seeds averaged, lr 1e-3, latent 200): the linear decoder for 45, 60 or 90 epochs
# at KL cap 0.5 or 1, and the paper's mirrored decoder at 60 epochs (the grid may pick it back). On
# the demo's random-split validation parts, seeds 0 and 1, the linear decoder at 60 epochs scored
# NDCG@10 0.168 / 0.192 against 0.163 / 0.178 for the old default (mirrored, 600-50, 3e-4 x 150).
VAE_GRID: tuple[dict[str, Any], ...] = (
    *(
        {"epochs": epochs, "beta_cap": beta, "deep_decoder": False}
        for epochs in (45, 60, 90)
        for beta in (0.5, 1.0)
    ),
    {"epochs": 60, "beta_cap": 0.5, "deep_decoder": True},
)
SPLIT_SEEDS = 5  # random 8:1:1 splits behind the mean +- sd figures
SPREAD_MODELS = ("popularity", "item-knn", "ease", "mult-vae")
TUNING_METRIC: dict[Protocol, str] = {"strong": "ndcg@100", "random": "ndcg@10"}
ALS_PARAMS = {"factors": 64, "l2": 10.0, "alpha": 10.0, "iterations": 15}


def _tune(data: Interactions, name: str, grid: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
    """The grid point with the best validation score under ``protocol`` (its validation users or
    its validation tenth; the test part is never seen)."""
    metric = TUNING_METRIC[protocol]
    best, best_value = grid[0], -1.0
    for params in grid:
        spec = CompareSpec(
            models=(name,), protocols=(protocol,), params={name: params}, fit_full=False, use_validation=True
        )
        value = compare_models(data, spec).scores[0].metrics[metric]
        print(
            f"recs bench: {data.name} {protocol} {name} {params} validation {metric}={value:.4f}",
            file=sys.stderr,
        )
        if value > best_value:
            best, best_value = params, value
    return best


def _log_stage(progress: Any) -> None:
    if progress.message.endswith("(fitting)"):
        print(f"recs bench: {progress.message} at {progress.elapsed_s:.0f}s", file=sys.stderr, flush=True)


def _implicit_vs_suite(data: Interactions, label: str, seeds: int = 5) -> list[Figure]:
    """The same split and hyper-parameters: the suite's ALS and implicit's (confidence 1 + alpha).

    Each is fitted from ``seeds`` random starts and the means are compared: one start of implicit
    alone moves NDCG@10 by about 3 % on ML-100K (0.176-0.191 over seeds 0-4), more than the gap asked for.
    """
    try:
        from implicit.als import AlternatingLeastSquares
    except ImportError:
        return [Figure("recs", f"{label}: implicit ALS", float("nan"), "", "implicit not installed")]
    from domains.services.recommend import ALS

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    split = random_split(data.matrix, seed=0)
    users = np.flatnonzero(np.diff(split.test.indptr))
    exclude = split.train[users] + split.valid[users]

    def ndcg(scores: np.ndarray) -> float:
        ranked, _ = top_n(scores, 10, exclude)
        return ranking_metrics(ranked, split.test[users], "random", split.train)["ndcg@10"]

    ours, theirs, ours_s, theirs_s = [], [], 0.0, 0.0
    for seed in range(seeds):
        start = time.perf_counter()
        model = ALS(**ALS_PARAMS, random_state=seed).fit(split.train)
        ours_s += time.perf_counter() - start
        ours.append(ndcg(model.score_users(users)))
        reference = AlternatingLeastSquares(
            factors=ALS_PARAMS["factors"],
            regularization=ALS_PARAMS["l2"],
            alpha=1.0 + ALS_PARAMS["alpha"],  # implicit's confidence is alpha * r; Hu et al.'s 1 + alpha * r
            iterations=ALS_PARAMS["iterations"],
            random_state=seed,
        )
        start = time.perf_counter()
        reference.fit(split.train, show_progress=False)
        theirs_s += time.perf_counter() - start
        theirs.append(ndcg(np.asarray(reference.user_factors)[users] @ np.asarray(reference.item_factors).T))
    gap = abs(np.mean(ours) - np.mean(theirs)) / max(float(np.mean(theirs)), 1e-9)
    spread = f"mean of {seeds} seeds, sd {{:.4f}}, fit {{:.2f}} s each"
    return [
        Figure(
            "recs",
            f"{label}: suite ALS NDCG@10 (random split)",
            float(np.mean(ours)),
            "",
            spread.format(np.std(ours), ours_s / seeds),
        ),
        Figure(
            "recs",
            f"{label}: implicit ALS NDCG@10 (same split)",
            float(np.mean(theirs)),
            "",
            spread.format(np.std(theirs), theirs_s / seeds),
        ),
        Figure("recs", f"{label}: ALS NDCG@10 gap to implicit", float(gap * 100), "%", "target: within 2 %"),
    ]


def _tune_protocol(data: Interactions, protocol: Protocol) -> dict[str, dict[str, Any]]:
    """EASE, Mult-VAE and item-kNN (the baseline gets the same care), tuned on ``protocol``'s
    validation part."""
    return {
        "ease": _tune(data, "ease", [{"l2": v} for v in EASE_GRID], protocol),
        "mult-vae": _tune(data, "mult-vae", list(VAE_GRID), protocol),
        "item-knn": _tune(data, "item-knn", [{"neighbours": k} for k in KNN_GRID], protocol),
    }


def _score_protocol(
    data: Interactions, label: str, protocol: Protocol, tuned: dict[str, dict[str, Any]]
) -> tuple[list[Figure], dict[str, dict[str, float]]]:
    """Every model under one protocol with that protocol's tuned settings: figures and metrics per model."""
    ease = tuned["ease"]
    params = {**tuned, "hybrid": {"l2": ease["l2"]}, "als": ALS_PARAMS}
    figures = [
        Figure("recs", f"{label} · {protocol}: tuned {name}", float("nan"), "", str(tuned[name]))
        for name in ("ease", "mult-vae", "item-knn")
    ]
    models = tuple(m for m in MODELS_BENCHED if data.has_text or not MODELS[m].needs_text)
    spec = CompareSpec(models=models, protocols=(protocol,), params=params, fit_full=False)
    result = compare_models(data, spec, on_progress=_log_stage)
    for score in result.scores:
        print(
            f"recs bench: {label} {score.protocol} {score.model} {score.metrics} "
            f"train {score.train_seconds:.1f}s latency {score.latency_ms:.2f}ms",
            file=sys.stderr,
            flush=True,
        )
        model = MODELS[score.model].label
        for metric, value in score.metrics.items():
            figures.append(Figure("recs", f"{label} · {score.protocol} · {model}", value, metric))
        figures.append(
            Figure("recs", f"{label} · {score.protocol} · {model}", score.train_seconds, "s train")
        )
        figures.append(
            Figure("recs", f"{label} · {score.protocol} · {model}", score.latency_ms, "ms top-10/user")
        )
    return figures, {s.model: s.metrics for s in result.scores}


def _margins(label: str, protocol: Protocol, metrics: dict[str, dict[str, float]]) -> list[Figure]:
    """How far EASE and Mult-VAE lead item-kNN and popularity on the protocol's headline metric."""
    metric = TUNING_METRIC[protocol]
    figures = []
    for model in ("ease", "mult-vae"):
        for baseline in ("item-knn", "popularity"):
            gain = metrics[model][metric] / max(metrics[baseline][metric], 1e-9) - 1
            figures.append(
                Figure(
                    "recs",
                    f"{label} · {protocol}: {MODELS[model].label} over {MODELS[baseline].label}",
                    gain * 100,
                    f"% {metric}",
                )
            )
    return figures


def _split_spread(data: Interactions, label: str, tuned: dict[str, dict[str, Any]]) -> list[Figure]:
    """NDCG@10 on the test tenth of ``SPLIT_SEEDS`` random 8:1:1 splits, with split 0's tuned settings.

    One split of a small data set moves NDCG@10 by a few per cent (item-kNN scored 0.168-0.183 over
    the demo's splits 0-4), as much as the margins in question, so the margins are also given on
    the means.
    """
    scores: dict[str, list[float]] = {}
    for name in SPREAD_MODELS:
        params = tuned.get(name, {})
        scores[name] = [
            evaluate_model(MODELS[name](**params), data, "random", seed=seed).metrics["ndcg@10"]
            for seed in range(SPLIT_SEEDS)
        ]
        print(
            f"recs bench: {label} splits {name} ndcg@10 {np.round(scores[name], 4)}",
            file=sys.stderr,
            flush=True,
        )
    figures = [
        Figure(
            "recs",
            f"{label} · random, {SPLIT_SEEDS} splits · {MODELS[name].label}",
            float(np.mean(values)),
            "ndcg@10 mean",
            f"sd {np.std(values):.4f}; per split {', '.join(f'{v:.4f}' for v in values)}",
        )
        for name, values in scores.items()
    ]
    for model in ("ease", "mult-vae"):
        for baseline in ("item-knn", "popularity"):
            gain = np.mean(scores[model]) / max(float(np.mean(scores[baseline])), 1e-9) - 1
            wins = sum(m > b for m, b in zip(scores[model], scores[baseline], strict=True))
            figures.append(
                Figure(
                    "recs",
                    f"{label} · random, {SPLIT_SEEDS} splits: "
                    f"{MODELS[model].label} over {MODELS[baseline].label}",
                    float(gain * 100),
                    "% ndcg@10 (means)",
                    f"ahead on {wins} of {SPLIT_SEEDS} splits",
                )
            )
    return figures


def _recbole_ordering(label: str, ndcg10: dict[str, float]) -> Figure:
    """RecBole's ML-1M order on NDCG@10: EASE > MultVAE > BPR ~ ItemKNN > Pop (BPR and ItemKNN tie there)."""
    n = ndcg10
    holds = (
        n["ease"] > n["mult-vae"] > max(n["bpr"], n["item-knn"])
        and min(n["bpr"], n["item-knn"]) > n["popularity"]
    )
    ranking = " > ".join(MODELS[m].label for m in sorted(ndcg10, key=ndcg10.get, reverse=True))
    return Figure(
        "recs",
        f"{label}: RecBole ordering EASE > MultVAE > BPR, ItemKNN > Pop holds",
        float(holds),
        "bool",
        f"measured NDCG@10 order: {ranking}",
    )


def _bench_dataset(data: Interactions, label: str) -> list[Figure]:
    """Both protocols, every model; EASE, Mult-VAE and item-kNN tuned on each protocol's own validation
    part first."""
    figures: list[Figure] = []
    tuned = {protocol: _tune_protocol(data, protocol) for protocol in ("strong", "random")}
    ndcg10: dict[str, float] = {}
    for protocol in ("strong", "random"):
        found, metrics = _score_protocol(data, label, protocol, tuned[protocol])
        figures.extend(found)
        margins = _margins(label, protocol, metrics)
        figures.extend(margins)
        if protocol == "random":
            ndcg10 = {model: m["ndcg@10"] for model, m in metrics.items()}
        for f in margins:
            print(f"recs bench: {f.figure} {f.value:+.1f} {f.unit}", file=sys.stderr, flush=True)
    spread = _split_spread(data, label, tuned["random"])
    for f in spread[-4:]:
        print(f"recs bench: {f.figure} {f.value:+.1f} {f.unit} ({f.notes})", file=sys.stderr, flush=True)
    summary = [_recbole_ordering(label, ndcg10), *_implicit_vs_suite(data, label)]
    for f in summary:
        print(f"recs bench: {f.figure} {f.value:.4f} {f.notes}", file=sys.stderr, flush=True)
    return [*figures, *summary[:1], *spread, *summary[1:]]


def run() -> list[Figure]:
    """Both data sets; ``AIGC_BENCH_RECS_DATASETS`` (``ml-100k``, ``demo`` or both, comma-separated)
    picks a subset."""
    chosen = os.environ.get("AIGC_BENCH_RECS_DATASETS", "ml-100k,demo").split(",")
    figures: list[Figure] = []
    if "ml-100k" in chosen and ML100K.is_dir():
        figures.extend(_bench_dataset(load_movielens_100k(ML100K), "ML-100K"))
    elif "ml-100k" in chosen:
        figures.append(Figure("recs", "ML-100K", float("nan"), "", f"skipped: {ML100K} is absent"))
    # the demo is tuned on its own validation parts: it is smaller and sparser (659 users, 2,078
    # items) than ML-100K, and settings tuned there did not carry over
    if "demo" in chosen:
        figures.extend(_bench_dataset(load_demo(), "demo (dslabs MovieLens)"))
    return figures

"""Strategy search: Optuna over strategy type and parameters, scored by walk-forward validation.

The history is cut in three, in time order: the first training window; a validation period on which
every trial is scored walk-forward; and a final holdout that the search never sees. The best configs
by validation score are then traded walk-forward over the holdout, beside equal weight and the
benchmark, so the ranked table shows out-of-sample figures. The deflated Sharpe ratio (Bailey & Lopez
de Prado, 2014) of the chosen config discounts its validation Sharpe for the number of trials run.

Example:
    >>> result = search_strategies(returns, SearchSpec(trials=50), benchmark=benchmark_returns(universe))
    >>> result.ranking.head()
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd
from scipy import stats

from domains.finance.strategy.candidates import (
    CONFIGS,
    REBALANCE_DAYS,
    StrategyConfig,
    build_config,
    describe,
)
from domains.finance.strategy.portfolio_backtest import BacktestSettings, performance_metrics
from domains.finance.strategy.walkforward import (
    Fold,
    ScenarioSource,
    WalkForwardResult,
    make_folds,
    walk_forward,
)
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = [
    "Goal",
    "SearchResult",
    "SearchSpec",
    "deflated_sharpe_ratio",
    "search_strategies",
]

EULER_GAMMA = 0.5772156649015329
PENALTY = 10.0


@dataclass(frozen=True)
class Goal:
    """What the search maximises.

    Attributes:
        kind: ``sharpe`` (risk-adjusted return), ``return_target`` (lowest volatility that reaches an
            annual return of ``target``), or ``risk_budget`` (highest return within an annual
            volatility of ``target``).
        target: Annual return or volatility for the last two, as a fraction (0.08 = 8 %).
    """

    kind: Literal["sharpe", "return_target", "risk_budget"] = "sharpe"
    target: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("sharpe", "return_target", "risk_budget"):
            raise InputError(f"unknown goal {self.kind!r}; use sharpe, return_target or risk_budget")
        if self.kind == "return_target" and not -0.5 < self.target < 1.0:
            raise InputError(f"a return target must be between -50% and 100% a year, got {self.target:.0%}")
        if self.kind == "risk_budget" and not 0 < self.target <= 1.0:
            raise InputError(
                f"a risk budget must be a volatility between 0% and 100% a year, got {self.target:.0%}"
            )

    def score(self, metrics: dict[str, float]) -> float:
        """Higher is better; a missed target or budget costs ``PENALTY`` per unit missed."""
        if self.kind == "return_target":
            return -metrics["volatility"] - PENALTY * max(0.0, self.target - metrics["cagr"])
        if self.kind == "risk_budget":
            return metrics["cagr"] - PENALTY * max(0.0, metrics["volatility"] - self.target)
        return metrics["sharpe"]

    def describe(self) -> str:
        if self.kind == "return_target":
            return f"lowest volatility reaching {self.target:.1%} a year"
        if self.kind == "risk_budget":
            return f"highest return within {self.target:.1%} annual volatility"
        return "highest Sharpe ratio"


@dataclass(frozen=True)
class SearchSpec:
    """Everything that defines a search.

    Attributes:
        trials: Optuna trials (each a strategy type and its parameters).
        strategies: Strategy types to search over (`candidates.CONFIGS`).
        goal: What to maximise.
        scheme: ``rolling`` or ``expanding`` training windows.
        train_days: Training window length (rolling) and the first training window (both).
        test_days: Test window length, the investment horizon each fold is judged on.
        embargo_days: Gap between a training window and its test window.
        holdout: Share of the days after the first training window kept for the final out-of-sample test.
        settings: Costs, cash and constraints.
        scenario_kind, scenario_paths, scenario_steps, scenario_seconds: The min-CVaR scenario generator.
        top: Configs carried to the holdout test.
        seed: Optuna's sampler seed.
    """

    trials: int = 200
    strategies: tuple[str, ...] = tuple(CONFIGS)
    goal: Goal = field(default_factory=Goal)
    scheme: Literal["rolling", "expanding"] = "rolling"
    train_days: int = 504
    test_days: int = 252
    embargo_days: int = 0
    holdout: float = 0.3
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    scenario_kind: Literal["generative", "garch"] = "generative"
    scenario_paths: int = 500
    scenario_steps: int | None = 600
    scenario_seconds: float | None = None
    top: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.trials <= 5000:
            raise InputError(f"trials must be between 1 and 5000, got {self.trials}")
        unknown = sorted(set(self.strategies) - set(CONFIGS))
        if unknown or not self.strategies:
            raise InputError(f"unknown strategies {unknown}; choose from {sorted(CONFIGS)}")
        if not 0.05 <= self.holdout <= 0.6:
            raise InputError(f"the holdout share must be between 5% and 60%, got {self.holdout:.0%}")
        if not 1 <= self.top <= 20:
            raise InputError("top must be between 1 and 20")


@dataclass
class SearchResult:
    """What a search found and how it held up out of sample.

    Attributes:
        ranking: One row per carried config (best validation score first) with validation score and
            Sharpe and holdout metrics; equal weight and the benchmark are added as reference rows.
        trials: Every trial: number, strategy, parameters, validation score and metrics.
        chosen: The best config by validation score.
        holdout: Holdout walk-forward results by ranking label (the chosen config, equal weight, ...).
        benchmark: The benchmark's simple returns over the holdout (None without one).
        validation: The chosen config's validation walk-forward result.
        deflated_sharpe: ``dsr`` (probability that the true Sharpe exceeds the best of N unskilled
            trials), ``sr`` and ``sr0`` (daily), ``trials``, ``days``.
        periods: First and last days of the training, validation and holdout periods.
        spec: The search spec.
        seconds: Search time (trials only).
        stopped: True when stopped before all trials ran.
        notes: What happened along the way (e.g. strategies skipped).
    """

    ranking: pd.DataFrame
    trials: pd.DataFrame
    chosen: StrategyConfig
    holdout: dict[str, WalkForwardResult]
    benchmark: pd.Series | None
    validation: WalkForwardResult
    deflated_sharpe: dict[str, float]
    periods: dict[str, str]
    spec: SearchSpec
    seconds: float
    stopped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def chosen_label(self) -> str:
        return describe(self.chosen)


def deflated_sharpe_ratio(
    sharpe: float, trial_sharpes: Sequence[float], days: int, skew: float = 0.0, kurtosis: float = 3.0
) -> dict[str, float]:
    """Deflated Sharpe ratio (Bailey & Lopez de Prado 2014), all Sharpe ratios per period (not annualised).

    ``sr0`` is the expected maximum Sharpe of ``N = len(trial_sharpes)`` unskilled trials with the
    trials' Sharpe variance; the DSR is the probability that the true Sharpe exceeds it given ``days``
    observations with the returns' skewness and (non-excess) kurtosis.
    """
    n = len(trial_sharpes)
    if days < 3:
        raise InputError("the deflated Sharpe ratio needs at least three returns")
    variance = float(np.var(trial_sharpes, ddof=1)) if n > 1 else 0.0
    sr0 = 0.0
    if n > 1 and variance > 0:
        sr0 = math.sqrt(variance) * (
            (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n) + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n * math.e))
        )
    denominator = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    z = (sharpe - sr0) * math.sqrt(days - 1) / math.sqrt(max(denominator, 1e-12))
    return {
        "dsr": float(stats.norm.cdf(z)),
        "sr": float(sharpe),
        "sr0": float(sr0),
        "trials": float(n),
        "days": float(days),
    }


def _daily_sharpe(returns: pd.Series) -> float:
    sd = float(returns.std(ddof=1))
    return float(returns.mean()) / sd if sd > 0 else 0.0


def _check_returns(returns: pd.DataFrame) -> None:
    values = returns.to_numpy(dtype=float)
    if values.shape[1] < 2:
        raise InputError(f"a strategy needs at least two assets; got {list(returns.columns)}")
    finite = np.isfinite(values)
    for column, name in enumerate(returns.columns):
        seen = np.flatnonzero(finite[:, column])
        if not len(seen) or not finite[seen[0] :, column].all():
            raise InputError(f"returns of {name!r} have missing values after its first day; clean the prices")
        if np.ptp(values[seen[0] :, column]) == 0:
            raise InputError(f"asset {name!r} never moves (constant prices); remove it")


def _periods(returns: pd.DataFrame, spec: SearchSpec) -> tuple[list[Fold], list[Fold], dict[str, str]]:
    days = len(returns)
    start = spec.train_days + spec.embargo_days + 1
    holdout_start = start + int((days - start) * (1 - spec.holdout))
    if holdout_start - start < 63 or days - holdout_start < 63:
        raise InputError(
            f"{days} days leave too little for validation and holdout after a {spec.train_days}-day training "
            "window (each needs at least 63 days); shorten the training window or use a longer history"
        )
    validation = make_folds(
        days, spec.train_days, spec.test_days, start, holdout_start, spec.scheme, spec.embargo_days
    )
    holdout = make_folds(
        days, spec.train_days, spec.test_days, holdout_start, days, spec.scheme, spec.embargo_days
    )
    index = returns.index
    periods = {
        "train_start": f"{index[0]:%Y-%m-%d}",
        "validation_start": f"{index[start]:%Y-%m-%d}",
        "validation_end": f"{index[holdout_start - 1]:%Y-%m-%d}",
        "holdout_start": f"{index[holdout_start]:%Y-%m-%d}",
        "holdout_end": f"{index[-1]:%Y-%m-%d}",
    }
    return validation, holdout, periods


def _suggest(trial: optuna.Trial, strategies: Sequence[str], max_lookback: int) -> StrategyConfig:
    name = trial.suggest_categorical("strategy", list(strategies))
    config_cls = CONFIGS[name]
    params: dict[str, Any] = {"rebalance": trial.suggest_categorical("rebalance", list(REBALANCE_DAYS))}
    for key, param in config_cls.SPACE.items():
        label = f"{name}.{key}"
        if param.kind == "choice":
            params[key] = trial.suggest_categorical(label, list(param.choices))
        elif param.kind == "float":
            params[key] = trial.suggest_float(label, param.low, param.high, log=param.log)
        else:
            high = int(min(param.high, max_lookback))
            if name == "ma_trend" and key == "fast":
                high = min(high, params["slow"] - 1)
            params[key] = trial.suggest_int(label, int(param.low), max(int(param.low), high))
    return build_config(name, params)


def _evaluate(
    returns: pd.DataFrame, config: StrategyConfig, folds: list[Fold], spec: SearchSpec, source: ScenarioSource
) -> tuple[WalkForwardResult, dict[str, float]]:
    result = walk_forward(returns, config, folds, spec.settings, source)
    metrics = performance_metrics(result.path.returns, result.path.turnover, spec.settings.cash_rate)
    return result, metrics


def _ranking_row(
    label: str, strategy: str, role: str, score: float, validation_sharpe: float, metrics: dict[str, float]
) -> dict[str, Any]:
    return {
        "strategy": label,
        "type": strategy,
        "role": role,
        "validation_score": score,
        "validation_sharpe": validation_sharpe,
        **{f"holdout_{k}": v for k, v in metrics.items()},
    }


def search_strategies(
    returns: pd.DataFrame,
    spec: SearchSpec | None = None,
    benchmark: pd.Series | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    storage: str | None = None,
    scenario_store: str | None = None,
) -> SearchResult:
    """Search strategies on daily log returns and test the best ones on a holdout the search never saw.

    Args:
        returns: Daily log returns (T, A >= 2); NaN only before an asset lists.
        spec: The search; defaults when None.
        benchmark: The benchmark's daily simple returns on the same days (e.g. buy-and-hold S&P 500).
        on_progress: Called after each trial; returning False stops the search (results so far are used).
        stop: Also stops the search.
        storage: Optuna storage URL (e.g. ``sqlite:///study.db``); in memory when None.
        scenario_store: Folder caching trained scenario models.

    Returns:
        The `SearchResult`.

    Raises:
        InputError: Bad returns, constraints that cannot be met, too short a history.
    """
    spec = spec or SearchSpec()
    _check_returns(returns)
    spec.settings.constraints.check_feasible(returns.shape[1])
    validation_folds, holdout_folds, periods = _periods(returns, spec)
    source = ScenarioSource(
        spec.scenario_kind,
        spec.scenario_paths,
        spec.scenario_steps,
        spec.scenario_seconds,
        Path(scenario_store) if scenario_store else None,
        spec.seed,
        stop,
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=spec.seed), storage=storage
    )
    evaluated: dict[str, tuple[StrategyConfig, WalkForwardResult, dict[str, float], float]] = {}
    started = time.perf_counter()
    stopped = False

    def objective(trial: optuna.Trial) -> float:
        config = _suggest(trial, spec.strategies, spec.train_days)
        key = repr(config)
        if key not in evaluated:
            result, metrics = _evaluate(returns, config, validation_folds, spec, source)
            evaluated[key] = (config, result, metrics, spec.goal.score(metrics))
        _, result, metrics, score = evaluated[key]
        trial.set_user_attr("label", describe(config))
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("daily_sharpe", _daily_sharpe(result.path.returns))
        return score

    for number in range(spec.trials):
        # said before each trial too: a min-CVaR trial can take minutes, and a stop may come during it
        before = Progress(
            number, spec.trials, f"trial {number + 1} of {spec.trials}: walk-forward validation"
        )
        if should_stop(before, on_progress, stop):
            stopped = True
            break
        trial = study.ask()
        try:
            value = objective(trial)
        except InputError as exc:  # e.g. an LP without a solution: the trial fails, the search goes on
            trial.set_user_attr("error", str(exc))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, value)
        best = study.best_trial
        progress = Progress(
            number + 1,
            spec.trials,
            f"trial {number + 1}: {trial.user_attrs['label']}",
            {"score": value, "best_score": float(best.value)},
            elapsed_s=time.perf_counter() - started,
        )
        if should_stop(progress, on_progress, stop):
            stopped = number + 1 < spec.trials
            break
    seconds = time.perf_counter() - started
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise InputError("no trial finished; loosen the constraints or allow more strategy types")
    return _finish(
        returns, spec, benchmark, study, evaluated, holdout_folds, periods, source, seconds, stopped
    )


def _trials_frame(study: optuna.Study) -> pd.DataFrame:
    rows = []
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE:
            rows.append(
                {
                    "trial": t.number,
                    "strategy": t.params.get("strategy"),
                    "label": "",
                    "score": np.nan,
                    "state": t.state.name,
                }
            )
            continue
        rows.append(
            {
                "trial": t.number,
                "strategy": t.params["strategy"],
                "label": t.user_attrs["label"],
                "score": t.value,
                "state": "COMPLETE",
                **{f"validation_{k}": v for k, v in t.user_attrs["metrics"].items()},
            }
        )
    return pd.DataFrame(rows)


def _finish(
    returns: pd.DataFrame,
    spec: SearchSpec,
    benchmark: pd.Series | None,
    study: optuna.Study,
    evaluated: dict,
    holdout_folds: list[Fold],
    periods: dict[str, str],
    source: ScenarioSource,
    seconds: float,
    stopped: bool,
) -> SearchResult:
    ranked, labels = [], set()
    for item in sorted(evaluated.values(), key=lambda item: -item[3]):
        if describe(item[0]) not in labels and len(ranked) < spec.top:  # near-equal floats share a label
            ranked.append(item)
            labels.add(describe(item[0]))
    chosen, chosen_validation = ranked[0][0], ranked[0][1]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    daily = chosen_validation.path.returns
    dsr = deflated_sharpe_ratio(
        _daily_sharpe(daily),
        [t.user_attrs["daily_sharpe"] for t in complete],
        len(daily),
        float(stats.skew(daily)),
        float(stats.kurtosis(daily, fisher=False)),
    )
    holdout: dict[str, WalkForwardResult] = {}
    rows = []
    equal = build_config("equal_weight", {"rebalance": "monthly"})
    carried = [(c, "searched", s, m["sharpe"]) for c, _, m, s in ranked]
    if all(repr(c) != repr(equal) for c, *_ in carried):  # equal weight is always shown, for reference
        eq_validation = evaluated.get(repr(equal)) or (
            None,
            *_evaluate(returns, equal, chosen_validation.folds, spec, source),
        )
        carried.append((equal, "reference", spec.goal.score(eq_validation[2]), eq_validation[2]["sharpe"]))
    for config, role, score, validation_sharpe in carried:
        result, metrics = _evaluate(returns, config, holdout_folds, spec, source)
        label = describe(config)
        holdout[label] = result
        rows.append(_ranking_row(label, config.name, role, score, validation_sharpe, metrics))
    bench = None
    if benchmark is not None:
        days = holdout[describe(chosen)].path.returns.index
        bench = benchmark.reindex(days).fillna(0.0)
        rows.append(
            _ranking_row(
                str(benchmark.name or "benchmark"),
                "benchmark",
                "reference",
                np.nan,
                np.nan,
                performance_metrics(bench, None, spec.settings.cash_rate),
            )
        )
    ranking = pd.DataFrame(rows)
    ranking.insert(0, "rank", [*range(1, len(carried) + 1), *([0] if benchmark is not None else [])])
    return SearchResult(
        ranking,
        _trials_frame(study),
        chosen,
        holdout,
        bench,
        chosen_validation,
        dsr,
        periods,
        spec,
        seconds,
        stopped,
        list(source.notes),
    )

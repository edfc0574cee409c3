"""VaR backtesting: rolling out-of-sample forecasts and the regulators' tests.

* Kupiec (1995) proportion-of-failures: is the exception rate equal to ``1 - level``?
* Christoffersen (1998) independence: do exceptions cluster (first-order Markov test)? And conditional
  coverage, the sum of both likelihood ratios (chi-square with 2 degrees of freedom).
* Basel traffic light: the zone of the number of exceptions in the last 250 days, from the cumulative
  binomial probability (green below 95 %, yellow below 99.99 %, red beyond); at 99 % and 250 days that
  is green 0-4, yellow 5-9, red 10 or more.

The forecast for day t is made from the ``window`` returns before t only (`rolling_forecasts`), so the
exceptions are honest out-of-sample failures.

Example:
    >>> result = backtest(portfolio_returns, "ewma", level=0.99, window=1000)
    >>> result.pof.p_value, result.zone
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from domains.finance.risk import RiskModel, build_model, check_level
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback, should_stop

__all__ = [
    "BacktestResult",
    "LikelihoodRatioTest",
    "TrafficLight",
    "backtest",
    "christoffersen_test",
    "conditional_coverage_test",
    "kupiec_test",
    "rolling_forecasts",
    "traffic_light",
    "transition_counts",
]

Zone = Literal["green", "yellow", "red"]


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """A likelihood-ratio test: statistic, degrees of freedom and p-value (reject when p < 1 - confidence)."""

    statistic: float
    dof: int
    p_value: float

    def rejects(self, test_level: float = 0.95) -> bool:
        return self.p_value < 1 - test_level


def _xlogy(x: float, y: float) -> float:
    """``x * log(y)`` with ``0 * log(0) = 0`` (the likelihoods below have empty cells)."""
    return 0.0 if x == 0 else x * math.log(y)


def _failures(exceptions: Sequence[bool] | np.ndarray) -> np.ndarray:
    values = np.asarray(exceptions)
    if values.ndim != 1 or len(values) < 2:
        raise InputError("a backtest needs a sequence of at least two exception indicators")
    if not np.isin(values, (0, 1)).all():
        raise InputError("exception indicators must be 0/1 or booleans")
    return values.astype(int)


def kupiec_test(exceptions: Sequence[bool] | np.ndarray, level: float) -> LikelihoodRatioTest:
    """Kupiec's proportion-of-failures test of the exception rate against ``1 - level``."""
    failures, p = _failures(exceptions), 1 - check_level(level)
    n, x = len(failures), int(failures.sum())
    observed = x / n
    log_null = _xlogy(n - x, 1 - p) + _xlogy(x, p)
    log_alt = _xlogy(n - x, 1 - observed) + _xlogy(x, observed)
    statistic = max(0.0, -2 * (log_null - log_alt))
    return LikelihoodRatioTest(statistic, 1, float(stats.chi2.sf(statistic, 1)))


def transition_counts(exceptions: Sequence[bool] | np.ndarray) -> dict[str, int]:
    """Counts of consecutive pairs: ``N01`` is a non-exception followed by an exception, etc."""
    failures = _failures(exceptions)
    previous, current = failures[:-1], failures[1:]
    return {f"N{a}{b}": int(np.sum((previous == a) & (current == b))) for a in (0, 1) for b in (0, 1)}


def christoffersen_test(exceptions: Sequence[bool] | np.ndarray) -> LikelihoodRatioTest:
    """Christoffersen's independence test: is an exception more likely right after an exception?"""
    counts = transition_counts(exceptions)
    n00, n01, n10, n11 = counts["N00"], counts["N01"], counts["N10"], counts["N11"]
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    log_null = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    log_alt = _xlogy(n00, 1 - pi0) + _xlogy(n01, pi0) + _xlogy(n10, 1 - pi1) + _xlogy(n11, pi1)
    statistic = max(0.0, -2 * (log_null - log_alt))
    return LikelihoodRatioTest(statistic, 1, float(stats.chi2.sf(statistic, 1)))


def conditional_coverage_test(exceptions: Sequence[bool] | np.ndarray, level: float) -> LikelihoodRatioTest:
    """Christoffersen's conditional coverage: POF plus independence, chi-square with 2 dof."""
    statistic = kupiec_test(exceptions, level).statistic + christoffersen_test(exceptions).statistic
    return LikelihoodRatioTest(statistic, 2, float(stats.chi2.sf(statistic, 2)))


@dataclass(frozen=True)
class TrafficLight:
    """The Basel zone of an exception count and the boundaries used."""

    zone: Zone
    exceptions: int
    days: int
    yellow_from: int
    red_from: int


def traffic_light(exceptions: int, days: int = 250, level: float = 0.99) -> TrafficLight:
    """Basel traffic-light zone from the cumulative binomial probability of the exception count.

    Green while ``P(X <= k) < 95 %``, yellow while below 99.99 %, red beyond (Basel Committee, 1996).
    """
    if days < 1 or not 0 <= exceptions <= days:
        raise InputError(f"need 0 <= exceptions <= days and days >= 1; got {exceptions} of {days}")
    p = 1 - check_level(level)
    cumulative = stats.binom.cdf(np.arange(days + 1), days, p)
    yellow_from = int(np.argmax(cumulative >= 0.95))
    red_from = int(np.argmax(cumulative >= 0.9999)) if cumulative[-1] >= 0.9999 else days + 1
    zone: Zone = "green" if exceptions < yellow_from else "yellow" if exceptions < red_from else "red"
    return TrafficLight(zone, int(exceptions), int(days), yellow_from, red_from)


def rolling_forecasts(
    returns: pd.Series | pd.DataFrame,
    model: RiskModel,
    level: float,
    window: int = 1000,
    start: int | None = None,
    refit_every: int = 20,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> pd.DataFrame:
    """One-day VaR and ES for each day from ``start``, each from the ``window`` returns before it.

    Args:
        returns: Portfolio log returns (a Series); a model that reads every asset (``uses_assets``)
            gets the asset returns (a DataFrame) and the portfolio is its own business.
        model: An unfitted `RiskModel`; re-estimated every ``refit_every`` days, refreshed daily.
        level: Confidence level.
        window: Days of history per forecast.
        start: First forecast day (position); default ``window``.
        refit_every: Days between full re-estimations (state such as volatility updates daily).
        on_progress: Reports every 50 days; returning False stops early.
        stop: Set to stop early; the forecasts made so far are returned.

    Returns:
        Indexed by forecast date: ``var``, ``es`` (forecasts) and ``loss`` (the realised loss).
    """
    check_level(level)
    if refit_every < 1:
        raise InputError(f"refit_every must be at least 1, got {refit_every}")
    start = window if start is None else start
    if start < window or start >= len(returns):
        raise InputError(
            f"{len(returns)} returns leave no out-of-sample days after a {window}-day window; "
            "shorten the window or use a longer history"
        )
    values = returns.to_numpy(dtype=float)
    portfolio = returns if isinstance(returns, pd.Series) else None
    if portfolio is None and not getattr(model, "uses_assets", False):
        raise InputError("this model needs portfolio returns (a Series), not asset returns")
    days = len(returns) - start
    forecasts = np.full((days, 2), np.nan)
    begun = time.perf_counter()
    for i, t in enumerate(range(start, len(returns))):
        history = values[t - window : t]  # strictly before day t: no look-ahead
        if i % refit_every == 0:
            model.fit(history)
        else:
            model.refresh(history)
        forecasts[i] = model.var_es(level, 1)
        # reported every 50 days, but a stop is read every day (a generative model's day is slow)
        asked = stop is not None and stop.is_set()
        if asked or (i + 1) % 50 == 0 or i + 1 == days:
            report = Progress(i + 1, days, f"backtesting {model.name}", elapsed_s=time.perf_counter() - begun)
            if should_stop(report, on_progress, stop):
                forecasts = forecasts[: i + 1]
                break
    realised = _portfolio_losses(returns, model)[start : start + len(forecasts)]
    index = returns.index[start : start + len(forecasts)]
    return pd.DataFrame({"var": forecasts[:, 0], "es": forecasts[:, 1], "loss": realised}, index=index)


def _portfolio_losses(returns: pd.Series | pd.DataFrame, model: RiskModel) -> np.ndarray:
    if isinstance(returns, pd.Series):
        return -returns.to_numpy(dtype=float)
    return -np.asarray(model.portfolio(returns.to_numpy(dtype=float)))  # type: ignore[attr-defined]


@dataclass
class BacktestResult:
    """A model's out-of-sample backtest.

    Attributes:
        model: Registry name.
        level: Confidence level.
        forecasts: ``var``, ``es``, ``loss`` and ``exception`` per forecast date.
        pof, independence, conditional_coverage: The three likelihood-ratio tests.
        counts: Christoffersen's transition counts.
        light: Basel traffic light over the last ``light_days`` forecasts.
        seconds: Wall-clock time of the rolling forecasts.
        stopped: True when stopped early (the tests then cover the forecasts made).
    """

    model: str
    level: float
    forecasts: pd.DataFrame
    pof: LikelihoodRatioTest
    independence: LikelihoodRatioTest
    conditional_coverage: LikelihoodRatioTest
    counts: dict[str, int]
    light: TrafficLight
    seconds: float
    stopped: bool = False

    @property
    def exceptions(self) -> int:
        return int(self.forecasts["exception"].sum())

    @property
    def days(self) -> int:
        return len(self.forecasts)

    def summary(self) -> dict[str, float | int | str]:
        """One flat row for tables, CSVs and run metrics."""
        return {
            "model": self.model,
            "level": self.level,
            "days": self.days,
            "exceptions": self.exceptions,
            "expected": round(self.days * (1 - self.level), 1),
            "rate": self.exceptions / max(self.days, 1),
            "kupiec_lr": self.pof.statistic,
            "kupiec_p": self.pof.p_value,
            "christoffersen_lr": self.independence.statistic,
            "christoffersen_p": self.independence.p_value,
            "cc_lr": self.conditional_coverage.statistic,
            "cc_p": self.conditional_coverage.p_value,
            "zone": self.light.zone,
            "zone_exceptions": self.light.exceptions,
            "seconds": round(self.seconds, 2),
        }


def evaluate_forecasts(
    model: str, forecasts: pd.DataFrame, level: float, light_days: int = 250, seconds: float = 0.0
) -> BacktestResult:
    """Exceptions (realised loss above VaR) and every test on a table of forecasts."""
    table = forecasts.copy()
    table["exception"] = table["loss"] > table["var"]
    flags = table["exception"].to_numpy()
    recent = flags[-light_days:]
    return BacktestResult(
        model=model,
        level=level,
        forecasts=table,
        pof=kupiec_test(flags, level),
        independence=christoffersen_test(flags),
        conditional_coverage=conditional_coverage_test(flags, level),
        counts=transition_counts(flags),
        light=traffic_light(int(recent.sum()), len(recent), level),
        seconds=seconds,
    )


def backtest(
    returns: pd.Series | pd.DataFrame,
    model: str | RiskModel,
    level: float = 0.99,
    window: int = 1000,
    start: int | None = None,
    refit_every: int = 20,
    light_days: int = 250,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> BacktestResult:
    """Rolling out-of-sample backtest of one model (see `rolling_forecasts` for the arguments).

    Returns:
        The forecasts, exceptions, Kupiec / Christoffersen / conditional-coverage tests and the traffic
        light over the last ``light_days`` days.
    """
    instance = build_model(model) if isinstance(model, str) else model
    begun = time.perf_counter()
    forecasts = rolling_forecasts(returns, instance, level, window, start, refit_every, on_progress, stop)
    expected_days = len(returns) - (window if start is None else start)
    result = evaluate_forecasts(
        instance.name, forecasts, level, light_days, seconds=time.perf_counter() - begun
    )
    result.stopped = len(forecasts) < expected_days
    return result

"""The strategy backtester: rebalancing schedules, costs and slippage, cash, constraints, metrics.

Conventions (one place, so every figure agrees):

* ``returns`` are daily log returns (T, A); row ``t`` is the return earned on day ``t``. The decision for
  day ``t`` sees rows ``< t`` only, and the weights it sets earn row ``t``.
* Between rebalancing days holdings drift with prices; what is not invested is cash earning
  ``cash_rate`` (annual, simple, /252 per day).
* Trading from weights ``w`` to ``w'`` costs ``sum|w' - w| * (commission_bps + slippage_bps) / 1e4`` of
  the portfolio's value, taken from that day's return.
* Constraints are applied to every target: long-only (or gross exposure at most 1 when shorting),
  ``|w_i| <= max_weight`` (the excess stays in cash), and at most ``turnover_cap`` traded per rebalancing.

Example:
    >>> path = run_backtest(returns, strategy, range(252, len(returns)), BacktestSettings())
    >>> performance_metrics(path.returns, path.turnover)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from domains.finance.strategy.candidates import REBALANCE_DAYS, Strategy, StrategyConfig
from shared_models.exceptions import InputError

__all__ = [
    "BacktestPath",
    "BacktestSettings",
    "Constraints",
    "FixedWeights",
    "apply_constraints",
    "check_weights",
    "drawdown",
    "performance_metrics",
    "run_backtest",
]

TRADING_DAYS = 252


@dataclass(frozen=True)
class Constraints:
    """Limits every target portfolio obeys.

    Attributes:
        long_only: No short positions (rules may short when False; gross exposure stays <= 1).
        max_weight: Largest holding per asset, as a fraction of value (0, 1].
        turnover_cap: Most value traded per rebalancing (sum of |changes|), None for no cap.
    """

    long_only: bool = True
    max_weight: float = 1.0
    turnover_cap: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.max_weight <= 1:
            raise InputError(f"max weight must be in (0, 1], got {self.max_weight}")
        if self.turnover_cap is not None and not 0 < self.turnover_cap <= 2:
            raise InputError(
                f"the turnover cap must be in (0, 2] (2 = sell everything and rebuy), got {self.turnover_cap}"
            )

    def check_feasible(self, assets: int) -> None:
        """Refuse constraints under which no allocation can be fully invested."""
        if self.max_weight * assets < 1 - 1e-9:
            raise InputError(
                f"impossible constraints: a max weight of {self.max_weight:.0%} over {assets} assets allows "
                f"at most {self.max_weight * assets:.0%} invested; raise the max weight to at least "
                f"{1 / assets:.0%}"
            )


@dataclass(frozen=True)
class BacktestSettings:
    """Trading frictions and limits.

    Attributes:
        commission_bps: Commission per unit of value traded, in basis points.
        slippage_bps: Price impact per unit of value traded, in basis points.
        cash_rate: Annual simple interest on cash (also the Sharpe ratio's risk-free rate).
        constraints: Position and turnover limits.
    """

    commission_bps: float = 5.0
    slippage_bps: float = 5.0
    cash_rate: float = 0.0
    constraints: Constraints = field(default_factory=Constraints)

    def __post_init__(self) -> None:
        if not 0 <= self.commission_bps <= 500 or not 0 <= self.slippage_bps <= 500:
            raise InputError("commission and slippage must be between 0 and 500 basis points")
        if not -0.05 <= self.cash_rate <= 0.3:
            raise InputError(f"the cash rate must be between -5% and 30% a year, got {self.cash_rate}")

    @property
    def cost_per_turnover(self) -> float:
        return (self.commission_bps + self.slippage_bps) / 1e4


def check_weights(weights: Mapping[str, float], assets: Sequence[str], tolerance: float = 1e-6) -> np.ndarray:
    """User-given weights as a vector: known assets, finite, non-negative, summing to one.

    Raises:
        InputError: Anything else, naming the problem (e.g. the sum they reach).
    """
    unknown = sorted(set(weights) - set(assets))
    if unknown:
        raise InputError(f"weights given for {unknown}, which are not in the universe {list(assets)}")
    vector = np.array([float(weights.get(a, 0.0)) for a in assets])
    if not np.isfinite(vector).all() or (vector < 0).any():
        raise InputError(
            f"weights must be finite and non-negative; got {dict(zip(assets, vector, strict=True))}"
        )
    if abs(vector.sum() - 1) > tolerance:
        raise InputError(f"weights must sum to 1 (100%); they sum to {vector.sum():.6g}. Rescale them")
    return vector


@dataclass(frozen=True)
class _FixedConfig(StrategyConfig):
    name: ClassVar[str] = "fixed"


class FixedWeights(Strategy):
    """Constant target weights (checked to sum to one), rebalanced on a schedule."""

    def __init__(
        self, weights: Mapping[str, float], assets: Sequence[str], rebalance: str = "monthly"
    ) -> None:
        super().__init__(_FixedConfig(rebalance=rebalance))  # type: ignore[arg-type]
        self.vector = check_weights(weights, assets)

    def weights(self, history: np.ndarray) -> np.ndarray:
        return self.vector


def apply_constraints(target: np.ndarray, current: np.ndarray, constraints: Constraints) -> np.ndarray:
    """The target after position limits and the turnover cap (moving part of the way when capped)."""
    if not np.isfinite(target).all():
        raise InputError("a strategy produced non-finite weights")
    weights = np.clip(
        target, 0.0 if constraints.long_only else -constraints.max_weight, constraints.max_weight
    )
    gross = np.abs(weights).sum()
    if gross > 1 + 1e-12:
        weights = weights / gross
    if constraints.turnover_cap is not None:
        trade = weights - current
        traded = np.abs(trade).sum()
        if traded > constraints.turnover_cap:
            weights = current + trade * (constraints.turnover_cap / traded)
    return weights


@dataclass
class BacktestPath:
    """Day-by-day outcome of a backtest.

    Attributes:
        returns: Net simple returns of the portfolio.
        gross: Simple returns before costs.
        weights: Holdings at the start of each day (after any rebalancing), one column per asset.
        turnover: Value traded each day (0 between rebalancings).
        costs: Cost taken each day, as a fraction of value.
    """

    returns: pd.Series
    gross: pd.Series
    weights: pd.DataFrame
    turnover: pd.Series
    costs: pd.Series

    @staticmethod
    def concat(paths: Sequence[BacktestPath]) -> BacktestPath:
        return BacktestPath(
            pd.concat([p.returns for p in paths]),
            pd.concat([p.gross for p in paths]),
            pd.concat([p.weights for p in paths]),
            pd.concat([p.turnover for p in paths]),
            pd.concat([p.costs for p in paths]),
        )


def run_backtest(
    returns: pd.DataFrame,
    strategy: Strategy,
    days: range,
    settings: BacktestSettings,
    initial: np.ndarray | None = None,
) -> BacktestPath:
    """Trade a (fitted) strategy over the given day indices of ``returns``.

    Args:
        returns: Daily log returns (T, A), NaN before an asset lists.
        strategy: Decides from ``returns[:t]`` at each rebalancing day ``t``.
        days: Consecutive day indices to trade (``range(start, stop)``); the first one rebalances.
        settings: Costs, cash rate and constraints.
        initial: Holdings before the first day (default all cash).

    Returns:
        The `BacktestPath` over those days.
    """
    values = returns.to_numpy(dtype=float)
    if days.step != 1 or days.start < 1 or days.stop > len(values) or len(days) == 0:
        raise InputError(f"days must be consecutive indices within 1..{len(values)}, got {days}")
    simple = np.nan_to_num(np.expm1(values), nan=0.0)
    every = REBALANCE_DAYS[strategy.config.rebalance]
    cash_daily = settings.cash_rate / TRADING_DAYS
    weights = np.zeros(values.shape[1]) if initial is None else np.asarray(initial, dtype=float).copy()
    count = len(days)
    held, net, gross, traded, costs = (
        np.zeros((count, values.shape[1])),
        np.zeros(count),
        np.zeros(count),
        np.zeros(count),
        np.zeros(count),
    )
    for i, t in enumerate(days):
        if i % every == 0:
            target = apply_constraints(strategy.weights(values[:t]), weights, settings.constraints)
            traded[i] = np.abs(target - weights).sum()
            costs[i] = traded[i] * settings.cost_per_turnover
            weights = target
        held[i] = weights
        day = simple[t]
        gross[i] = float(weights @ day) + (1.0 - weights.sum()) * cash_daily
        net[i] = gross[i] - costs[i]
        grown = weights * (1.0 + day)
        weights = grown / (1.0 + gross[i]) if 1.0 + gross[i] > 0 else np.zeros_like(weights)
    index = returns.index[days.start : days.stop]
    return BacktestPath(
        pd.Series(net, index=index, name="net"),
        pd.Series(gross, index=index, name="gross"),
        pd.DataFrame(held, index=index, columns=returns.columns),
        pd.Series(traded, index=index, name="turnover"),
        pd.Series(costs, index=index, name="costs"),
    )


def drawdown(returns: pd.Series) -> pd.Series:
    """Drawdown from the running peak of the equity curve (<= 0)."""
    equity = (1.0 + returns).cumprod()
    return equity / np.maximum(equity.cummax(), 1.0) - 1.0


def performance_metrics(
    returns: pd.Series, turnover: pd.Series | None = None, cash_rate: float = 0.0
) -> dict[str, float]:
    """CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, turnover and hit rate of daily simple returns.

    Sharpe and Sortino are annualised excess returns over ``cash_rate``; turnover is value traded per year;
    the hit rate is the share of days with a gain among days that moved.
    """
    r = returns.to_numpy(dtype=float)
    if len(r) < 2:
        raise InputError("performance metrics need at least two days of returns")
    years = len(r) / TRADING_DAYS
    growth = float(np.prod(1.0 + r))
    cagr = growth ** (1 / years) - 1 if growth > 0 else -1.0
    excess = r - cash_rate / TRADING_DAYS
    sd = float(r.std(ddof=1))
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    max_dd = float(drawdown(returns).min())
    moved = r[r != 0]
    return {
        "cagr": cagr,
        "volatility": sd * math.sqrt(TRADING_DAYS),
        "sharpe": float(excess.mean()) / sd * math.sqrt(TRADING_DAYS) if sd > 0 else 0.0,
        "sortino": float(excess.mean()) / downside * math.sqrt(TRADING_DAYS) if downside > 0 else 0.0,
        "max_drawdown": max_dd,
        "calmar": cagr / abs(max_dd) if max_dd < 0 else 0.0,
        "turnover": float(turnover.sum()) / years if turnover is not None else float("nan"),
        "hit_rate": float((moved > 0).mean()) if len(moved) else 0.0,
    }

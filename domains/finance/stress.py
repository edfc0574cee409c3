"""Stress tests: replay historical crises and apply user-defined shocks to a portfolio.

* `replay_windows` runs the portfolio (constant weights, rebalanced daily) through named historical
  windows and reports the total P&L, the maximum drawdown, the worst day and the worst 10 days, and the
  daily P&L distribution. A window the assets' history does not cover is listed as skipped, with why.
* `apply_shocks` applies instantaneous shocks (e.g. ``{"sp500": -0.20}``) and, when asked, moves the
  assets not shocked by their conditional expectation given the shocked ones, from the historical
  covariance of daily returns (a linear-regression propagation, as in many bank stress frameworks).

Example:
    >>> report = replay_windows(returns, {"sp500": 0.6, "nasdaq": 0.4}, value=1_000_000)
    >>> report.table[["scenario", "pnl", "max_drawdown"]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domains.finance.data import normalise_weights, portfolio_returns
from shared_models.exceptions import InputError

__all__ = [
    "HISTORICAL_WINDOWS",
    "ShockResult",
    "StressReport",
    "StressWindow",
    "apply_shocks",
    "replay_windows",
]


@dataclass(frozen=True)
class StressWindow:
    """A historical stress period (inclusive dates)."""

    key: str
    title: str
    start: str
    end: str


HISTORICAL_WINDOWS: dict[str, StressWindow] = {
    w.key: w
    for w in (
        StressWindow("dotcom", "Dot-com crash (Mar 2000 - Oct 2002)", "2000-03-24", "2002-10-09"),
        StressWindow("gfc", "Financial crisis (2008 - Mar 2009)", "2008-01-02", "2009-03-09"),
        StressWindow("2011", "2011 US downgrade and euro crisis (Jul - Oct)", "2011-07-22", "2011-10-03"),
        StressWindow(
            "2015-16", "2015-16 China and oil sell-off (Aug 2015 - Feb 2016)", "2015-08-17", "2016-02-11"
        ),
        StressWindow("2018q4", "2018 Q4 sell-off (Oct - Dec)", "2018-10-01", "2018-12-24"),
    )
}


@dataclass
class StressReport:
    """Historical replays of one portfolio.

    Attributes:
        table: One row per window replayed: scenario, start, end, days, total_return, pnl, max_drawdown,
            worst_day, worst_10d (returns as fractions, pnl in currency).
        paths: Scenario -> portfolio value through the window (starting at ``value``).
        daily_pnl: Scenario -> daily P&L in currency.
        skipped: Scenario -> why it could not be replayed.
    """

    table: pd.DataFrame
    paths: dict[str, pd.Series] = field(default_factory=dict)
    daily_pnl: dict[str, pd.Series] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _max_drawdown(values: np.ndarray) -> float:
    peaks = np.maximum.accumulate(values)
    return float((values / peaks - 1).min())


def replay_windows(
    returns: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    value: float = 1_000_000.0,
    windows: Sequence[str | StressWindow] | None = None,
) -> StressReport:
    """Replay the portfolio through historical windows.

    Args:
        returns: Daily log returns, one column per asset.
        weights: Portfolio weights by asset (default equal).
        value: Portfolio value at the start of each window, in currency.
        windows: Keys of `HISTORICAL_WINDOWS` or custom `StressWindow`s (default all historical).

    Returns:
        A `StressReport`; windows outside the data are listed in ``skipped``.
    """
    if value <= 0:
        raise InputError(f"the portfolio value must be positive, got {value}")
    chosen = [
        HISTORICAL_WINDOWS[w] if isinstance(w, str) else w for w in (windows or list(HISTORICAL_WINDOWS))
    ]
    portfolio = portfolio_returns(returns, weights)
    report = StressReport(table=pd.DataFrame())
    rows = []
    for window in chosen:
        start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
        if portfolio.index[0] > start + pd.Timedelta(days=7) or portfolio.index[-1] < end - pd.Timedelta(
            days=7
        ):
            report.skipped[window.title] = (
                f"the data cover {portfolio.index[0].date()} to {portfolio.index[-1].date()}, "
                f"not {start.date()} to {end.date()}"
            )
            continue
        daily = portfolio.loc[start:end]
        path = value * np.exp(np.cumsum(daily.to_numpy()))
        values = np.concatenate([[value], path])
        pnl = pd.Series(np.diff(values), index=daily.index)
        ten_day = daily.rolling(10).sum().min() if len(daily) >= 10 else daily.sum()
        rows.append(
            {
                "scenario": window.title,
                "start": daily.index[0].date().isoformat(),
                "end": daily.index[-1].date().isoformat(),
                "days": len(daily),
                "total_return": float(np.expm1(daily.sum())),
                "pnl": float(values[-1] - value),
                "max_drawdown": _max_drawdown(values),
                "worst_day": float(np.expm1(daily.min())),
                "worst_10d": float(np.expm1(ten_day)),
            }
        )
        report.paths[window.title] = pd.Series(path, index=daily.index)
        report.daily_pnl[window.title] = pnl
    report.table = pd.DataFrame(rows)
    return report


@dataclass
class ShockResult:
    """An instantaneous shock applied to the portfolio.

    Attributes:
        table: One row per asset: asset, weight, shock (simple return), source ("given" or "implied").
        portfolio_return: The portfolio's simple return under the shocks.
        pnl: In currency.
    """

    table: pd.DataFrame
    portfolio_return: float
    pnl: float


def apply_shocks(
    returns: pd.DataFrame,
    shocks: Mapping[str, float],
    weights: Mapping[str, float] | None = None,
    value: float = 1_000_000.0,
    propagate: bool = True,
) -> ShockResult:
    """Apply instantaneous price shocks (simple returns, -0.2 = a 20 % fall) to the portfolio.

    Args:
        returns: Daily log returns used to estimate how unshocked assets move with shocked ones.
        shocks: Asset -> shock, each above -1.
        weights: Portfolio weights (default equal).
        value: Portfolio value in currency.
        propagate: Move unshocked assets by their conditional mean given the shocks (else they stay).

    Raises:
        InputError: Unknown assets, shocks of -100 % or worse, or no shock at all.
    """
    assets = [str(c) for c in returns.columns]
    if not shocks:
        raise InputError("give at least one shock, e.g. sp500 = -20 %")
    unknown = sorted(set(shocks) - set(assets))
    if unknown:
        raise InputError(f"shocks given for {unknown}, which are not among the assets {assets}")
    if any(not np.isfinite(s) or s <= -1 for s in shocks.values()):
        raise InputError("each shock must be a finite return above -100 %")
    fractions = normalise_weights(assets, weights)
    log_shocks = {a: float(np.log1p(s)) for a, s in shocks.items()}
    moves = dict(log_shocks)
    given = [a for a in assets if a in shocks]
    others = [a for a in assets if a not in shocks]
    if propagate and others:
        covariance = returns.cov()
        mean = returns.mean()
        deviation = np.array([log_shocks[a] for a in given]) - mean[given].to_numpy()
        beta = covariance.loc[others, given].to_numpy() @ np.linalg.pinv(
            covariance.loc[given, given].to_numpy()
        )
        implied = beta @ deviation
        moves.update({a: float(v) for a, v in zip(others, implied, strict=True)})
    simple = {a: float(np.expm1(moves.get(a, 0.0))) for a in assets}
    portfolio = sum(fractions[a] * simple[a] for a in assets)
    table = pd.DataFrame(
        {
            "asset": assets,
            "weight": [fractions[a] for a in assets],
            "shock": [simple[a] for a in assets],
            "source": ["given" if a in shocks else ("implied" if propagate else "unchanged") for a in assets],
        }
    )
    return ShockResult(table=table, portfolio_return=float(portfolio), pnl=float(portfolio * value))

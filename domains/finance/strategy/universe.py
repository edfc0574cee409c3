"""Investment universes: named bundled sets of assets, and the checks every strategy input passes.

A universe's prices may start at different dates (Google lists in 2004, Facebook in 2012): an asset's
price is missing before its first day and the strategies hold nothing in it until they have seen
enough of its history. Missing prices anywhere else, constant prices, a single asset or too short a
history are refused with a message that says what to change.

Example:
    >>> universe = load_universe("stocks5")
    >>> returns = strategy_returns(universe.prices)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domains.finance.data import BUILTIN_ASSETS, PriceData, load_asset, load_prices
from shared_models.exceptions import InputError

__all__ = [
    "UNIVERSES",
    "Universe",
    "UniverseSpec",
    "benchmark_returns",
    "check_prices",
    "load_universe",
    "strategy_returns",
    "universe_from_prices",
]


@dataclass(frozen=True)
class UniverseSpec:
    """A named bundled universe.

    Attributes:
        assets: Bundled asset names (`domains.finance.data.BUILTIN_ASSETS`).
        start, end: Period kept (ISO dates).
        staggered: Assets may list late (missing before their first price); otherwise only the days
            every asset trades are kept.
        benchmark: Bundled asset bought and held as the benchmark.
        label: What the menu shows.
    """

    assets: tuple[str, ...]
    start: str
    end: str
    staggered: bool
    benchmark: str
    label: str


UNIVERSES: dict[str, UniverseSpec] = {
    "stocks5": UniverseSpec(
        ("aapl", "ibm", "msft", "goog", "fb"),
        "2000-01-01",
        "2013-12-31",
        True,
        "sp500",
        "Five US stocks 2000-2013 (AAPL, IBM, MSFT; GOOG from 2004, FB from 2012)",
    ),
    "indices": UniverseSpec(
        ("sp500", "nasdaq", "wti"),
        "1999-01-01",
        "2018-12-31",
        False,
        "sp500",
        "S&P 500 + NASDAQ + WTI crude 1999-2018",
    ),
    "stocks3": UniverseSpec(
        ("aapl", "ibm", "msft"),
        "2000-01-01",
        "2013-12-31",
        False,
        "sp500",
        "Three US stocks 2000-2013 (AAPL, IBM, MSFT)",
    ),
}


@dataclass
class Universe:
    """Validated prices for strategies plus the benchmark's prices on the same days.

    Attributes:
        prices: Positive prices; NaN only before an asset's first price.
        source: Universe name or uploaded file name.
        benchmark: Name of the benchmark series.
        benchmark_prices: Its prices on the universe's days (None: equal-weight buy-and-hold).
        notes: What loading did (days dropped, prices carried forward).
    """

    prices: pd.DataFrame
    source: str
    benchmark: str = "buy-and-hold equal weight"
    benchmark_prices: pd.Series | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def assets(self) -> list[str]:
        return [str(c) for c in self.prices.columns]


def check_prices(prices: pd.DataFrame, min_days: int = 260) -> None:
    """Refuse prices no strategy can be tested on, saying what is wrong and where.

    Raises:
        InputError: Fewer than two assets, too few days, non-positive prices, missing prices after an
            asset's first price, or an asset whose price never changes.
    """
    if prices.shape[1] < 2:
        raise InputError(
            f"a strategy needs at least two assets to allocate between; got {list(prices.columns)}. "
            "Add assets to the universe"
        )
    if len(prices) < min_days:
        raise InputError(f"{len(prices)} days of prices are too few; at least {min_days} are needed")
    values = prices.to_numpy(dtype=float)
    finite = np.isfinite(values)
    if (finite & (values <= 0)).any():
        raise InputError("prices must be positive; fix the file or drop the rows with prices <= 0")
    for column, name in enumerate(prices.columns):
        seen = np.flatnonzero(finite[:, column])
        if not len(seen):
            raise InputError(f"asset {name!r} has no prices at all")
        holes = np.flatnonzero(~finite[seen[0] :, column])
        if len(holes):
            day = pd.Timestamp(prices.index[seen[0] + holes[0]])
            raise InputError(
                f"asset {name!r} has {len(holes)} missing price(s) after its first price, first on "
                f"{day.date()}; fill them or drop those rows before testing strategies"
            )
        listed = values[seen[0] :, column]
        if np.ptp(listed) == 0:
            raise InputError(f"asset {name!r} has a constant price; it carries no information, remove it")
    if not finite[-1].all():
        raise InputError("every asset needs a price on the last day")


def strategy_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily log returns (first day dropped); NaN before an asset's first price, as in the prices."""
    check_prices(prices)
    values = np.log(prices.to_numpy(dtype=float))
    return pd.DataFrame(np.diff(values, axis=0), index=prices.index[1:], columns=prices.columns)


def _staggered(assets: Sequence[str], start: str, end: str) -> tuple[pd.DataFrame, list[str]]:
    series, notes = [], []
    for name in assets:
        values, asset_notes = load_asset(name)
        series.append(values)
        notes.extend(asset_notes)
    prices = pd.concat(series, axis=1, join="outer").loc[pd.Timestamp(start) : pd.Timestamp(end)]
    prices = prices.loc[prices.iloc[:, 0].first_valid_index() :]
    late = {c: prices[c].first_valid_index() for c in prices.columns if pd.isna(prices[c].iloc[0])}
    notes += [f"{c} listed from {day.date()}; held only after enough history" for c, day in late.items()]
    return prices, notes


def _aligned_benchmark(name: str, index: pd.DatetimeIndex, notes: list[str]) -> pd.Series:
    series, _ = load_asset(name)
    aligned = series.reindex(index)
    missing = int(aligned.isna().sum())
    aligned = aligned.ffill().bfill()
    if missing:
        notes.append(f"benchmark {name}: carried the last price into {missing} day(s) it did not trade")
    return aligned


def load_universe(name: str) -> Universe:
    """A bundled universe by name (see `UNIVERSES`), with its benchmark.

    Raises:
        InputError: Unknown name.
    """
    if name not in UNIVERSES:
        raise InputError(f"unknown universe {name!r}; available: {sorted(UNIVERSES)}")
    spec = UNIVERSES[name]
    if spec.staggered:
        prices, notes = _staggered(spec.assets, spec.start, spec.end)
    else:
        data = load_prices(list(spec.assets), spec.start, spec.end)
        prices, notes = data.prices, data.notes
    check_prices(prices)
    benchmark = _aligned_benchmark(spec.benchmark, prices.index, notes)
    return Universe(prices, name, f"buy-and-hold {spec.benchmark}", benchmark, notes)


def universe_from_prices(data: PriceData, benchmark: str | None = None) -> Universe:
    """A universe from validated prices (e.g. an upload); the benchmark is a bundled asset or, by
    default, the universe itself bought in equal parts and held."""
    check_prices(data.prices)
    notes = list(data.notes)
    if benchmark:
        if benchmark not in BUILTIN_ASSETS:
            raise InputError(f"unknown benchmark {benchmark!r}; available: {sorted(BUILTIN_ASSETS)}")
        series = _aligned_benchmark(benchmark, pd.DatetimeIndex(data.prices.index), notes)
        return Universe(data.prices, data.source, f"buy-and-hold {benchmark}", series, notes)
    return Universe(data.prices, data.source, notes=notes)


def benchmark_returns(universe: Universe) -> pd.Series:
    """Daily simple returns of the benchmark on the universe's return days.

    Without a benchmark series, equal parts of the assets priced on the first day are bought and held
    (never rebalanced).
    """
    prices = universe.prices
    if universe.benchmark_prices is not None:
        values = universe.benchmark_prices.to_numpy(dtype=float)
    else:
        first = prices.iloc[0]
        held = [c for c in prices.columns if np.isfinite(first[c])]
        values = (prices[held] / first[held]).mean(axis=1).to_numpy(dtype=float)
    simple = values[1:] / values[:-1] - 1.0
    return pd.Series(simple, index=prices.index[1:], name=universe.benchmark)

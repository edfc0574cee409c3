"""Market data for the finance capabilities: bundled real prices, validated uploads, returns.

Prices are a `pandas.DataFrame` with a sorted, unique `DatetimeIndex` (trading days) and one column of
positive prices per asset. Returns are daily log returns aligned on the same index (first day dropped).

Bundled series come from wheels, so everything works offline:

* ``arch.data``: S&P 500 and NASDAQ Composite (adjusted close, 1999-2018), VIX (2014-2018),
  WTI crude oil (1986-2019; the source marks holidays as missing, which are dropped and reported);
* ``bokeh_sampledata.stocks``: AAPL, IBM, MSFT (2000-2013), GOOG (2004-2013), FB (2012-2013),
  split- and dividend-adjusted close.

Uploaded CSVs (a date column plus one price column per asset) are checked strictly: dates must parse, be
unique and ascending; prices must be numbers. Missing values, non-positive prices, calendar gaps and
short histories each follow an explicit `PricePolicy` and every change made is listed in
`PriceData.notes`: nothing is fixed silently.

Example:
    >>> prices = load_prices(["sp500", "nasdaq"]).prices
    >>> returns = log_returns(prices)
    >>> portfolio = portfolio_returns(returns, {"sp500": 0.6, "nasdaq": 0.4})
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "BUILTIN_ASSETS",
    "MAX_CSV_BYTES",
    "PriceData",
    "PricePolicy",
    "load_asset",
    "load_prices",
    "log_returns",
    "normalise_weights",
    "portfolio_returns",
    "read_price_csv",
]

MAX_CSV_BYTES = 20_000_000
MAX_ASSETS = 50
MAX_ROWS = 200_000


@dataclass(frozen=True)
class _Source:
    label: str
    package: str
    filename: str
    column: str


BUILTIN_ASSETS: dict[str, _Source] = {
    "sp500": _Source("S&P 500 (adj. close, 1999-2018)", "arch.data.sp500", "sp500.csv.gz", "Adj Close"),
    "nasdaq": _Source(
        "NASDAQ Composite (adj. close, 1999-2018)", "arch.data.nasdaq", "nasdaq.csv.gz", "Adj Close"
    ),
    "vix": _Source("CBOE VIX index level (2014-2018)", "arch.data.vix", "vix.csv.gz", "vix"),
    "wti": _Source("WTI crude oil spot (1986-2019)", "arch.data.wti", "wti.csv.gz", "DCOILWTICO"),
    "aapl": _Source("Apple (adj. close, 2000-2013)", "bokeh_sampledata", "_data/stocks.csv.gz", "AAPL"),
    "ibm": _Source("IBM (adj. close, 2000-2013)", "bokeh_sampledata", "_data/stocks.csv.gz", "IBM"),
    "msft": _Source("Microsoft (adj. close, 2000-2013)", "bokeh_sampledata", "_data/stocks.csv.gz", "MSFT"),
    "goog": _Source("Google (adj. close, 2004-2013)", "bokeh_sampledata", "_data/stocks.csv.gz", "GOOG"),
    "fb": _Source("Facebook (adj. close, 2012-2013)", "bokeh_sampledata", "_data/stocks.csv.gz", "FB"),
}


@dataclass(frozen=True)
class PricePolicy:
    """What to do with imperfect price data; every action taken is reported, none is silent.

    Attributes:
        missing: Empty cells: refuse the file, drop the rows that have them, or carry the last price
            forward (a zero return on that day).
        non_positive: Prices <= 0 (log returns need positive prices): refuse, or drop those rows.
        gaps: Calendar gaps longer than ``max_gap_days`` between consecutive rows: refuse, or keep them
            (the return across a gap then spans several days).
        max_gap_days: Longest normal gap in calendar days (weekends, holidays and the 2001 closure fit).
        min_rows: Fewest price rows accepted after the policies above (a short history is refused).
    """

    missing: Literal["error", "drop_rows", "forward_fill"] = "error"
    non_positive: Literal["error", "drop_rows"] = "error"
    gaps: Literal["error", "allow"] = "error"
    max_gap_days: int = 10
    min_rows: int = 260

    def __post_init__(self) -> None:
        if self.max_gap_days < 1:
            raise InputError(f"max_gap_days must be at least 1, got {self.max_gap_days}")
        if self.min_rows < 3:
            raise InputError(f"min_rows must be at least 3, got {self.min_rows}")


@dataclass
class PriceData:
    """Validated prices and what was done to get them.

    Attributes:
        prices: Positive prices, sorted unique `DatetimeIndex`, one column per asset.
        source: Where they came from (asset names or the uploaded file's name).
        notes: Each policy action taken (rows dropped, values filled, gaps kept).
    """

    prices: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def assets(self) -> list[str]:
        return [str(c) for c in self.prices.columns]


# -- bundled data ---------------------------------------------------------------------------------


def _read_bundled(source: _Source) -> pd.Series:
    path = resources.files(source.package).joinpath(source.filename)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        frame = pd.read_csv(text, dtype=str)
    if source.package == "bokeh_sampledata":
        frame = frame[frame["Ticker"] == source.column]
        dates = pd.to_datetime(frame["Date"], format="%Y-%m-%d")
        values = pd.to_numeric(frame["Adj Close"], errors="coerce")
    else:
        # An explicit format: pandas 3 infers one from the first row, which is fragile for m/d/Y.
        dates = pd.to_datetime(frame["Date"], format="%m/%d/%Y")
        values = pd.to_numeric(frame[source.column], errors="coerce")  # WTI marks holidays with "."
    series = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(dates.to_numpy()), name="")
    return series.sort_index()


def load_asset(name: str) -> tuple[pd.Series, list[str]]:
    """One bundled price series by name (see `BUILTIN_ASSETS`), with notes on rows dropped.

    Raises:
        InputError: Unknown asset name.
    """
    key = name.lower()
    if key not in BUILTIN_ASSETS:
        raise InputError(f"unknown asset {name!r}; available: {sorted(BUILTIN_ASSETS)}")
    series = _read_bundled(BUILTIN_ASSETS[key]).rename(key)
    missing = int(series.isna().sum())
    notes = [f"{key}: dropped {missing} days the source marks as missing (holidays)"] if missing else []
    return series.dropna(), notes


def load_prices(
    assets: Sequence[str], start: str | None = None, end: str | None = None, min_rows: int = 260
) -> PriceData:
    """Bundled prices of several assets on their common trading days.

    Args:
        assets: Names from `BUILTIN_ASSETS` (case-insensitive), at least one.
        start: First date kept (ISO ``YYYY-MM-DD``), default the earliest common date.
        end: Last date kept, default the latest common date.
        min_rows: Fewest common days accepted.

    Raises:
        InputError: Unknown or repeated asset, or too few common days.
    """
    if not assets:
        raise InputError("pick at least one asset")
    names = [a.lower() for a in assets]
    if len(set(names)) != len(names):
        raise InputError(f"each asset may appear once; got {list(assets)}")
    columns, notes = [], []
    for name in names:
        series, asset_notes = load_asset(name)
        columns.append(series)
        notes.extend(asset_notes)
    prices = pd.concat(columns, axis=1, join="inner")
    prices = prices.loc[pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None]
    if len(prices) < min_rows:
        raise InputError(
            f"{', '.join(names)} share only {len(prices)} trading days in the chosen period; "
            f"at least {min_rows} are needed (pick assets with overlapping histories or widen the dates)"
        )
    label = " + ".join(names)
    return PriceData(prices=prices, source=label, notes=notes)


# -- uploads --------------------------------------------------------------------------------------


def _parse_dates(column: pd.Series) -> pd.DatetimeIndex:
    text = column.astype(str).str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=False)
    bad = text[parsed.isna()]
    if len(bad):
        raise InputError(
            f"{len(bad)} date(s) in column {column.name!r} do not parse, first {bad.iloc[0]!r} on row "
            f"{int(bad.index[0]) + 2}; use ISO dates like 2020-01-31"
        )
    index = pd.DatetimeIndex(parsed)
    duplicated = index[index.duplicated()]
    if len(duplicated):
        raise InputError(f"dates must be unique; {duplicated[0].date()} appears more than once")
    if not index.is_monotonic_increasing:
        position = int(np.argmax(np.diff(index.asi8) < 0)) + 1
        raise InputError(
            f"dates must be in ascending order; row {position + 2} ({index[position].date()}) comes after "
            f"{index[position - 1].date()}. Sort the file by date"
        )
    return index


def _numeric_prices(frame: pd.DataFrame) -> pd.DataFrame:
    prices = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        raw = frame[name].astype("string").str.strip().replace("", pd.NA)
        values = pd.to_numeric(raw, errors="coerce")
        bad = raw[values.isna() & raw.notna()]
        if len(bad):
            raise InputError(
                f"column {name!r} holds text that is not a price, first {bad.iloc[0]!r} on "
                f"{bad.index[0].date()}; leave missing prices empty"
            )
        prices[str(name)] = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return prices


def _apply_missing(prices: pd.DataFrame, policy: PricePolicy, notes: list[str]) -> pd.DataFrame:
    holes = prices.isna()
    if not holes.to_numpy().any():
        return prices
    count, rows = int(holes.to_numpy().sum()), int(holes.any(axis=1).sum())
    first = holes.any(axis=1).idxmax().date()
    if policy.missing == "error":
        raise InputError(
            f"{count} missing price(s) in {rows} row(s), first on {first}; fill them in the file or choose "
            "the policy 'drop_rows' or 'forward_fill'"
        )
    if policy.missing == "drop_rows":
        notes.append(f"dropped {rows} row(s) with missing prices (policy drop_rows), first on {first}")
        return prices.dropna()
    leading = holes.iloc[0].to_numpy().any()
    filled = prices.ffill()
    if leading:
        start = filled.notna().all(axis=1).idxmax()
        notes.append(f"dropped rows before {start.date()}: missing prices with nothing earlier to carry")
        filled = filled.loc[start:]
    notes.append(f"carried the last price forward into {count} empty cell(s) (policy forward_fill)")
    return filled


def _apply_non_positive(prices: pd.DataFrame, policy: PricePolicy, notes: list[str]) -> pd.DataFrame:
    bad = (prices <= 0).any(axis=1)
    if not bad.any():
        return prices
    first = bad.idxmax()
    column = str(prices.columns[int(np.argmax((prices.loc[first] <= 0).to_numpy()))])
    if policy.non_positive == "error":
        raise InputError(
            f"{int(bad.sum())} row(s) hold a price <= 0 (first {column} on {first.date()}); log returns need "
            "positive prices. Fix the file or choose the policy 'drop_rows'"
        )
    notes.append(
        f"dropped {int(bad.sum())} row(s) with prices <= 0 (policy drop_rows), first on {first.date()}"
    )
    return prices[~bad]


def _check_gaps(prices: pd.DataFrame, policy: PricePolicy, notes: list[str]) -> None:
    days = np.diff(prices.index.to_numpy()) / np.timedelta64(1, "D")  # any datetime unit (pandas 3: us)
    long_gaps = np.flatnonzero(days > policy.max_gap_days)
    if not len(long_gaps):
        return
    first = int(long_gaps[0])
    where = f"{prices.index[first].date()} to {prices.index[first + 1].date()}"
    if policy.gaps == "error":
        raise InputError(
            f"{len(long_gaps)} gap(s) longer than {policy.max_gap_days} days between rows, first {where}; "
            "add the missing days or choose the gap policy 'allow' (returns then span the gap)"
        )
    notes.append(
        f"kept {len(long_gaps)} gap(s) over {policy.max_gap_days} days (policy allow), first {where}"
    )


def read_price_csv(data: bytes, policy: PricePolicy | None = None, name: str = "upload.csv") -> PriceData:
    """Validate an uploaded price CSV: a date column (named ``date`` or first) and one column per asset.

    Args:
        data: The file's bytes (UTF-8 text, comma separated, a header row).
        policy: What to do with missing values, non-positive prices, gaps; strict by default.
        name: The file name, for messages and the run record.

    Returns:
        `PriceData` whose ``notes`` list every change the policy made.

    Raises:
        ResourceLimitError: The file, or its number of rows or assets, is too large.
        InputError: Anything else wrong with the content; the message names the row or column.
    """
    policy = policy or PricePolicy()
    if len(data) > MAX_CSV_BYTES:
        raise ResourceLimitError(f"{name} is {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    if not data.strip():
        raise InputError(f"{name} is empty; upload a CSV with a date column and one price column per asset")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (is it a spreadsheet? export it as CSV)") from exc
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{name} is not a readable CSV: {exc}") from exc
    if frame.shape[1] < 2:
        raise InputError(
            f"{name} needs a date column and at least one price column; found {list(frame.columns)}"
        )
    if frame.shape[1] - 1 > MAX_ASSETS or len(frame) > MAX_ROWS:
        raise ResourceLimitError(
            f"{name} has {frame.shape[1] - 1} assets and {len(frame):,} rows; limits are {MAX_ASSETS} and "
            f"{MAX_ROWS:,}"
        )
    names = [str(c).strip() for c in frame.columns]
    if len(set(n.lower() for n in names)) != len(names):
        raise InputError(f"column names must be unique; got {names}")
    frame.columns = names
    date_column = next((c for c in names if c.lower() == "date"), names[0])
    index = _parse_dates(frame[date_column])
    prices = _numeric_prices(frame.drop(columns=[date_column]).set_axis(index, axis=0))
    prices.index.name = None
    notes: list[str] = []
    prices = _apply_missing(prices, policy, notes)
    prices = _apply_non_positive(prices, policy, notes)
    if len(prices) < policy.min_rows:
        raise InputError(
            f"{name} has {len(prices)} usable rows; at least {policy.min_rows} are needed "
            "(about a year of daily prices) for risk estimates and backtests"
        )
    _check_gaps(prices, policy, notes)
    return PriceData(prices=prices, source=name, notes=notes)


# -- returns and portfolios ----------------------------------------------------------------------


def log_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily log returns ``ln(P_t / P_{t-1})``; the first row is dropped."""
    values = np.log(prices.to_numpy(dtype=float))
    returns = pd.DataFrame(np.diff(values, axis=0), index=prices.index[1:], columns=prices.columns)
    return returns


def normalise_weights(assets: Sequence[str], weights: Mapping[str, float] | None) -> dict[str, float]:
    """Portfolio weights as fractions of value summing to 1 (equal weights when none are given).

    Raises:
        InputError: Weights for unknown assets, negative weights, or weights summing to zero.
    """
    if not weights:
        return {a: 1.0 / len(assets) for a in assets}
    unknown = sorted(set(weights) - set(assets))
    if unknown:
        raise InputError(f"weights given for {unknown}, which are not among the assets {list(assets)}")
    values = {a: float(weights.get(a, 0.0)) for a in assets}
    if any(not np.isfinite(v) or v < 0 for v in values.values()):
        raise InputError(f"weights must be finite and non-negative (long-only portfolio); got {values}")
    total = sum(values.values())
    if total <= 0:
        raise InputError("the weights sum to zero; give at least one asset a positive weight")
    return {a: v / total for a, v in values.items()}


def portfolio_returns(returns: pd.DataFrame, weights: Mapping[str, float] | None = None) -> pd.Series:
    """Daily log returns of a portfolio rebalanced to constant weights every day.

    The portfolio's simple return is the weighted sum of the assets' simple returns; it is turned back
    into a log return so that all risk figures use one convention.
    """
    fractions = normalise_weights([str(c) for c in returns.columns], weights)
    vector = np.array([fractions[str(c)] for c in returns.columns])
    simple = np.expm1(returns.to_numpy(dtype=float)) @ vector
    return pd.Series(np.log1p(simple), index=returns.index, name="portfolio")

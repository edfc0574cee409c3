"""Bundled market data and the validation of uploaded price CSVs (every bad file, every policy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domains.finance.data import (
    BUILTIN_ASSETS,
    PricePolicy,
    load_asset,
    load_prices,
    log_returns,
    normalise_weights,
    portfolio_returns,
    read_price_csv,
)
from shared_models.exceptions import InputError, ResourceLimitError

SHORT = PricePolicy(min_rows=5)


def csv_bytes(rows: list[tuple[str, ...]], header: str = "date,AAA,BBB") -> bytes:
    return ("\n".join([header, *(",".join(r) for r in rows)]) + "\n").encode()


def good_rows(n: int = 10) -> list[tuple[str, ...]]:
    days = pd.bdate_range("2021-01-04", periods=n)
    return [(d.date().isoformat(), f"{100 + i}", f"{50 + i / 2}") for i, d in enumerate(days)]


def test_sp500_is_the_real_series() -> None:
    series, notes = load_asset("sp500")
    assert series.index[0] == pd.Timestamp("1999-01-04") and series.index[-1] == pd.Timestamp("2018-12-31")
    assert series.index.is_monotonic_increasing and series.index.is_unique
    assert series.loc["2008-10-15"] == pytest.approx(907.84, abs=0.01)  # a crash-day close
    assert not notes


def test_wti_holidays_are_dropped_and_reported() -> None:
    series, notes = load_asset("wti")
    assert series.notna().all() and (series > 0).all()
    assert notes and "missing" in notes[0]


def test_bokeh_stocks_and_common_days() -> None:
    data = load_prices(["aapl", "ibm", "sp500"])
    assert data.assets == ["aapl", "ibm", "sp500"]
    assert data.prices.index[0] >= pd.Timestamp("2000-03-01")
    assert data.prices.notna().all().all()
    assert set(BUILTIN_ASSETS) >= {"sp500", "nasdaq", "vix", "wti", "aapl", "ibm", "msft", "goog", "fb"}


def test_bundled_errors() -> None:
    with pytest.raises(InputError, match="unknown asset"):
        load_prices(["bitcoin"])
    with pytest.raises(InputError, match="share only"):
        load_prices(["fb", "sp500"])  # FB has 196 days in the wheel
    with pytest.raises(InputError, match="once"):
        load_prices(["sp500", "SP500"])


def test_a_clean_csv_reads_without_notes() -> None:
    data = read_price_csv(csv_bytes(good_rows()), SHORT)
    assert data.assets == ["AAA", "BBB"] and len(data.prices) == 10 and data.notes == []
    returns = log_returns(data.prices)
    assert len(returns) == 9 and returns.iloc[0, 0] == pytest.approx(np.log(101 / 100))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00junk", "UTF-8"),
        (b"date\n2021-01-04\n", "at least one price column"),
        (csv_bytes([("2021-01-04", "1", "2"), ("yesterday", "1", "2")]), "do not parse"),
        (csv_bytes([("2021-01-04", "1", "2"), ("2021-01-04", "1", "2")]), "unique"),
        (csv_bytes([("2021-01-05", "1", "2"), ("2021-01-04", "1", "2")]), "ascending"),
        (csv_bytes([("2021-01-04", "1", "abc"), ("2021-01-05", "1", "2")]), "not a price"),
        (csv_bytes(good_rows(3)), "usable rows"),
    ],
)
def test_bad_csvs_are_refused_with_a_clear_message(content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_price_csv(content, SHORT)


def test_duplicate_column_names_are_refused() -> None:
    with pytest.raises(InputError, match="unique"):
        read_price_csv(csv_bytes(good_rows(), header="date,AAA,aaa"), SHORT)


def test_size_limit() -> None:
    with pytest.raises(ResourceLimitError):
        read_price_csv(b"x" * 20_000_001, SHORT)


def test_missing_values_follow_the_policy() -> None:
    rows = good_rows(10)
    rows[3] = (rows[3][0], "", rows[3][2])
    content = csv_bytes(rows)
    with pytest.raises(InputError, match="missing price"):
        read_price_csv(content, SHORT)
    dropped = read_price_csv(content, PricePolicy(missing="drop_rows", min_rows=5))
    assert len(dropped.prices) == 9 and "dropped 1 row" in dropped.notes[0]
    filled = read_price_csv(content, PricePolicy(missing="forward_fill", min_rows=5))
    assert len(filled.prices) == 10 and filled.prices.iloc[3, 0] == filled.prices.iloc[2, 0]
    assert "carried" in filled.notes[-1]


def test_non_positive_prices_follow_the_policy() -> None:
    rows = good_rows(10)
    rows[5] = (rows[5][0], "0", rows[5][2])
    with pytest.raises(InputError, match="<= 0"):
        read_price_csv(csv_bytes(rows), SHORT)
    kept = read_price_csv(csv_bytes(rows), PricePolicy(non_positive="drop_rows", min_rows=5))
    assert len(kept.prices) == 9 and (kept.prices > 0).all().all() and kept.notes


def test_gaps_follow_the_policy() -> None:
    days = [*pd.bdate_range("2021-01-04", periods=5), *pd.bdate_range("2021-03-01", periods=5)]
    rows = [(d.date().isoformat(), f"{100 + i}", f"{50 + i}") for i, d in enumerate(days)]
    with pytest.raises(InputError, match="gap"):
        read_price_csv(csv_bytes(rows), SHORT)
    kept = read_price_csv(csv_bytes(rows), PricePolicy(gaps="allow", min_rows=5))
    assert len(kept.prices) == 10 and "gap" in kept.notes[0]


def test_short_history_after_dropping_rows() -> None:
    rows = good_rows(6)
    rows[1] = (rows[1][0], "", rows[1][2])
    with pytest.raises(InputError, match="usable rows"):
        read_price_csv(csv_bytes(rows), PricePolicy(missing="drop_rows", min_rows=6))


def test_weights_and_portfolio_returns() -> None:
    assert normalise_weights(["a", "b"], None) == {"a": 0.5, "b": 0.5}
    assert normalise_weights(["a", "b"], {"a": 3, "b": 1}) == {"a": 0.75, "b": 0.25}
    for bad in ({"c": 1.0}, {"a": -1.0, "b": 2.0}, {"a": 0.0, "b": 0.0}):
        with pytest.raises(InputError):
            normalise_weights(["a", "b"], bad)
    returns = pd.DataFrame({"a": [np.log(1.1)], "b": [np.log(0.9)]})
    assert portfolio_returns(returns, {"a": 1, "b": 1}).iloc[0] == pytest.approx(0.0, abs=1e-12)

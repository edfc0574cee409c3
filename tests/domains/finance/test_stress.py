"""Historical replays and user shocks on real data."""

from __future__ import annotations

import pytest

from domains.finance.data import load_prices, log_returns
from domains.finance.stress import HISTORICAL_WINDOWS, apply_shocks, replay_windows
from shared_models.exceptions import InputError


def test_sp500_crises_replay_with_real_losses() -> None:
    returns = log_returns(load_prices(["sp500"]).prices)
    report = replay_windows(returns, value=1_000_000)
    table = report.table.set_index("scenario")
    assert len(table) == len(HISTORICAL_WINDOWS) and not report.skipped
    gfc = table.loc[HISTORICAL_WINDOWS["gfc"].title]
    assert gfc["total_return"] == pytest.approx(676.53 / 1447.16 - 1, abs=0.01)  # closes on the window's ends
    assert gfc["pnl"] == pytest.approx(gfc["total_return"] * 1_000_000, rel=1e-9)
    assert gfc["max_drawdown"] <= gfc["total_return"] + 1e-12
    assert gfc["worst_day"] < -0.08  # 15 Oct 2008: -9 %
    assert (table["worst_10d"] <= table["worst_day"] + 1e-12).all() or (table["days"] < 10).any()


def test_windows_outside_the_data_are_skipped_with_a_reason() -> None:
    returns = log_returns(load_prices(["aapl", "ibm"]).prices)  # 2000-2013
    report = replay_windows(returns)
    assert HISTORICAL_WINDOWS["2018q4"].title in report.skipped
    assert HISTORICAL_WINDOWS["gfc"].title in set(report.table["scenario"])


def test_shocks_propagate_through_betas() -> None:
    returns = log_returns(load_prices(["sp500", "nasdaq"]).prices)
    shocked = apply_shocks(returns, {"sp500": -0.2}, value=100.0).table.set_index("asset")
    assert shocked.loc["sp500", "shock"] == pytest.approx(-0.2)
    assert -0.35 < shocked.loc["nasdaq", "shock"] < -0.15 and shocked.loc["nasdaq", "source"] == "implied"
    alone = apply_shocks(returns, {"sp500": -0.2}, {"sp500": 0.5, "nasdaq": 0.5}, 100.0, propagate=False)
    assert alone.portfolio_return == pytest.approx(-0.1) and alone.pnl == pytest.approx(-10.0)
    for bad in ({}, {"gold": -0.1}, {"sp500": -1.0}):
        with pytest.raises(InputError):
            apply_shocks(returns, bad)

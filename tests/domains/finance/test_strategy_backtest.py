"""Strategy backtester and walk-forward: no look-ahead, exact costs, non-overlapping windows, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domains.finance.strategy.candidates import CONFIGS, build_config, build_strategy, min_cvar_weights
from domains.finance.strategy.portfolio_backtest import (
    BacktestSettings,
    Constraints,
    FixedWeights,
    apply_constraints,
    check_weights,
    performance_metrics,
    run_backtest,
)
from domains.finance.strategy.universe import check_prices, load_universe, strategy_returns
from domains.finance.strategy.walkforward import Fold, ScenarioSource, make_folds, walk_forward
from shared_models.exceptions import InputError
from tests.domains.finance.strategy_fixtures import prices_from, synthetic_returns

SMALL = {
    "equal_weight": {"rebalance": "weekly"},
    "min_variance": {"window": 126, "rebalance": "monthly"},
    "max_sharpe": {"window": 200, "mean_shrink": 0.3, "rebalance": "monthly"},
    "risk_parity": {"window": 126, "rebalance": "weekly"},
    "min_cvar": {"window": 126, "level": 0.95, "horizon": 5, "rebalance": "monthly"},
    "ma_trend": {"fast": 10, "slow": 60, "rebalance": "daily"},
    "momentum": {"window": 60, "skip": 5, "top": 0.5, "rebalance": "weekly"},
    "vol_target": {"window": 40, "target_vol": 0.1, "rebalance": "daily"},
}


def test_small_configs_cover_every_strategy() -> None:
    assert set(SMALL) == set(CONFIGS)


@pytest.mark.parametrize("name", list(SMALL))
def test_perturbing_prices_after_t_leaves_decisions_up_to_t_unchanged(name: str) -> None:
    returns = synthetic_returns(days=700, assets=4, seed=1)
    folds = make_folds(len(returns), train_days=250, test_days=126, start=251, stop=len(returns))
    settings = BacktestSettings(constraints=Constraints(max_weight=0.6))
    config = build_config(name, SMALL[name])
    # The generative scenario model is retrained per fold on that fold's training window; one source for
    # both runs reuses (by data fingerprint) the models of windows the perturbation did not touch.
    source = ScenarioSource("generative", paths=100, steps=30, seed=0)

    def held(frame: pd.DataFrame) -> pd.DataFrame:
        return walk_forward(frame, config, folds, settings, source).path.weights

    base = held(returns)
    t = 450  # inside the second test window
    perturbed = returns.copy()
    rng = np.random.default_rng(9)
    perturbed.iloc[t:] = perturbed.iloc[t:] * 3 + rng.normal(0, 0.02, perturbed.iloc[t:].shape)
    changed = held(perturbed)
    day = returns.index[t]
    pd.testing.assert_frame_equal(base.loc[:day], changed.loc[:day])
    assert not base.loc[day:].iloc[1:].equals(changed.loc[day:].iloc[1:]) or name == "equal_weight"


def test_costs_reduce_returns_by_turnover_times_rate_on_a_constructed_case() -> None:
    days = 60
    index = pd.bdate_range("2020-01-01", periods=days)
    # +1 % and -1 % every day: 50/50 drifts to 50.5/49.5, so a daily rebalance trades 1 % of value.
    simple = np.tile([0.01, -0.01], (days, 1))
    returns = pd.DataFrame(np.log1p(simple), index=index, columns=["up", "down"])
    strategy = FixedWeights({"up": 0.5, "down": 0.5}, ["up", "down"], rebalance="daily")
    free = run_backtest(returns, strategy, range(1, days), BacktestSettings(0.0, 0.0))
    costly = run_backtest(
        returns, strategy, range(1, days), BacktestSettings(commission_bps=10, slippage_bps=5)
    )
    rate = 15 / 1e4
    np.testing.assert_allclose(costly.gross, free.returns)
    assert costly.turnover.iloc[0] == pytest.approx(1.0)  # from cash into the portfolio
    np.testing.assert_allclose(costly.turnover.iloc[1:], 0.01)
    np.testing.assert_allclose(free.returns - costly.returns, costly.turnover * rate)
    np.testing.assert_allclose(costly.returns.iloc[1:], -0.01 * rate, atol=1e-15)  # gross is exactly zero


def test_cash_earns_the_cash_rate_and_metrics_are_consistent() -> None:
    returns = synthetic_returns(days=300, assets=2)
    strategy = build_strategy(build_config("vol_target", {"window": 20, "target_vol": 0.05})).fit(
        returns.to_numpy()
    )
    path = run_backtest(returns, strategy, range(21, 300), BacktestSettings(0, 0, cash_rate=0.05))
    invested = path.weights.sum(axis=1)
    assert (invested < 1).all() and (invested > 0).all()
    simple = np.expm1(returns.iloc[21:300].to_numpy())
    expected = (path.weights.to_numpy() * simple).sum(axis=1) + (1 - invested) * 0.05 / 252
    np.testing.assert_allclose(path.returns, expected)
    metrics = performance_metrics(path.returns, path.turnover)
    assert metrics["max_drawdown"] <= 0 and 0 <= metrics["hit_rate"] <= 1
    assert metrics["calmar"] == pytest.approx(metrics["cagr"] / abs(metrics["max_drawdown"]))


@pytest.mark.parametrize("scheme", ["rolling", "expanding"])
@pytest.mark.parametrize("embargo", [0, 5])
def test_walk_forward_windows_never_overlap_test_data(scheme: str, embargo: int) -> None:
    folds = make_folds(
        1500, train_days=300, test_days=200, start=400, stop=1500, scheme=scheme, embargo=embargo
    )
    covered: set[int] = set()
    for fold in folds:
        assert fold.train_stop + embargo <= fold.test_start
        assert fold.train_start >= 1 and len(fold.test) >= 21
        assert not covered & set(fold.test)  # test windows are disjoint
        assert not set(fold.train) & set(fold.test)
        covered |= set(fold.test)
        if scheme == "rolling":
            assert len(fold.train) == 300
    assert covered == set(range(400, 1500))  # and tile the evaluated period


def test_walk_forward_refuses_folds_that_train_on_test_days() -> None:
    returns = synthetic_returns(days=400)
    leaky = [Fold(1, 250, 200, 300)]
    with pytest.raises(InputError, match="overlaps test data"):
        walk_forward(returns, build_config("equal_weight"), leaky, BacktestSettings())


def test_constraints_cap_weights_and_turnover() -> None:
    current = np.array([0.0, 0.0, 0.0])
    capped = apply_constraints(
        np.array([0.8, 0.2, 0.0]), current, Constraints(max_weight=0.5, turnover_cap=0.4)
    )
    assert np.abs(capped - current).sum() == pytest.approx(0.4)
    assert capped.max() <= 0.5
    shorted = apply_constraints(
        np.array([0.9, -0.9, 0.2]), current, Constraints(long_only=False, max_weight=0.6)
    )
    assert np.abs(shorted).sum() <= 1 + 1e-12 and shorted[1] < 0


def test_min_cvar_lp_beats_equal_weight_and_single_assets() -> None:
    rng = np.random.default_rng(3)
    scenarios = rng.standard_t(4, size=(800, 3)) * np.array([0.01, 0.02, 0.03]) + 0.0005
    weights = min_cvar_weights(scenarios, 0.95, cap=0.8)
    assert weights.sum() == pytest.approx(1) and weights.max() <= 0.8 + 1e-9

    def cvar(w: np.ndarray) -> float:
        losses = -(scenarios @ w)
        return float(np.sort(losses)[-40:].mean())

    assert cvar(weights) <= cvar(np.full(3, 1 / 3)) + 1e-9
    assert cvar(weights) <= cvar(np.array([0.8, 0.2, 0.0])) + 1e-9


def test_staggered_listing_gets_no_weight_before_enough_history() -> None:
    universe = load_universe("stocks5")
    returns = strategy_returns(universe.prices)
    goog_first = returns["goog"].first_valid_index()
    strategy = build_strategy(build_config("min_variance", {"window": 126})).fit(
        returns.loc[:goog_first].to_numpy()[:-1]
    )
    assert strategy.weights(np.empty((0, 5)))[3] == 0.0  # goog: not listed in the training window
    assert strategy.weights(np.empty((0, 5))).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (lambda p: p[["a0"]], "at least two assets"),
        (lambda p: p.assign(a1=42.0), "constant price"),
        (
            lambda p: p.assign(a2=p["a2"].where((p.index < p.index[100]) | (p.index > p.index[110]))),
            "missing price",
        ),
        (lambda p: p.assign(a0=-p["a0"]), "positive"),
    ],
    ids=["one asset", "constant prices", "NaN run", "negative prices"],
)
def test_bad_prices_get_clear_errors(prices, message: str) -> None:  # type: ignore[no-untyped-def]
    base = prices_from(synthetic_returns(days=400))
    with pytest.raises(InputError, match=message):
        check_prices(prices(base))


def test_weights_must_sum_to_one_and_constraints_must_be_possible() -> None:
    with pytest.raises(InputError, match=r"sum to 0\.9"):
        check_weights({"a": 0.5, "b": 0.4}, ["a", "b"])
    with pytest.raises(InputError, match="non-negative"):
        FixedWeights({"a": 1.5, "b": -0.5}, ["a", "b"])
    with pytest.raises(InputError, match="impossible constraints"):
        Constraints(max_weight=0.2).check_feasible(3)
    with pytest.raises(InputError, match="max weight"):
        Constraints(max_weight=0.0)
    with pytest.raises(InputError, match="cannot add up"):
        min_cvar_weights(np.zeros((10, 3)), 0.95, cap=0.3)
    with pytest.raises(InputError, match="must be shorter"):
        build_config("ma_trend", {"fast": 100, "slow": 50})
    with pytest.raises(InputError, match="between 21 and 252"):
        build_config("momentum", {"window": 5})

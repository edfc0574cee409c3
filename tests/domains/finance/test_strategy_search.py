"""Strategy search: Optuna over types and parameters, holdout testing, deflated Sharpe, stopping."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from domains.finance.strategy.portfolio_backtest import BacktestSettings, Constraints
from domains.finance.strategy.search import Goal, SearchSpec, deflated_sharpe_ratio, search_strategies
from shared_models.exceptions import InputError
from shared_models.progress import Progress
from tests.domains.finance.strategy_fixtures import synthetic_returns

FAST = ("equal_weight", "min_variance", "risk_parity", "ma_trend", "momentum", "vol_target", "min_cvar")


def _spec(**changes: object) -> SearchSpec:
    base = {
        "trials": 10,
        "strategies": FAST,
        "train_days": 250,
        "test_days": 126,
        "holdout": 0.35,
        "top": 3,
        "scenario_kind": "garch",
        "scenario_paths": 200,
        "seed": 0,
    }
    return SearchSpec(**{**base, **changes})  # type: ignore[arg-type]


def test_deflated_sharpe_matches_the_papers_example() -> None:
    # Bailey & Lopez de Prado (2014): annual SR 2.5 over 1250 days, skew -3, kurtosis 10, N = 100 trials
    # whose annual Sharpe ratios vary by 0.5; SR0 = 0.1132 a day and DSR = 0.9004.
    trials = np.random.default_rng(0).standard_normal(100)
    trials = (trials - trials.mean()) / trials.std(ddof=1) * np.sqrt(0.5 / 250)
    result = deflated_sharpe_ratio(2.5 / np.sqrt(250), trials, 1250, skew=-3, kurtosis=10)
    assert result["sr0"] == pytest.approx(0.1132, abs=2e-4)
    assert result["dsr"] == pytest.approx(0.9004, abs=2e-3)
    assert deflated_sharpe_ratio(0.05, [0.05], 500)["sr0"] == 0.0  # one trial: the probabilistic Sharpe


def test_search_ranks_configs_and_tests_them_on_an_unseen_holdout() -> None:
    returns = synthetic_returns(days=1000, assets=4, seed=2)
    benchmark = pd.Series(np.expm1(returns["a0"].to_numpy()), index=returns.index, name="buy-and-hold a0")
    messages: list[str] = []
    result = search_strategies(returns, _spec(), benchmark, on_progress=lambda p: messages.append(p.message))
    assert len(result.trials) == 10 and not result.stopped
    assert len(messages) == 20 and messages[0] == "trial 1 of 10: walk-forward validation"
    ranking = result.ranking
    assert ranking["type"].iloc[-1] == "benchmark" and "equal_weight" in set(ranking["type"])
    searched = ranking.loc[ranking["role"] == "searched", "validation_score"].tolist()
    assert len(searched) == 3 and searched == sorted(searched, reverse=True)
    assert result.periods["holdout_start"] > result.periods["validation_end"]
    holdout_days = result.holdout[result.chosen_label].path.returns.index
    validation_days = result.validation.path.returns.index
    assert holdout_days.min() > validation_days.max()  # the search never saw the holdout
    assert 0.0 <= result.deflated_sharpe["dsr"] <= 1.0 and result.deflated_sharpe["trials"] == 10
    assert np.isfinite(ranking["holdout_sharpe"]).all()


def test_goal_scores_respect_targets_and_budgets() -> None:
    metrics = {"sharpe": 0.8, "cagr": 0.06, "volatility": 0.15}
    assert Goal("sharpe").score(metrics) == 0.8
    assert Goal("return_target", 0.05).score(metrics) == pytest.approx(-0.15)
    assert Goal("return_target", 0.08).score(metrics) < Goal("return_target", 0.05).score(metrics)
    assert Goal("risk_budget", 0.2).score(metrics) == pytest.approx(0.06)
    assert Goal("risk_budget", 0.1).score(metrics) < 0
    with pytest.raises(InputError, match="return target"):
        Goal("return_target", 3.0)


def test_search_stops_cleanly_with_the_trials_so_far() -> None:
    returns = synthetic_returns(days=800, assets=3, seed=4)
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        if progress.step >= 3:
            stop.set()

    result = search_strategies(
        returns, _spec(trials=50, strategies=("equal_weight", "momentum")), None, on_progress, stop
    )
    assert result.stopped and len(result.trials) == 3


def test_search_refuses_bad_universes_and_impossible_constraints() -> None:
    returns = synthetic_returns(days=800, assets=3)
    with pytest.raises(InputError, match="at least two assets"):
        search_strategies(returns[["a0"]], _spec())
    with pytest.raises(InputError, match="impossible constraints"):
        search_strategies(returns, _spec(settings=BacktestSettings(constraints=Constraints(max_weight=0.25))))
    with pytest.raises(InputError, match="too little for validation"):
        search_strategies(returns.iloc[:300], _spec())
    gappy = returns.copy()
    gappy.iloc[400:405, 1] = np.nan
    with pytest.raises(InputError, match="missing values"):
        search_strategies(gappy, _spec())
    with pytest.raises(InputError, match="unknown strategies"):
        _spec(strategies=("astrology",))

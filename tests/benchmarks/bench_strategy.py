"""Strategy Studio: walk-forward strategy search on the five bundled stocks and on S&P 500 + NASDAQ + WTI.

For each universe: ``BENCH_STRATEGY_TRIALS`` Optuna trials (default 200) over all eight strategy types,
rolling 504-day training and 252-day test windows, 5 + 5 bps costs, the last 30 % of days held out.
Figures: holdout Sharpe and max drawdown of the chosen strategy beside equal weight and buy-and-hold
S&P 500, its deflated Sharpe ratio, search time, and backtest speed (years of daily data per second, one
equal-weight and one trend-rule backtest over the whole history). The min-CVaR candidate draws its
scenarios from the generative path model (``BENCH_STRATEGY_SCENARIO_STEPS`` training steps, default 600).
"""

from __future__ import annotations

import os
import sys
import time

from domains.finance.strategy.candidates import build_config, build_strategy
from domains.finance.strategy.portfolio_backtest import BacktestSettings, run_backtest
from domains.finance.strategy.search import SearchSpec, search_strategies
from domains.finance.strategy.universe import benchmark_returns, load_universe, strategy_returns
from shared_models.progress import Progress
from tests.benchmarks import Figure

TRIALS = int(os.environ.get("BENCH_STRATEGY_TRIALS", 200))
SCENARIO_STEPS = int(os.environ.get("BENCH_STRATEGY_SCENARIO_STEPS", 600))
NAME = "strategy"


def _backtest_speed(returns) -> float:  # type: ignore[no-untyped-def]
    days = range(1, len(returns))
    start = time.perf_counter()
    for name, params in (
        ("equal_weight", {"rebalance": "daily"}),
        ("ma_trend", {"fast": 20, "slow": 100, "rebalance": "daily"}),
    ):
        strategy = build_strategy(build_config(name, params)).fit(returns.to_numpy())
        run_backtest(returns, strategy, days, BacktestSettings())
    seconds = time.perf_counter() - start
    return 2 * len(days) / 252 / seconds


def _report(progress: Progress) -> None:
    if progress.step % 10 == 0:
        print(
            f"  {progress.step}/{progress.total} trials, {progress.elapsed_s:.0f}s",
            file=sys.stderr,
            flush=True,
        )


def _universe(name: str, label: str) -> list[Figure]:
    universe = load_universe(name)
    returns = strategy_returns(universe.prices)
    spec = SearchSpec(trials=TRIALS, scenario_steps=SCENARIO_STEPS)
    result = search_strategies(returns, spec, benchmark_returns(universe), on_progress=_report)
    chosen = result.ranking.iloc[0]
    equal = result.ranking[result.ranking["type"] == "equal_weight"].iloc[0]
    bench = result.ranking[result.ranking["type"] == "benchmark"].iloc[0]
    period = f"holdout {result.periods['holdout_start']}..{result.periods['holdout_end']}"
    return [
        Figure(
            NAME,
            f"{label}: chosen strategy holdout Sharpe",
            float(chosen["holdout_sharpe"]),
            "",
            f"{result.chosen_label}; {period}",
        ),
        Figure(
            NAME,
            f"{label}: chosen strategy holdout max drawdown",
            100 * float(chosen["holdout_max_drawdown"]),
            "%",
            period,
        ),
        Figure(NAME, f"{label}: equal weight holdout Sharpe", float(equal["holdout_sharpe"]), "", period),
        Figure(
            NAME,
            f"{label}: equal weight holdout max drawdown",
            100 * float(equal["holdout_max_drawdown"]),
            "%",
            period,
        ),
        Figure(
            NAME, f"{label}: buy-and-hold S&P 500 holdout Sharpe", float(bench["holdout_sharpe"]), "", period
        ),
        Figure(
            NAME,
            f"{label}: buy-and-hold S&P 500 holdout max drawdown",
            100 * float(bench["holdout_max_drawdown"]),
            "%",
            period,
        ),
        Figure(
            NAME,
            f"{label}: deflated Sharpe ratio of the chosen strategy",
            result.deflated_sharpe["dsr"],
            "",
            f"{int(result.deflated_sharpe['trials'])} trials, validation Sharpe "
            f"{float(chosen['validation_sharpe']):.2f}",
        ),
        Figure(
            NAME,
            f"{label}: search time",
            result.seconds,
            "s",
            f"{len(result.trials)} trials, shared 2-core machine; scenario model {SCENARIO_STEPS} steps",
        ),
        Figure(
            NAME,
            f"{label}: backtest speed",
            _backtest_speed(returns),
            "years/s",
            "daily rebalancing, equal weight and MA trend, 5 + 5 bps",
        ),
    ]


def run() -> list[Figure]:
    return [*_universe("stocks5", "5 stocks 2000-2013"), *_universe("indices", "S&P 500 + NASDAQ + WTI")]

"""Investment strategy generation: candidates, backtests, walk-forward search, deflated Sharpe, memo."""

from __future__ import annotations

from domains.finance.strategy.candidates import (
    CONFIGS,
    STRATEGY_LABELS,
    StrategyConfig,
    build_config,
    build_strategy,
    describe,
    min_cvar_weights,
)
from domains.finance.strategy.portfolio_backtest import (
    BacktestPath,
    BacktestSettings,
    Constraints,
    FixedWeights,
    check_weights,
    drawdown,
    performance_metrics,
    run_backtest,
)
from domains.finance.strategy.search import (
    Goal,
    SearchResult,
    SearchSpec,
    deflated_sharpe_ratio,
    search_strategies,
)
from domains.finance.strategy.universe import (
    UNIVERSES,
    Universe,
    benchmark_returns,
    load_universe,
    strategy_returns,
    universe_from_prices,
)
from domains.finance.strategy.walkforward import Fold, ScenarioSource, make_folds, walk_forward

__all__ = [
    "CONFIGS",
    "STRATEGY_LABELS",
    "UNIVERSES",
    "BacktestPath",
    "BacktestSettings",
    "Constraints",
    "FixedWeights",
    "Fold",
    "Goal",
    "ScenarioSource",
    "SearchResult",
    "SearchSpec",
    "StrategyConfig",
    "Universe",
    "benchmark_returns",
    "build_config",
    "build_strategy",
    "check_weights",
    "deflated_sharpe_ratio",
    "describe",
    "drawdown",
    "load_universe",
    "make_folds",
    "min_cvar_weights",
    "performance_metrics",
    "run_backtest",
    "search_strategies",
    "strategy_returns",
    "universe_from_prices",
    "walk_forward",
]

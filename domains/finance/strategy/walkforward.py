"""Walk-forward validation: fit on a training window, trade the next test window, move on.

Test windows tile the evaluated period without overlapping; each fold's training window ends before its
test window starts (after an optional embargo gap), either a fixed number of days long (``rolling``) or
reaching back to the first day (``expanding``). A strategy is refitted at the start of every fold on
that fold's training window only, and its decisions inside the test window read the days before each
decision only, so the concatenated test returns are out of sample.

Scenarios for the minimum-CVaR allocation come from `ScenarioSource`: the risk capability's generative
path model (`domains.finance.scenarios`) trained on the training window, or its GARCH-t baseline.

Example:
    >>> folds = make_folds(len(returns), train_days=504, test_days=252, start=504, stop=len(returns))
    >>> result = walk_forward(returns, config, folds, BacktestSettings())
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from domains.finance.scenarios import GarchBaseline, ScenarioSpec, get_scenario_model, train_scenario_model
from domains.finance.strategy.candidates import FitContext, StrategyConfig, build_strategy
from domains.finance.strategy.portfolio_backtest import BacktestPath, BacktestSettings, run_backtest
from shared_models.exceptions import InputError

__all__ = ["Fold", "ScenarioSource", "WalkForwardResult", "make_folds", "walk_forward"]

Scheme = Literal["rolling", "expanding"]


@dataclass(frozen=True)
class Fold:
    """Half-open day-index ranges: fit on ``[train_start, train_stop)``, trade ``[test_start, test_stop)``."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int

    @property
    def train(self) -> range:
        return range(self.train_start, self.train_stop)

    @property
    def test(self) -> range:
        return range(self.test_start, self.test_stop)


def make_folds(
    days: int,
    train_days: int,
    test_days: int,
    start: int,
    stop: int,
    scheme: Scheme = "rolling",
    embargo: int = 0,
) -> list[Fold]:
    """Folds whose test windows tile ``[start, stop)`` (the last one may be shorter, at least 21 days).

    Raises:
        InputError: Windows that do not fit in the data.
    """
    if scheme not in ("rolling", "expanding"):
        raise InputError(f"unknown walk-forward scheme {scheme!r}; use 'rolling' or 'expanding'")
    if train_days < 20 or test_days < 21 or embargo < 0:
        raise InputError("training windows need at least 20 days, test windows at least 21, the embargo >= 0")
    if start - embargo - train_days < 1 or stop > days or stop - start < 21:
        raise InputError(
            f"{days} days cannot hold a {train_days}-day training window, a {embargo}-day embargo and test "
            f"days from {start} to {stop}; use a longer history or shorter windows"
        )
    folds, test_start = [], start
    while test_start < stop:
        test_stop = min(test_start + test_days, stop)
        if stop - test_stop < 21:  # a stub too short to measure joins this window
            test_stop = stop
        train_stop = test_start - embargo
        train_start = 1 if scheme == "expanding" else train_stop - train_days
        folds.append(Fold(train_start, train_stop, test_start, test_stop))
        test_start = test_stop
    return folds


@dataclass
class ScenarioSource:
    """Generated return scenarios for min CVaR, from data before each fold's test window only.

    Attributes:
        kind: ``generative`` (the path VAE of the risk capability) or ``garch`` (CCC GARCH(1,1)-t).
        paths: Scenarios per fit.
        steps, seconds: Training budget of the generative model (the first reached wins).
        store_root: Where trained models are cached (None: train in memory).
        seed: Randomness of training and sampling.
        stop: Ends a training early (the partial model is used).
    """

    kind: Literal["generative", "garch"] = "generative"
    paths: int = 500
    steps: int | None = 600
    seconds: float | None = None
    store_root: Path | None = None
    seed: int = 0
    stop: threading.Event | None = None
    notes: list[str] = field(default_factory=list)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __call__(self, train: pd.DataFrame, days: int) -> np.ndarray:
        """(paths, days, assets) log returns continuing ``train`` (complete columns only)."""
        digest = hashlib.sha256(np.ascontiguousarray(train.to_numpy()).tobytes())
        digest.update(f"{list(train.columns)}|{len(train)}|{days}|{self.kind}".encode())
        key = digest.hexdigest()
        if key not in self._cache:
            self._cache[key] = self._generate(train, days)
        return self._cache[key]

    def _generate(self, train: pd.DataFrame, days: int) -> np.ndarray:
        history = train.to_numpy(dtype=float)
        if self.kind == "garch":
            return GarchBaseline.fit(train).generate(history, days, self.paths, seed=self.seed)
        spec = ScenarioSpec(steps=self.steps, seconds=self.seconds, seed=self.seed, hidden=64)
        if self.store_root is not None:
            trained = get_scenario_model(train, spec, self.store_root, stop=self.stop)
        else:
            trained = train_scenario_model(train, spec, stop=self.stop)
        return trained.model.generate(history, days, self.paths, seed=self.seed)


@dataclass
class WalkForwardResult:
    """Out-of-sample path of one config over its folds.

    Attributes:
        config: The strategy config.
        folds: The folds traded.
        path: Concatenated test-window outcome (net and gross returns, weights, turnover, costs).
        decisions: Target weights set at each rebalancing day, one row per decision.
    """

    config: StrategyConfig
    folds: list[Fold]
    path: BacktestPath


def _context(
    returns: pd.DataFrame, fold: Fold, settings: BacktestSettings, source: ScenarioSource | None
) -> FitContext:
    if source is None:
        return FitContext(settings.constraints.max_weight, settings.constraints.long_only)

    def scenarios(window: np.ndarray, mask: np.ndarray, days: int) -> np.ndarray:
        # The generator learns from the whole training window of the listed assets, not just the lookback.
        train = returns.iloc[fold.train_start : fold.train_stop, np.flatnonzero(mask)].dropna()
        return source(train, days)

    return FitContext(settings.constraints.max_weight, settings.constraints.long_only, scenarios)


def walk_forward(
    returns: pd.DataFrame,
    config: StrategyConfig,
    folds: list[Fold],
    settings: BacktestSettings,
    scenarios: ScenarioSource | None = None,
    initial: np.ndarray | None = None,
) -> WalkForwardResult:
    """Refit the strategy on each fold's training window and trade its test window; holdings carry over.

    Raises:
        InputError: Folds that overlap or whose training reaches into their test window.
    """
    paths: list[BacktestPath] = []
    holdings = initial
    previous_stop = -1
    for fold in folds:
        if fold.train_stop > fold.test_start or fold.test_start < previous_stop:
            raise InputError(f"fold {fold} trains on or overlaps test data")
        previous_stop = fold.test_stop
        train = returns.iloc[fold.train_start : fold.train_stop].to_numpy(dtype=float)
        strategy = build_strategy(config).fit(train, _context(returns, fold, settings, scenarios))
        path = run_backtest(returns, strategy, fold.test, settings, holdings)
        # Holdings drift overnight into the next fold: start it from the last day's drifted weights.
        last = path.weights.iloc[-1].to_numpy() * (
            1 + np.nan_to_num(np.expm1(returns.iloc[fold.test_stop - 1].to_numpy()))
        )
        holdings = last / (1 + path.gross.iloc[-1])
        paths.append(path)
    return WalkForwardResult(config, folds, BacktestPath.concat(paths))

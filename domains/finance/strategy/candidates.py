"""Candidate strategies: allocations and trading rules, each a typed config with its parameter ranges.

Every strategy answers one question, `Strategy.weights(history)`: the target weights for the next
day, given the daily log returns strictly before it. Allocations (equal weight, minimum variance, maximum
Sharpe, risk parity, minimum CVaR) estimate their weights in `Strategy.fit` on a training window and hold
them; rules (moving-average trend, cross-sectional momentum, volatility targeting) read the recent
history at each rebalancing. Weights are long-only fractions of value; what they leave is cash.

Assets without a full ``lookback`` of history (not listed yet) get no weight.

Example:
    >>> config = build_config("min_variance", {"lookback": 252, "rebalance": "monthly"})
    >>> strategy = build_strategy(config).fit(train_returns)
    >>> strategy.weights(history)  # (assets,)
"""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal

import numpy as np
from scipy import optimize
from sklearn.covariance import LedoitWolf

from shared_models.exceptions import InputError

__all__ = [
    "CONFIGS",
    "REBALANCE_DAYS",
    "STRATEGY_LABELS",
    "FitContext",
    "Param",
    "Rebalance",
    "Strategy",
    "StrategyConfig",
    "build_config",
    "build_strategy",
    "describe",
    "min_cvar_weights",
]

Rebalance = Literal["daily", "weekly", "monthly", "quarterly"]
REBALANCE_DAYS: dict[str, int] = {"daily": 1, "weekly": 5, "monthly": 21, "quarterly": 63}
TRADING_DAYS = 252


@dataclass(frozen=True)
class Param:
    """A searchable parameter: an integer or float range, or a list of choices."""

    low: float | None = None
    high: float | None = None
    kind: Literal["int", "float", "choice"] = "int"
    choices: tuple[Any, ...] = ()
    log: bool = False

    def check(self, name: str, value: Any) -> None:
        if self.kind == "choice":
            if value not in self.choices:
                raise InputError(f"{name} must be one of {list(self.choices)}, got {value!r}")
            return
        assert self.low is not None and self.high is not None
        if not isinstance(value, int | float) or not self.low <= value <= self.high:
            raise InputError(f"{name} must be between {self.low:g} and {self.high:g}, got {value!r}")


REBALANCE_PARAM = Param(kind="choice", choices=tuple(REBALANCE_DAYS))


@dataclass(frozen=True)
class StrategyConfig:
    """Base of every strategy config: its name, rebalancing schedule and parameter ranges."""

    name: ClassVar[str] = ""
    SPACE: ClassVar[dict[str, Param]] = {}
    rebalance: Rebalance = "monthly"

    def __post_init__(self) -> None:
        REBALANCE_PARAM.check("rebalance", self.rebalance)
        for key, param in self.SPACE.items():
            param.check(f"{self.name}.{key}", getattr(self, key))

    @property
    def lookback(self) -> int:
        """Days of history a decision needs."""
        return int(getattr(self, "window", 0) or 1)

    def params(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EqualWeightConfig(StrategyConfig):
    name: ClassVar[str] = "equal_weight"
    SPACE: ClassVar[dict[str, Param]] = {}


@dataclass(frozen=True)
class MinVarianceConfig(StrategyConfig):
    name: ClassVar[str] = "min_variance"
    SPACE: ClassVar[dict[str, Param]] = {"window": Param(63, 756)}
    window: int = 252


@dataclass(frozen=True)
class MaxSharpeConfig(StrategyConfig):
    """``mean_shrink`` pulls each asset's mean return towards the cross-sectional mean (1 = all equal)."""

    name: ClassVar[str] = "max_sharpe"
    SPACE: ClassVar[dict[str, Param]] = {"window": Param(126, 756), "mean_shrink": Param(0.0, 1.0, "float")}
    window: int = 504
    mean_shrink: float = 0.5


@dataclass(frozen=True)
class RiskParityConfig(StrategyConfig):
    name: ClassVar[str] = "risk_parity"
    SPACE: ClassVar[dict[str, Param]] = {"window": Param(63, 756)}
    window: int = 252


@dataclass(frozen=True)
class MinCvarConfig(StrategyConfig):
    """Minimum CVaR at ``level`` of ``horizon``-day returns over generated scenarios."""

    name: ClassVar[str] = "min_cvar"
    SPACE: ClassVar[dict[str, Param]] = {
        "window": Param(63, 756),
        "level": Param(0.9, 0.99, "float"),
        "horizon": Param(kind="choice", choices=(1, 5, 10, 20)),
    }
    window: int = 252
    level: float = 0.95
    horizon: int = 5


@dataclass(frozen=True)
class TrendConfig(StrategyConfig):
    """Hold, in equal parts, each asset whose ``fast``-day moving average is above its ``slow``-day one."""

    name: ClassVar[str] = "ma_trend"
    SPACE: ClassVar[dict[str, Param]] = {
        "slow": Param(20, 300),
        "fast": Param(5, 100),
    }  # slow first: fast < slow
    fast: int = 50
    slow: int = 200

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fast >= self.slow:
            raise InputError(f"ma_trend.fast ({self.fast}) must be shorter than ma_trend.slow ({self.slow})")

    @property
    def lookback(self) -> int:
        return self.slow


@dataclass(frozen=True)
class MomentumConfig(StrategyConfig):
    """Hold the ``top`` share of assets by return over ``window`` days, skipping the last ``skip`` days."""

    name: ClassVar[str] = "momentum"
    SPACE: ClassVar[dict[str, Param]] = {
        "window": Param(21, 252),
        "skip": Param(0, 21),
        "top": Param(0.2, 0.7, "float"),
    }
    window: int = 126
    skip: int = 5
    top: float = 0.5

    @property
    def lookback(self) -> int:
        return self.window + self.skip


@dataclass(frozen=True)
class VolTargetConfig(StrategyConfig):
    """Equal weight scaled so its recent volatility matches ``target_vol`` (never above fully invested)."""

    name: ClassVar[str] = "vol_target"
    SPACE: ClassVar[dict[str, Param]] = {"window": Param(20, 126), "target_vol": Param(0.05, 0.3, "float")}
    window: int = 63
    target_vol: float = 0.12


CONFIGS: dict[str, type[StrategyConfig]] = {
    c.name: c
    for c in (
        EqualWeightConfig,
        MinVarianceConfig,
        MaxSharpeConfig,
        RiskParityConfig,
        MinCvarConfig,
        TrendConfig,
        MomentumConfig,
        VolTargetConfig,
    )
}
STRATEGY_LABELS: dict[str, str] = {
    "equal_weight": "Equal weight",
    "min_variance": "Minimum variance (Ledoit-Wolf)",
    "max_sharpe": "Maximum Sharpe (Ledoit-Wolf)",
    "risk_parity": "Risk parity",
    "min_cvar": "Minimum CVaR (generated scenarios)",
    "ma_trend": "Moving-average trend",
    "momentum": "Cross-sectional momentum",
    "vol_target": "Volatility targeting",
}


def build_config(name: str, params: Mapping[str, Any] | None = None) -> StrategyConfig:
    """A validated config by strategy name.

    Raises:
        InputError: Unknown strategy, unknown parameter, or a value outside its range.
    """
    if name not in CONFIGS:
        raise InputError(f"unknown strategy {name!r}; available: {sorted(CONFIGS)}")
    cls = CONFIGS[name]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(params or {}) - known)
    if unknown:
        raise InputError(f"{name} has no parameter(s) {unknown}; it takes {sorted(known)}")
    return cls(**dict(params or {}))


def describe(config: StrategyConfig) -> str:
    """A short label with the parameters, e.g. ``Moving-average trend (fast 20, slow 120, weekly)``."""
    parts = [
        f"{k.replace('_', ' ')} {v:.3g}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
        for k, v in config.params().items()
        if k != "rebalance"
    ]
    return f"{STRATEGY_LABELS[config.name]} ({', '.join([*parts, config.rebalance])})"


# -- estimation helpers ----------------------------------------------------------------------------


def _available(history: np.ndarray, lookback: int) -> np.ndarray:
    """Assets with a complete ``lookback`` of returns at the end of the history."""
    if len(history) < lookback:
        return np.zeros(history.shape[1], dtype=bool)
    return np.isfinite(history[-lookback:]).all(axis=0)


def _spread(sub: np.ndarray, mask: np.ndarray) -> np.ndarray:
    full = np.zeros(len(mask))
    full[mask] = sub
    return full


def _shrunk_covariance(window: np.ndarray) -> np.ndarray:
    return LedoitWolf().fit(window).covariance_ * TRADING_DAYS


def _solve_simplex(objective: Callable[[np.ndarray], float], n: int, cap: float) -> np.ndarray:
    """Minimise over long-only, fully invested weights capped at ``cap`` (SLSQP)."""
    start = np.full(n, 1.0 / n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = optimize.minimize(
            objective,
            start,
            method="SLSQP",
            bounds=[(0.0, cap)] * n,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
            options={"maxiter": 200},
        )
    weights = np.clip(result.x if result.success else start, 0.0, cap)
    return weights / weights.sum()


def min_cvar_weights(scenarios: np.ndarray, level: float, cap: float = 1.0) -> np.ndarray:
    """Long-only, fully invested weights minimising CVaR of the scenario returns (Rockafellar-Uryasev LP).

    Minimises ``a + sum(u) / ((1 - level) S)`` with ``u_s >= -r_s . w - a``, ``u_s >= 0``,
    ``sum(w) = 1``, ``0 <= w <= cap`` over S scenarios of simple returns ``r_s`` (S, A).

    Raises:
        InputError: The constraints leave no feasible portfolio.
    """
    returns = np.asarray(scenarios, dtype=float)
    count, assets = returns.shape
    if cap * assets < 1 - 1e-9:
        raise InputError(f"a max weight of {cap:.0%} over {assets} assets cannot add up to 100%")
    # variables: w (A), a (1), u (S)
    cost = np.concatenate([np.zeros(assets), [1.0], np.full(count, 1.0 / ((1 - level) * count))])
    upper = np.hstack([-returns, -np.ones((count, 1)), -np.eye(count)])  # -r.w - a - u <= 0
    equality = np.concatenate([np.ones(assets), [0.0], np.zeros(count)])[None]
    bounds = [(0.0, cap)] * assets + [(None, None)] + [(0.0, None)] * count
    result = optimize.linprog(
        cost, A_ub=upper, b_ub=np.zeros(count), A_eq=equality, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if not result.success:
        raise InputError(f"the CVaR problem has no solution under these constraints ({result.message})")
    weights = np.clip(result.x[:assets], 0.0, cap)
    return weights / weights.sum()


@dataclass
class FitContext:
    """What fitting may use besides the training returns.

    Attributes:
        max_weight: Cap per asset, respected by the optimisers.
        long_only: When False, the trend and momentum rules short what they would not hold.
        scenarios: ``(train_returns, assets_mask, days) -> (paths, days, assets)`` log-return scenarios
            generated from the training window only (min CVaR); None disables min CVaR.
    """

    max_weight: float = 1.0
    long_only: bool = True
    scenarios: Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None = None


# -- strategies ------------------------------------------------------------------------------------


class Strategy(abc.ABC):
    """A config plus whatever it estimated; `weights` must use only the history it is given."""

    def __init__(self, config: StrategyConfig) -> None:
        self.config = config
        self.context_ = FitContext()

    def fit(self, train: np.ndarray, context: FitContext | None = None) -> Strategy:
        """Estimate from training returns (T, A), NaN before an asset lists; returns self."""
        self.context_ = context or FitContext()
        return self

    @abc.abstractmethod
    def weights(self, history: np.ndarray) -> np.ndarray:
        """Target weights (A,) for the day after ``history`` (T, A): long-only, summing to at most 1."""


class _Allocation(Strategy):
    """Estimates weights once from the end of the training window and holds them."""

    def fit(self, train: np.ndarray, context: FitContext | None = None) -> Strategy:
        super().fit(train, context)
        lookback = self.config.lookback
        mask = _available(train, lookback)
        if mask.sum() == 0:
            self.weights_ = np.zeros(train.shape[1])
            return self
        window = train[-lookback:, mask]
        cap = max(self.context_.max_weight, 1.0 / mask.sum())
        self.weights_ = _spread(self._allocate(window, cap, mask), mask)
        return self

    @abc.abstractmethod
    def _allocate(self, window: np.ndarray, cap: float, mask: np.ndarray) -> np.ndarray: ...

    def weights(self, history: np.ndarray) -> np.ndarray:
        return self.weights_


class EqualWeight(Strategy):
    def weights(self, history: np.ndarray) -> np.ndarray:
        mask = _available(history, 1)
        return mask / max(mask.sum(), 1)


class MinVariance(_Allocation):
    def _allocate(self, window: np.ndarray, cap: float, mask: np.ndarray) -> np.ndarray:
        cov = _shrunk_covariance(window)
        return _solve_simplex(lambda w: float(w @ cov @ w), len(cov), cap)


class MaxSharpe(_Allocation):
    def _allocate(self, window: np.ndarray, cap: float, mask: np.ndarray) -> np.ndarray:
        cov = _shrunk_covariance(window)
        mean = window.mean(axis=0) * TRADING_DAYS
        shrink = self.config.mean_shrink  # type: ignore[attr-defined]
        mean = (1 - shrink) * mean + shrink * mean.mean()
        return _solve_simplex(
            lambda w: -float(w @ mean) / math.sqrt(float(w @ cov @ w) + 1e-12), len(cov), cap
        )


class RiskParity(_Allocation):
    def _allocate(self, window: np.ndarray, cap: float, mask: np.ndarray) -> np.ndarray:
        cov = _shrunk_covariance(window)
        n = len(cov)
        # Equal risk contributions solve min 0.5 y'Cy - mean(log y), y > 0 (convex); w = y / sum(y).
        result = optimize.minimize(
            lambda y: 0.5 * y @ cov @ y - np.log(y).mean(),
            np.full(n, 1.0 / n),
            jac=lambda y: cov @ y - 1.0 / (n * y),
            method="L-BFGS-B",
            bounds=[(1e-8, None)] * n,
        )
        weights = result.x / result.x.sum()
        return _cap_weights(weights, cap)


class MinCvar(_Allocation):
    def _allocate(self, window: np.ndarray, cap: float, mask: np.ndarray) -> np.ndarray:
        if self.context_.scenarios is None:
            raise InputError("min CVaR needs a scenario generator")
        config: MinCvarConfig = self.config  # type: ignore[assignment]
        paths = self.context_.scenarios(window, mask, config.horizon)  # (P, D, A) log returns
        horizon_returns = np.expm1(paths.sum(axis=1))
        return min_cvar_weights(horizon_returns, config.level, cap)


def _cap_weights(weights: np.ndarray, cap: float) -> np.ndarray:
    """Cap weights, handing the excess to the uncapped assets in proportion (stays fully invested)."""
    w = weights.copy()
    for _ in range(len(w)):
        over = w > cap + 1e-12
        if not over.any():
            break
        excess = (w[over] - cap).sum()
        w[over] = cap
        free = ~over & (w < cap)
        if not free.any():
            break
        w[free] += excess * w[free] / w[free].sum()
    return w


class MovingAverageTrend(Strategy):
    def weights(self, history: np.ndarray) -> np.ndarray:
        config: TrendConfig = self.config  # type: ignore[assignment]
        mask = _available(history, config.slow)
        if not mask.any():
            return np.zeros(history.shape[1])
        log_prices = np.cumsum(history[-config.slow :, mask], axis=0)  # relative log prices
        prices = np.exp(log_prices - log_prices[-1])
        trending = prices[-config.fast :].mean(axis=0) > prices.mean(axis=0)
        signal = trending.astype(float) if self.context_.long_only else np.where(trending, 1.0, -1.0)
        return _spread(signal / mask.sum(), mask)


class Momentum(Strategy):
    def weights(self, history: np.ndarray) -> np.ndarray:
        config: MomentumConfig = self.config  # type: ignore[assignment]
        mask = _available(history, config.lookback)
        if not mask.any():
            return np.zeros(history.shape[1])
        end = len(history) - config.skip
        past = history[end - config.window : end, mask].sum(axis=0)
        keep = max(1, round(config.top * mask.sum()))
        order = np.argsort(-past, kind="stable")
        chosen = np.zeros(mask.sum())
        if self.context_.long_only or mask.sum() < 2 * keep:
            chosen[order[:keep]] = 1.0 / keep
        else:  # long the winners, short as many losers, half the book each
            chosen[order[:keep]] = 0.5 / keep
            chosen[order[-keep:]] = -0.5 / keep
        return _spread(chosen, mask)


class VolTarget(Strategy):
    def weights(self, history: np.ndarray) -> np.ndarray:
        config: VolTargetConfig = self.config  # type: ignore[assignment]
        mask = _available(history, config.window)
        if not mask.any():
            return np.zeros(history.shape[1])
        base = np.full(mask.sum(), 1.0 / mask.sum())
        portfolio = np.log1p(np.expm1(history[-config.window :, mask]) @ base)
        vol = portfolio.std(ddof=1) * math.sqrt(TRADING_DAYS)
        scale = min(1.0, config.target_vol / vol) if vol > 0 else 1.0
        return _spread(base * scale, mask)


STRATEGIES: dict[str, type[Strategy]] = {
    "equal_weight": EqualWeight,
    "min_variance": MinVariance,
    "max_sharpe": MaxSharpe,
    "risk_parity": RiskParity,
    "min_cvar": MinCvar,
    "ma_trend": MovingAverageTrend,
    "momentum": Momentum,
    "vol_target": VolTarget,
}


def build_strategy(config: StrategyConfig) -> Strategy:
    """The strategy a config describes (unfitted)."""
    return STRATEGIES[config.name](config)

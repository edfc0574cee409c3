"""Value at Risk and Expected Shortfall of a portfolio, by six models.

Conventions: returns are daily log returns; a loss is a negative return; VaR and ES are reported as
positive loss fractions of the portfolio's log value (0.021 means a 2.1 % loss). ``level`` is the
confidence (0.99), so the tail probability is ``1 - level``.

Models (registry `RISK_MODELS`, built by `build_model`):

* ``historical``: empirical quantile and tail mean of the window's returns.
* ``normal``: Gaussian with the window's mean and standard deviation.
* ``student_t``: Student-t by maximum likelihood (degrees of freedom re-estimated at each refit).
* ``ewma``: RiskMetrics exponentially weighted variance (lambda 0.94), zero mean, Gaussian quantile.
* ``fhs_garch``: GARCH(1,1) with Student-t innovations fitted by `arch`, then filtered historical
  simulation: the volatility forecast times the empirical quantile of standardised residuals.
* ``generative``: Monte Carlo over paths drawn from a trained `ScenarioModel` (see `scenarios`).

Multi-day horizons: the first four scale by the square-root-of-time rule (as Basel permits); FHS and
the generative model simulate whole paths, so volatility clustering shapes the 10-day figure.

Example:
    >>> model = build_model("fhs_garch").fit(window_returns)
    >>> var, es = model.var_es(level=0.99, horizon=10)
"""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, signal, stats

from shared_models.exceptions import InputError, ModelError

__all__ = [
    "MODEL_LABELS",
    "RISK_MODELS",
    "EWMAModel",
    "FilteredHistoricalGARCH",
    "HistoricalModel",
    "NormalModel",
    "RiskEstimate",
    "RiskModel",
    "StudentTModel",
    "build_model",
    "check_level",
    "risk_table",
]

MIN_WINDOW = 50


def check_level(level: float) -> float:
    """A confidence level strictly between 0.5 and 1 (0.95, 0.99)."""
    if not 0.5 < float(level) < 1.0:
        raise InputError(f"the confidence level must be between 0.5 and 1 (e.g. 0.99), got {level}")
    return float(level)


def _check_horizon(horizon: int) -> int:
    if not 1 <= int(horizon) <= 250:
        raise InputError(f"the horizon must be 1 to 250 trading days, got {horizon}")
    return int(horizon)


def _tail_mean(losses: np.ndarray, var: float) -> float:
    tail = losses[losses >= var]
    return float(tail.mean()) if len(tail) else float(var)


class RiskModel(abc.ABC):
    """A one-day-ahead loss distribution estimated from a window of past portfolio returns.

    `fit` estimates everything from the window; `refresh` moves to a newer window cheaply, keeping the
    estimated parameters (for models whose parameters are costly to estimate) but updating state such
    as the current volatility. Both see returns up to yesterday only: the window is all they get.
    """

    name: ClassVar[str]
    label: ClassVar[str]

    def fit(self, returns: np.ndarray) -> RiskModel:
        """Estimate the model from a window of daily portfolio log returns (oldest first)."""
        window = np.asarray(returns, dtype=float)
        if window.ndim != 1 or len(window) < MIN_WINDOW:
            raise InputError(f"a risk model needs at least {MIN_WINDOW} past returns, got {len(window)}")
        if not np.isfinite(window).all():
            raise InputError("the returns hold missing or infinite values")
        self._estimate(window)
        return self

    def refresh(self, returns: np.ndarray) -> RiskModel:
        """Move to a newer window; by default a full re-estimate."""
        return self.fit(returns)

    @abc.abstractmethod
    def _estimate(self, window: np.ndarray) -> None: ...

    @abc.abstractmethod
    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        """VaR and ES as positive loss fractions over ``horizon`` days at confidence ``level``."""


class HistoricalModel(RiskModel):
    name = "historical"
    label = "Historical simulation"

    def _estimate(self, window: np.ndarray) -> None:
        self.losses_ = -window

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level, scale = check_level(level), math.sqrt(_check_horizon(horizon))
        var = float(np.quantile(self.losses_, level))
        return var * scale, _tail_mean(self.losses_, var) * scale


class NormalModel(RiskModel):
    name = "normal"
    label = "Parametric normal"

    def _estimate(self, window: np.ndarray) -> None:
        self.mean_, self.std_ = float(window.mean()), float(window.std(ddof=1))

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level, horizon = check_level(level), _check_horizon(horizon)
        z, sigma = stats.norm.ppf(level), self.std_ * math.sqrt(horizon)
        mean = self.mean_ * horizon
        return float(-mean + sigma * z), float(-mean + sigma * stats.norm.pdf(z) / (1 - level))


def _student_t_var_es(mean: float, std: float, nu: float, level: float) -> tuple[float, float]:
    """VaR/ES of ``mean + std * T`` where T is Student-t with ``nu`` dof scaled to unit variance."""
    scale = std * math.sqrt((nu - 2) / nu)
    q = stats.t.ppf(1 - level, nu)  # negative
    shortfall = (nu + q * q) / (nu - 1) * stats.t.pdf(q, nu) / (1 - level)
    return float(-mean - scale * q), float(-mean + scale * shortfall)


class StudentTModel(RiskModel):
    name = "student_t"
    label = "Parametric Student-t"

    def _estimate(self, window: np.ndarray) -> None:
        self.mean_, self.std_ = float(window.mean()), float(window.std(ddof=1))
        standardised = (window - self.mean_) / self.std_

        def negative_log_likelihood(nu: float) -> float:
            # unit-variance Student-t: scale sqrt((nu - 2) / nu); one free parameter, so a fast 1-D search
            scale = math.sqrt((nu - 2) / nu)
            return -float(stats.t.logpdf(standardised / scale, nu).sum()) + len(standardised) * math.log(
                scale
            )

        best = optimize.minimize_scalar(negative_log_likelihood, bounds=(2.05, 200.0), method="bounded")
        self.nu_ = float(best.x)

    def refresh(self, returns: np.ndarray) -> RiskModel:
        window = np.asarray(returns, dtype=float)
        self.mean_, self.std_ = float(window.mean()), float(window.std(ddof=1))
        return self

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level, horizon = check_level(level), _check_horizon(horizon)
        var, es = _student_t_var_es(self.mean_, self.std_, self.nu_, level)
        # sqrt-of-time on the centred figures; the mean scales linearly
        scale = math.sqrt(horizon)
        return (var + self.mean_) * scale - self.mean_ * horizon, (
            es + self.mean_
        ) * scale - self.mean_ * horizon


def ewma_variance(returns: np.ndarray, lam: float = 0.94, seed_days: int = 30) -> np.ndarray:
    """RiskMetrics variance: ``s2[t] = lam * s2[t-1] + (1 - lam) * r[t-1]**2``.

    Returns an array one longer than ``returns``: entry ``t`` uses returns before ``t`` only, the last
    entry is the forecast for the day after the window. Seeded with the first ``seed_days`` variance.
    """
    r2 = np.asarray(returns, dtype=float) ** 2
    start = float(r2[: max(2, min(seed_days, len(r2)))].mean())
    out = np.empty(len(r2) + 1)
    out[0] = start
    # A first-order linear filter: y[t] = lam * y[t-1] + (1 - lam) * x[t-1].
    filtered, _ = signal.lfilter([1 - lam], [1, -lam], r2, zi=[lam * start])
    out[1:] = filtered
    return out


class EWMAModel(RiskModel):
    name = "ewma"
    label = "EWMA (RiskMetrics, λ 0.94)"

    def __init__(self, lam: float = 0.94) -> None:
        if not 0 < lam < 1:
            raise InputError(f"the EWMA decay must be between 0 and 1, got {lam}")
        self.lam = lam

    def _estimate(self, window: np.ndarray) -> None:
        self.sigma_ = float(math.sqrt(ewma_variance(window, self.lam)[-1]))

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level, horizon = check_level(level), _check_horizon(horizon)
        z, sigma = stats.norm.ppf(level), self.sigma_ * math.sqrt(horizon)
        return float(sigma * z), float(sigma * stats.norm.pdf(z) / (1 - level))


class FilteredHistoricalGARCH(RiskModel):
    """GARCH(1,1)-t (`arch`) volatility times bootstrapped standardised residuals (Barone-Adesi 1999)."""

    name = "fhs_garch"
    label = "GARCH(1,1)-t filtered historical simulation"

    def __init__(self, simulations: int = 5000, seed: int = 0) -> None:
        self.simulations = simulations
        self.seed = seed
        self._start: np.ndarray | None = None  # the previous fit's parameters: a warm start for the next

    def _estimate(self, window: np.ndarray) -> None:
        from arch import arch_model

        scaled = window * 100.0  # arch's optimiser is best conditioned on percent returns
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = arch_model(scaled, mean="Constant", vol="GARCH", p=1, q=1, dist="t").fit(
                disp="off", show_warning=False, starting_values=self._start
            )
        params = result.params
        self._start = params.to_numpy()
        self.mu_, self.omega_ = float(params["mu"]) / 100, float(params["omega"]) / 1e4
        self.alpha_, self.beta_ = float(params["alpha[1]"]), float(params["beta[1]"])
        if not np.isfinite([self.mu_, self.omega_, self.alpha_, self.beta_]).all():
            raise ModelError("the GARCH fit did not converge on this window")
        self._filter(window)

    def _filter(self, window: np.ndarray) -> None:
        """Conditional variances for the window and the next day, with the current parameters."""
        eps2 = (window - self.mu_) ** 2
        start = float(eps2.mean())  # backcast with the sample variance (stable near alpha + beta = 1)
        out = np.empty(len(window) + 1)
        out[0] = start
        forced = self.omega_ + self.alpha_ * eps2
        filtered, _ = signal.lfilter([1.0], [1, -self.beta_], forced, zi=[self.beta_ * start])
        out[1:] = filtered
        self.sigma2_ = out
        self.residuals_ = (window - self.mu_) / np.sqrt(out[:-1])
        self.next_sigma_ = float(math.sqrt(out[-1]))

    def refresh(self, returns: np.ndarray) -> RiskModel:
        self._filter(np.asarray(returns, dtype=float))
        return self

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level, horizon = check_level(level), _check_horizon(horizon)
        if horizon == 1:
            losses = -(self.mu_ + self.next_sigma_ * self.residuals_)
            var = float(np.quantile(losses, level))
            return var, _tail_mean(losses, var)
        rng = np.random.default_rng(self.seed)
        draws = rng.choice(self.residuals_, size=(self.simulations, horizon), replace=True)
        sigma2 = np.full(self.simulations, self.next_sigma_**2)
        total = np.zeros(self.simulations)
        for day in range(horizon):
            shock = np.sqrt(sigma2) * draws[:, day]
            total += self.mu_ + shock
            sigma2 = self.omega_ + self.alpha_ * shock**2 + self.beta_ * sigma2
        losses = -total
        var = float(np.quantile(losses, level))
        return var, _tail_mean(losses, var)


RISK_MODELS: dict[str, type[RiskModel]] = {
    cls.name: cls for cls in (HistoricalModel, NormalModel, StudentTModel, EWMAModel, FilteredHistoricalGARCH)
}
MODEL_LABELS: dict[str, str] = {name: cls.label for name, cls in RISK_MODELS.items()} | {
    "generative": "Generative scenarios (Monte Carlo)"
}


def build_model(name: str, **kwargs: Any) -> RiskModel:
    """A fresh risk model by registry name.

    Raises:
        ValueError: Unknown name (an `InputError`, so pages and the CLI show it).
    """
    if name not in RISK_MODELS:
        raise InputError(f"unknown risk model {name!r}; available: {sorted(MODEL_LABELS)}")
    return RISK_MODELS[name](**kwargs)


@dataclass(frozen=True)
class RiskEstimate:
    """One row of the VaR/ES table."""

    model: str
    level: float
    horizon: int
    var: float
    es: float


def risk_table(
    returns: pd.Series,
    models: Sequence[str] = tuple(RISK_MODELS),
    levels: Sequence[float] = (0.95, 0.99),
    horizons: Sequence[int] = (1, 10),
    window: int | None = 1000,
    extra: Mapping[str, RiskModel] | None = None,
) -> pd.DataFrame:
    """VaR and ES of a portfolio for tomorrow (and ``horizon`` days), by model, level and horizon.

    Args:
        returns: Daily portfolio log returns up to today (oldest first).
        models: Registry names of the models to use.
        levels: Confidence levels.
        horizons: Horizons in trading days.
        window: Most recent days used for estimation (None: all).
        extra: Already fitted models to add (e.g. the generative one), by name.

    Returns:
        One row per model, level and horizon: ``model, label, level, horizon, var, es``.
    """
    values = np.asarray(returns, dtype=float)
    window_values = values[-window:] if window else values
    fitted: dict[str, RiskModel] = {name: build_model(name).fit(window_values) for name in models}
    fitted.update(extra or {})
    rows = []
    for name, model in fitted.items():
        for level in levels:
            for horizon in horizons:
                var, es = model.var_es(level, horizon)
                rows.append(
                    {
                        "model": name,
                        "label": MODEL_LABELS.get(name, name),
                        "level": float(level),
                        "horizon": int(horizon),
                        "var": var,
                        "es": es,
                    }
                )
    return pd.DataFrame(rows)

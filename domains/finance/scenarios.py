"""Generative market scenarios: multi-asset, multi-day return paths, judged on the stylised facts.

`ScenarioModel` is a conditional VAE of the shared core (`shared_models.path_vae`) trained on history:
given the last ``context`` days of returns and each asset's RiskMetrics volatility, it draws the next
``horizon`` days for every asset jointly, with Student-t noise; long paths are drawn block by block,
feeding generated days back. `GarchBaseline` is the classic alternative: GARCH(1,1)-t per asset with
correlated Student-t innovations (constant conditional correlation). `stylised_facts` compares either
with the real series: return distributions at lags 1/5/20 (Wasserstein), autocorrelation of r and
|r|, excess kurtosis, leverage effect and cross-asset correlation.

Both generators share one interface, so callers (fan charts, Monte Carlo VaR, strategy generation) can
take either::

    generate(history, days, paths, seed)          # from the end of a history: (paths, days, assets)
    generate_at(history, starts, days, seed)      # from several points of a history

Example:
    >>> trained = train_scenario_model(returns, ScenarioSpec(steps=2000))
    >>> paths = trained.model.generate(returns.to_numpy(), days=250, paths=500, seed=0)
    >>> facts = stylised_facts(returns.to_numpy(), {"generated": paths})
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from scipy import stats

from domains.finance.data import normalise_weights
from domains.finance.risk import RiskModel, check_level, ewma_variance
from shared_models.exceptions import InputError, ModelError
from shared_models.path_vae import PathVAE, PathVAEConfig, PathVAETask
from shared_models.progress import ProgressCallback
from shared_models.store import ModelCard, load_model, save_model, spec_key
from shared_models.trainer import TrainConfig, TrainResult, seed_everything, train

__all__ = [
    "GarchBaseline",
    "GenerativeRiskModel",
    "PathGenerator",
    "ScenarioModel",
    "ScenarioSpec",
    "TrainedScenarios",
    "data_key",
    "fan_chart",
    "get_scenario_model",
    "load_scenario_model",
    "portfolio_path_returns",
    "random_starts",
    "stylised_facts",
    "train_scenario_model",
]

LAGS = (1, 5, 20)


class PathGenerator(Protocol):
    """What fan charts, Monte Carlo VaR and later capabilities need from a path generator."""

    assets: list[str]

    def generate_at(self, history: np.ndarray, starts: Sequence[int], days: int, seed: int = 0) -> np.ndarray:
        """Paths of ``days`` returns starting right after each index in ``starts`` (exclusive end)."""
        ...

    def generate(self, history: np.ndarray, days: int, paths: int, seed: int = 0) -> np.ndarray: ...


def _check_days(days: int, paths: int) -> None:
    if not 1 <= days <= 5000 or not 1 <= paths <= 100_000:
        raise InputError(f"days must be 1-5000 and paths 1-100000; got {days} days and {paths} paths")


# -- the generative model ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything that determines a trained scenario model (its cache key, with the data's key).

    Attributes:
        context: Past days the model sees.
        horizon: Days drawn per block.
        latent_dim, hidden, beta, lr: The VAE's size and objective.
        steps, seconds: Training budget (the first reached wins).
        batch_size, seed: Training batches and randomness.
        lam: RiskMetrics decay of the volatility feature.
        holdout: Share of the latest windows kept out of training to report a held-out loss.
    """

    context: int = 20
    horizon: int = 10
    latent_dim: int = 8
    hidden: int = 128
    beta: float = 1.0
    lr: float = 1e-3
    steps: int | None = 3000
    seconds: float | None = None
    batch_size: int = 128
    seed: int = 0
    lam: float = 0.94
    holdout: float = 0.15

    def __post_init__(self) -> None:
        if not 2 <= self.context <= 250 or not 1 <= self.horizon <= 60:
            raise InputError("context must be 2-250 days and horizon 1-60 days")
        if not 0 <= self.holdout < 0.5:
            raise InputError(f"holdout must be in [0, 0.5), got {self.holdout}")


def _ewma_states(scaled: np.ndarray, lam: float) -> np.ndarray:
    """(T + 1, A): the volatility state before each day and after the last one."""
    return np.stack([ewma_variance(scaled[:, a], lam) for a in range(scaled.shape[1])], axis=1)


def _condition(context: np.ndarray, state: np.ndarray, limit: float = np.inf) -> np.ndarray:
    """(B, C, A) scaled returns and (B, A) variance states -> (B, C*A + A).

    Inputs are clipped to the training range (``limit``: the largest scaled move in training), so a
    generated extreme fed back into a long path cannot push the network where it never learned.
    """
    context = np.clip(context, -limit, limit)
    state = np.clip(state, 1e-4, limit**2)
    return np.concatenate([context.reshape(len(context), -1), np.log(state)], axis=1)


def _windows(scaled: np.ndarray, context: int, horizon: int, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs: targets (N, horizon, A) and conditions (N, C*A + A) from data before each target."""
    states = _ewma_states(scaled, lam)
    starts = np.arange(context, len(scaled) - horizon + 1)
    if len(starts) < 10:
        raise InputError(
            f"{len(scaled)} days are too few to train on {context}-day contexts and {horizon}-day blocks"
        )
    contexts = np.stack([scaled[t - context : t] for t in starts])
    targets = np.stack([scaled[t : t + horizon] for t in starts])
    return targets, _condition(contexts, states[starts])


class ScenarioModel:
    """A trained path VAE plus the scaling and asset names it was trained with.

    Args:
        net: The trained `PathVAE`.
        scale: Per-asset standard deviation of the training returns (the model works in units of it).
        limit: Largest absolute scaled return in training; conditions are clipped to it and draws to
            1.5 times it (a guard against runaway feedback in long paths, not a fix of the data).
        assets: Asset names, in column order.
        spec: The spec it was trained with.
    """

    def __init__(
        self, net: PathVAE, scale: np.ndarray, assets: Sequence[str], spec: ScenarioSpec, limit: float = 20.0
    ) -> None:
        self.net = net.eval()
        self.scale = np.asarray(scale, dtype=float)
        self.limit = float(limit)
        self.assets = list(assets)
        self.spec = spec

    def _check_history(self, history: np.ndarray) -> np.ndarray:
        values = np.asarray(history, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self.assets):
            raise InputError(f"history must be (days, {len(self.assets)}) returns of {self.assets}")
        if len(values) < self.spec.context:
            raise InputError(f"the model needs at least {self.spec.context} days of history")
        return values

    def generate_at(self, history: np.ndarray, starts: Sequence[int], days: int, seed: int = 0) -> np.ndarray:
        """Paths continuing the history after each of ``starts`` (uses days before the start only)."""
        values = self._check_history(history)
        starts = np.asarray(starts, dtype=int)
        _check_days(days, len(starts))
        if starts.min() < self.spec.context or starts.max() > len(values):
            raise InputError(f"start points must lie in [{self.spec.context}, {len(values)}]")
        scaled = values / self.scale
        states = _ewma_states(scaled, self.spec.lam)[starts]  # (P, A), from days before each start
        context = scaled[starts[:, None] + np.arange(-self.spec.context, 0)]  # (P, C, A)
        blocks = []
        lam = self.spec.lam
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            drawn = 0
            while drawn < days:
                condition = torch.as_tensor(_condition(context, states, self.limit), dtype=torch.float32)
                block = self.net.sample(condition).double().numpy()  # (P, H, A)
                block = np.clip(block, -1.5 * self.limit, 1.5 * self.limit)
                for day in range(block.shape[1]):
                    states = lam * states + (1 - lam) * block[:, day] ** 2
                context = np.concatenate([context, block], axis=1)[:, -self.spec.context :]
                blocks.append(block)
                drawn += block.shape[1]
        return np.concatenate(blocks, axis=1)[:, :days] * self.scale

    def generate(self, history: np.ndarray, days: int, paths: int, seed: int = 0) -> np.ndarray:
        """``paths`` continuations of the whole history, ``days`` long: (paths, days, assets)."""
        values = self._check_history(history)
        return self.generate_at(values, [len(values)] * paths, days, seed)


@dataclass
class TrainedScenarios:
    """A scenario model and how it was obtained.

    Attributes:
        model: The model.
        card: Its model card (config, data, metrics such as the held-out loss).
        result: The training result (None when loaded from the store).
        folder: Its store entry (None when not saved, e.g. a stopped training).
    """

    model: ScenarioModel
    card: ModelCard
    result: TrainResult | None = None
    folder: Path | None = None


def data_key(returns: pd.DataFrame) -> str:
    """A short fingerprint of a returns table (values, dates, names) for cache keys."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, returns.columns)).encode())
    digest.update(returns.index.asi8.tobytes() if isinstance(returns.index, pd.DatetimeIndex) else b"")
    digest.update(np.ascontiguousarray(returns.to_numpy(dtype=float)).tobytes())
    return digest.hexdigest()[:16]


def _heldout_loss(net: PathVAE, targets: np.ndarray, conditions: np.ndarray, seed: int) -> float:
    if not len(targets):
        return float("nan")
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net.eval()
        losses = net.loss(
            torch.as_tensor(targets, dtype=torch.float32), torch.as_tensor(conditions, dtype=torch.float32)
        )
    return float(losses["loss"]) / targets.shape[1]


def train_scenario_model(
    returns: pd.DataFrame,
    spec: ScenarioSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainedScenarios:
    """Train a scenario model on daily log returns (one column per asset).

    The latest ``spec.holdout`` share of windows is held out; its loss per day (negative ELBO in the
    model's scaled units) goes in the card. A stopped training returns the partial model.
    """
    spec = spec or ScenarioSpec()
    values = returns.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InputError("the returns hold missing or infinite values")
    scale = values.std(axis=0, ddof=1)
    if (scale <= 0).any():
        raise InputError("an asset's returns are constant; it cannot be modelled")
    scaled = values / scale
    limit = float(np.abs(scaled).max())
    targets, conditions = _windows(scaled, spec.context, spec.horizon, spec.lam)
    cut = len(targets) - int(len(targets) * spec.holdout)
    config = PathVAEConfig(
        channels=values.shape[1],
        horizon=spec.horizon,
        condition_dim=conditions.shape[1],
        latent_dim=spec.latent_dim,
        hidden=spec.hidden,
        beta=spec.beta,
        lr=spec.lr,
    )
    seed_everything(spec.seed)
    net = PathVAE(config)
    data = (
        torch.as_tensor(targets[:cut], dtype=torch.float32),
        torch.as_tensor(conditions[:cut], dtype=torch.float32),
    )
    budget = TrainConfig(
        steps=spec.steps, seconds=spec.seconds, batch_size=spec.batch_size, seed=spec.seed, log_every=50
    )
    result = train(PathVAETask(net), data, budget, on_progress=on_progress, stop=stop)
    net.eval()
    card = ModelCard(
        kind="path_vae",
        config=asdict(config),
        dataset=f"{'+'.join(map(str, returns.columns))} {returns.index[0]:%Y-%m-%d}.."
        f"{returns.index[-1]:%Y-%m-%d}",
        metrics={
            "heldout_loss_per_day": _heldout_loss(net, targets[cut:], conditions[cut:], spec.seed),
            "train_windows": int(cut),
            "heldout_windows": int(len(targets) - cut),
        },
        training={"steps": result.steps, "seconds": round(result.seconds, 2), "stopped": result.stopped},
        extra={
            "scale": scale.tolist(),
            "limit": limit,
            "assets": [str(c) for c in returns.columns],
            "spec": asdict(spec),
        },
    )
    return TrainedScenarios(ScenarioModel(net, scale, card.extra["assets"], spec, limit), card, result)


def _from_entry(folder: Path) -> TrainedScenarios:
    net, card = load_model(folder)
    if card.kind != "path_vae" or not isinstance(net, PathVAE):
        raise ModelError(f"{folder} holds a {card.kind!r} model, not a scenario model")
    spec = ScenarioSpec(**card.extra["spec"])
    model = ScenarioModel(net, np.array(card.extra["scale"]), card.extra["assets"], spec, card.extra["limit"])
    return TrainedScenarios(model, card, None, folder)


def get_scenario_model(
    returns: pd.DataFrame,
    spec: ScenarioSpec,
    store_root: str | Path,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainedScenarios:
    """The stored model for these returns and spec, training (and storing) it on first use.

    A training that was stopped early is returned but not stored, so a later call trains it fully.
    """
    folder = Path(store_root) / f"scenarios-{spec_key({'spec': asdict(spec), 'data': data_key(returns)})}"
    if (folder / "card.json").is_file():
        return _from_entry(folder)
    trained = train_scenario_model(returns, spec, on_progress, stop)
    if trained.result is not None and trained.result.stopped != "cancelled":
        save_model(folder, trained.model.net, trained.card)
        trained.folder = folder
    return trained


def load_scenario_model(folder: str | Path) -> TrainedScenarios:
    """A scenario model saved with `save_model` (e.g. a run's artifact)."""
    return _from_entry(Path(folder))


# -- the GARCH-t baseline ------------------------------------------------------------------------


@dataclass
class GarchBaseline:
    """Constant-conditional-correlation GARCH(1,1) with multivariate Student-t innovations.

    Attributes:
        assets: Asset names.
        params: Per asset ``mu, omega, alpha, beta`` (in return units) and ``nu``.
        correlation: Correlation of the standardised residuals.
        nu: Common degrees of freedom of the innovations (median of the assets').
    """

    assets: list[str]
    params: list[dict[str, float]]
    correlation: np.ndarray
    nu: float
    _cholesky: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cholesky = np.linalg.cholesky(self.correlation + 1e-9 * np.eye(len(self.assets)))

    @classmethod
    def fit(cls, returns: pd.DataFrame) -> GarchBaseline:
        """Fit each asset's GARCH(1,1)-t with `arch` and the residual correlation."""
        from arch import arch_model

        params, residuals = [], []
        for column in returns.columns:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = arch_model(
                    returns[column].to_numpy() * 100, mean="Constant", vol="GARCH", dist="t"
                ).fit(disp="off", show_warning=False)
            p = fitted.params
            params.append(
                {
                    "mu": p["mu"] / 100,
                    "omega": p["omega"] / 1e4,
                    "alpha": p["alpha[1]"],
                    "beta": p["beta[1]"],
                    "nu": p["nu"],
                }
            )
            residuals.append(np.asarray(fitted.std_resid))
        matrix = np.corrcoef(np.stack(residuals)) if len(residuals) > 1 else np.ones((1, 1))
        nu = float(np.clip(np.median([p["nu"] for p in params]), 2.5, 200))
        return cls(
            [str(c) for c in returns.columns],
            [{k: float(v) for k, v in p.items()} for p in params],
            np.atleast_2d(matrix),
            nu,
        )

    def _variances(self, history: np.ndarray) -> np.ndarray:
        """(T + 1, A) conditional variances through the history, with the fitted parameters."""
        out = np.empty((len(history) + 1, len(self.assets)))
        for a, p in enumerate(self.params):
            eps2 = (history[:, a] - p["mu"]) ** 2
            sigma2 = float(eps2.mean())  # backcast with the sample variance (stable near alpha + beta = 1)
            out[0, a] = sigma2
            for t in range(len(history)):
                sigma2 = p["omega"] + p["alpha"] * eps2[t] + p["beta"] * sigma2
                out[t + 1, a] = sigma2
        return out

    def generate_at(self, history: np.ndarray, starts: Sequence[int], days: int, seed: int = 0) -> np.ndarray:
        values = np.asarray(history, dtype=float)
        starts = np.asarray(starts, dtype=int)
        _check_days(days, len(starts))
        rng = np.random.default_rng(seed)
        sigma2 = self._variances(values)[starts]  # (P, A)
        mu = np.array([p["mu"] for p in self.params])
        omega, alpha, beta = (np.array([p[k] for p in self.params]) for k in ("omega", "alpha", "beta"))
        out = np.empty((len(starts), days, len(self.assets)))
        unit = np.sqrt((self.nu - 2) / self.nu)
        for day in range(days):
            normal = rng.standard_normal((len(starts), len(self.assets))) @ self._cholesky.T
            mixing = np.sqrt(rng.chisquare(self.nu, size=(len(starts), 1)) / self.nu)
            shock = np.sqrt(sigma2) * normal / mixing * unit
            out[:, day] = mu + shock
            sigma2 = omega + alpha * shock**2 + beta * sigma2
        return out

    def generate(self, history: np.ndarray, days: int, paths: int, seed: int = 0) -> np.ndarray:
        values = np.asarray(history, dtype=float)
        return self.generate_at(values, [len(values)] * paths, days, seed)


# -- portfolios, fan charts, Monte Carlo VaR ------------------------------------------------------


def portfolio_path_returns(paths: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(P, D, A) asset log returns -> (P, D) log returns of a daily-rebalanced portfolio."""
    return np.log1p(np.expm1(paths) @ weights)


def fan_chart(
    paths: np.ndarray, weights: np.ndarray, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
) -> pd.DataFrame:
    """Quantiles of the portfolio value (start = 1) on each future day: one column per quantile."""
    cumulative = np.exp(np.cumsum(portfolio_path_returns(paths, weights), axis=1))
    table = np.quantile(cumulative, quantiles, axis=0).T
    frame = pd.DataFrame(table, columns=[f"q{round(q * 100):02d}" for q in quantiles])
    frame.index = pd.RangeIndex(1, paths.shape[1] + 1, name="day")
    return frame


class GenerativeRiskModel(RiskModel):
    """Monte Carlo VaR/ES from a path generator: simulate every asset, value the portfolio, take the tail.

    It reads the asset returns (``uses_assets``); the generator must have been trained on data before
    the first forecast day for a backtest to be out of sample.
    """

    name = "generative"
    label = "Generative scenarios (Monte Carlo)"
    uses_assets = True

    def __init__(
        self,
        generator: PathGenerator,
        weights: Mapping[str, float] | None = None,
        paths: int = 2000,
        seed: int = 0,
    ) -> None:
        self.generator = generator
        fractions = normalise_weights(generator.assets, weights)
        self.weights = np.array([fractions[a] for a in generator.assets])
        self.paths = paths
        self.seed = seed
        self._calls = 0

    def fit(self, returns: np.ndarray) -> RiskModel:
        window = np.asarray(returns, dtype=float)
        if window.ndim != 2 or window.shape[1] != len(self.weights):
            raise InputError(f"the generative model needs (days, {len(self.weights)}) asset returns")
        self.window_ = window
        return self

    def _estimate(self, window: np.ndarray) -> None:  # fit is overridden: nothing to estimate
        raise NotImplementedError

    def portfolio(self, returns: np.ndarray) -> np.ndarray:
        """Daily portfolio log returns from asset log returns (for realised losses)."""
        return np.log1p(np.expm1(np.asarray(returns, dtype=float)) @ self.weights)

    def var_es(self, level: float, horizon: int = 1) -> tuple[float, float]:
        level = check_level(level)
        self._calls += 1  # a fresh, reproducible seed per forecast
        paths = self.generator.generate(self.window_, horizon, self.paths, seed=self.seed + self._calls)
        losses = -portfolio_path_returns(paths, self.weights).sum(axis=1)
        var = float(np.quantile(losses, level))
        tail = losses[losses >= var]
        return var, float(tail.mean()) if len(tail) else var


# -- stylised facts -------------------------------------------------------------------------------


def random_starts(history_days: int, count: int, minimum: int, seed: int = 0) -> np.ndarray:
    """Start points in the history for simulations that should begin in real market states."""
    if history_days <= minimum:
        raise InputError(f"the history needs more than {minimum} days")
    return np.random.default_rng(seed).integers(minimum, history_days + 1, size=count)


def _pooled_correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _autocorrelation(paths: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` of (P, D) paths, pooled over paths (means and variances shared)."""
    return _pooled_correlation(paths[:, :-lag], paths[:, lag:])


def _leverage(paths: np.ndarray, max_lag: int = 10) -> float:
    """Mean over k = 1..max_lag of corr(r_t, r_{t+k}^2): negative when falls raise later volatility."""
    return float(
        np.nanmean([_pooled_correlation(paths[:, :-k], paths[:, k:] ** 2) for k in range(1, max_lag + 1)])
    )


def _mean_over_assets(paths: np.ndarray, stat: Callable[[np.ndarray], float]) -> float:
    return float(np.nanmean([stat(paths[:, :, a]) for a in range(paths.shape[2])]))


def _lagged_sums(paths: np.ndarray, lag: int, asset: int) -> np.ndarray:
    cumulative = np.cumsum(paths[:, :, asset], axis=1)
    padded = np.concatenate([np.zeros((paths.shape[0], 1)), cumulative], axis=1)
    return (padded[:, lag:] - padded[:, :-lag]).ravel()


def _cross_correlation(paths: np.ndarray) -> float:
    if paths.shape[2] < 2:
        return float("nan")
    matrix = np.corrcoef(paths.reshape(-1, paths.shape[2]).T)
    return float(matrix[np.triu_indices_from(matrix, k=1)].mean())


FACT_LABELS: dict[str, str] = {
    **{f"wasserstein_lag{k}": f"Wasserstein to real, {k}-day returns (÷ real σ)" for k in LAGS},
    "acf_r_lag1": "Autocorrelation of r, lag 1 (real ≈ 0)",
    **{f"acf_abs_lag{k}": f"Autocorrelation of |r|, lag {k} (real > 0, slow decay)" for k in LAGS},
    "excess_kurtosis": "Excess kurtosis of daily returns",
    "leverage": "Leverage: corr(r_t, r²_t+k), mean k = 1-10 (real < 0)",
    "cross_correlation": "Mean cross-asset correlation",
}


def stylised_facts(real: np.ndarray, samples: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The stylised facts of the real returns and of each set of simulated paths.

    Statistics of simulated paths are pooled over paths (one mean and variance for all), so many short
    paths started at different real dates compare with the one long real series.

    Args:
        real: (T, A) real daily log returns.
        samples: Name -> (P, D, A) simulated paths (e.g. ``{"generated": ..., "GARCH-t": ...}``).

    Returns:
        One row per fact (index: fact key, column ``fact``: its description), one column per source.
    """
    real = np.asarray(real, dtype=float)
    if real.ndim != 2 or len(real) < 60:
        raise InputError("the stylised facts need (days >= 60, assets) real returns")
    columns: dict[str, dict[str, float]] = {}
    for name, paths in {"real": real[None], **samples}.items():
        if paths.ndim != 3 or paths.shape[2] != real.shape[1] or paths.shape[1] <= max(LAGS):
            raise InputError(f"paths {name!r} must be (paths, days > {max(LAGS)}, {real.shape[1]})")
        facts: dict[str, float] = {}
        for k in LAGS:
            distances = []
            for a in range(real.shape[1]):
                reference = _lagged_sums(real[None], k, a)
                distances.append(
                    stats.wasserstein_distance(reference, _lagged_sums(paths, k, a)) / reference.std()
                )
            facts[f"wasserstein_lag{k}"] = float(np.mean(distances))
        facts["acf_r_lag1"] = _mean_over_assets(paths, lambda x: _autocorrelation(x, 1))
        for k in LAGS:
            facts[f"acf_abs_lag{k}"] = _mean_over_assets(paths, lambda x, k=k: _autocorrelation(np.abs(x), k))
        facts["excess_kurtosis"] = _mean_over_assets(paths, lambda x: float(stats.kurtosis(x.ravel())))
        facts["leverage"] = _mean_over_assets(paths, _leverage)
        facts["cross_correlation"] = _cross_correlation(paths)
        columns[name] = facts
    table = pd.DataFrame(columns)
    table.insert(0, "fact", [FACT_LABELS[k] for k in table.index])
    return table

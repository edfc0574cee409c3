"""The generative scenario model (tiny training), the GARCH-t baseline and the stylised-facts table."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from domains.finance.backtest import rolling_forecasts
from domains.finance.data import load_prices, log_returns
from domains.finance.scenarios import (
    GarchBaseline,
    GenerativeRiskModel,
    ScenarioSpec,
    fan_chart,
    get_scenario_model,
    random_starts,
    stylised_facts,
    train_scenario_model,
)
from shared_models.exceptions import InputError

TINY = ScenarioSpec(steps=150, hidden=48, latent_dim=4, batch_size=64, context=10, horizon=5)


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return log_returns(load_prices(["sp500", "nasdaq"], "2006-01-01", "2012-12-31").prices)


@pytest.fixture(scope="module")
def trained(returns: pd.DataFrame):  # type: ignore[no-untyped-def]
    return train_scenario_model(returns, TINY)


def test_shapes_determinism_and_seeds(trained, returns: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    history = returns.to_numpy()
    first = trained.model.generate(history, days=23, paths=16, seed=1)
    assert first.shape == (16, 23, 2) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, trained.model.generate(history, days=23, paths=16, seed=1))
    assert not np.allclose(first, trained.model.generate(history, days=23, paths=16, seed=2))
    assert trained.card.metrics["heldout_windows"] > 0 and np.isfinite(
        trained.card.metrics["heldout_loss_per_day"]
    )


def test_generation_uses_only_the_past(trained, returns: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    history = returns.to_numpy()
    changed = history.copy()
    changed[600:] *= 5
    starts = [200, 400, 600]
    np.testing.assert_array_equal(
        trained.model.generate_at(history, starts, 10, seed=0),
        trained.model.generate_at(changed, starts, 10, seed=0),
    )


def test_a_short_training_learns_scale_and_co_movement(trained, returns: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    values = returns.to_numpy()
    starts = random_starts(len(values) - 60, 200, TINY.context, seed=0)
    paths = trained.model.generate_at(values, starts, 60, seed=0)
    ratio = paths.reshape(-1, 2).std(axis=0) / values.std(axis=0)
    assert ((ratio > 0.6) & (ratio < 1.6)).all(), ratio
    correlation = np.corrcoef(paths.reshape(-1, 2).T)[0, 1]
    assert correlation > 0.5, correlation  # S&P 500 and NASDAQ move together (real: about 0.9)


def test_store_round_trip_and_stopped_training(returns: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = ScenarioSpec(steps=30, hidden=16, latent_dim=2, batch_size=32, context=5, horizon=3)
    small = returns.iloc[:400]
    fresh = get_scenario_model(small, spec, tmp_path)
    loaded = get_scenario_model(small, spec, tmp_path)
    assert fresh.folder is not None and loaded.result is None
    history = small.to_numpy()
    np.testing.assert_allclose(
        fresh.model.generate(history, 7, 4, seed=3), loaded.model.generate(history, 7, 4, seed=3), rtol=1e-6
    )
    stop = threading.Event()
    stop.set()
    stopped = get_scenario_model(
        small, ScenarioSpec(steps=500, hidden=16, context=5, horizon=3), tmp_path, stop=stop
    )
    assert stopped.result is not None and stopped.result.stopped == "cancelled" and stopped.folder is None


def test_garch_baseline_and_real_stylised_facts(returns: pd.DataFrame) -> None:
    values = returns.to_numpy()
    garch = GarchBaseline.fit(returns)
    assert 0.8 < garch.correlation[0, 1] < 1
    starts = random_starts(len(values) - 250, 40, 20, seed=0)
    paths = garch.generate_at(values, starts, 250, seed=0)
    facts = stylised_facts(values, {"GARCH-t": paths})
    real, simulated = facts["real"], facts["GARCH-t"]
    assert abs(real["acf_r_lag1"]) < 0.15
    assert min(real["acf_abs_lag1"], real["acf_abs_lag5"], real["acf_abs_lag20"]) > 0.15  # slow decay
    assert real["excess_kurtosis"] > 3 and real["leverage"] < 0
    assert real["wasserstein_lag1"] == 0 and real["cross_correlation"] > 0.8
    assert simulated["acf_abs_lag1"] > 0.05 and simulated["excess_kurtosis"] > 0.5
    assert simulated["wasserstein_lag1"] < 0.3
    assert list(facts.columns) == ["fact", "real", "GARCH-t"]


def test_fan_chart_quantiles_are_ordered(trained, returns: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    paths = trained.model.generate(returns.to_numpy(), 30, 200, seed=0)
    fan = fan_chart(paths, np.array([0.5, 0.5]))
    assert list(fan.columns) == ["q05", "q25", "q50", "q75", "q95"] and len(fan) == 30
    assert (fan.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert fan["q95"].iloc[-1] - fan["q05"].iloc[-1] > fan["q95"].iloc[0] - fan["q05"].iloc[0]


def test_generative_var_backtest_is_causal(trained, returns: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    data = returns.iloc[:360]
    perturbed = data.copy()
    perturbed.iloc[340:] *= 6
    model = GenerativeRiskModel(trained.model, {"sp500": 0.5, "nasdaq": 0.5}, paths=200)
    base = rolling_forecasts(data, model, 0.99, window=300)
    model = GenerativeRiskModel(trained.model, {"sp500": 0.5, "nasdaq": 0.5}, paths=200)
    moved = rolling_forecasts(perturbed, model, 0.99, window=300)
    early = base.index < data.index[341]
    pd.testing.assert_frame_equal(base[early][["var", "es"]], moved[early][["var", "es"]])
    assert (base["var"] > 0).all() and (base["es"] >= base["var"]).all()


def test_bad_inputs(trained) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        trained.model.generate(np.zeros((3, 2)), 5, 5)
    with pytest.raises(InputError):
        trained.model.generate(np.zeros((50, 3)), 5, 5)
    with pytest.raises(InputError):
        ScenarioSpec(context=1)

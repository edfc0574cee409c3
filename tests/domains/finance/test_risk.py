"""VaR and ES of known distributions, by every model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from domains.finance.risk import RISK_MODELS, build_model, ewma_variance, risk_table
from shared_models.exceptions import InputError

SIGMA = 0.01


@pytest.fixture(scope="module")
def normal_returns() -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, SIGMA, 5000)


@pytest.mark.parametrize("name", sorted(RISK_MODELS))
@pytest.mark.parametrize("level", [0.95, 0.99])
def test_var_and_es_of_normal_returns(name: str, level: float, normal_returns: np.ndarray) -> None:
    var, es = build_model(name).fit(normal_returns).var_es(level)
    z = stats.norm.ppf(level)
    expected_var, expected_es = SIGMA * z, SIGMA * stats.norm.pdf(z) / (1 - level)
    tolerance = 0.2 if name == "ewma" else 0.08  # EWMA sees only its last ~50 effective days
    assert var == pytest.approx(expected_var, rel=tolerance)
    assert es == pytest.approx(expected_es, rel=tolerance)
    assert es > var > 0


def test_student_t_model_recovers_heavy_tails() -> None:
    nu = 4
    returns = stats.t.rvs(nu, size=20000, random_state=1) * SIGMA
    var, es = build_model("student_t").fit(returns).var_es(0.99)
    assert var == pytest.approx(-stats.t.ppf(0.01, nu) * SIGMA, rel=0.06)
    normal_var, _ = build_model("normal").fit(returns).var_es(0.99)
    assert var > normal_var * 0.95  # the t quantile at 99 % is not below the normal one on t data
    assert es > var


def test_ten_day_scaling() -> None:
    returns = np.random.default_rng(0).normal(0, SIGMA, 2000)
    model = build_model("normal").fit(returns)
    one, _ = model.var_es(0.99, 1)
    ten, _ = model.var_es(0.99, 10)
    mean = returns.mean()
    assert ten + 10 * mean == pytest.approx(math.sqrt(10) * (one + mean), rel=1e-9)
    fhs = build_model("fhs_garch").fit(returns)
    fhs_one, _ = fhs.var_es(0.99, 1)
    fhs_ten, _ = fhs.var_es(0.99, 10)
    assert 2.0 < fhs_ten / fhs_one < 4.5  # about sqrt(10) for nearly i.i.d. data


def test_ewma_variance_is_causal_and_matches_a_loop() -> None:
    r = np.random.default_rng(1).normal(0, 1, 200)
    fast = ewma_variance(r, 0.94, seed_days=30)
    s2 = r[:30].__pow__(2).mean()
    loop = [s2]
    for value in r:
        s2 = 0.94 * s2 + 0.06 * value**2
        loop.append(s2)
    np.testing.assert_allclose(fast, loop, rtol=1e-10)


def test_garch_picks_up_a_volatility_jump() -> None:
    rng = np.random.default_rng(2)
    calm = rng.normal(0, 0.005, 900)
    stormy = rng.normal(0, 0.03, 20)
    model = build_model("fhs_garch").fit(np.concatenate([calm, stormy]))
    calm_var, _ = build_model("fhs_garch").fit(calm).var_es(0.99)
    stormy_var, _ = model.var_es(0.99)
    assert stormy_var > 2 * calm_var


def test_risk_table_shape_and_errors(normal_returns: np.ndarray) -> None:
    table = risk_table(
        normal_returns, ["historical", "normal"], levels=[0.95, 0.99], horizons=[1, 10], window=1000
    )
    assert len(table) == 2 * 2 * 2
    assert (table["es"] >= table["var"]).all()
    with pytest.raises(InputError, match="unknown risk model"):
        build_model("magic")
    with pytest.raises(InputError, match="at least"):
        build_model("normal").fit(normal_returns[:10])
    with pytest.raises(InputError, match="confidence"):
        build_model("normal").fit(normal_returns).var_es(1.2)

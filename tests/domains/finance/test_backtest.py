"""Backtest statistics against the MathWorks reference and the Basel table; rolling forecasts are causal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domains.finance.backtest import (
    backtest,
    christoffersen_test,
    conditional_coverage_test,
    kupiec_test,
    rolling_forecasts,
    traffic_light,
    transition_counts,
)
from domains.finance.risk import MODEL_LABELS, RISK_MODELS, build_model
from shared_models.exceptions import InputError


def mathworks_failures() -> np.ndarray:
    """1,043 days with 57 failures laid out as N00 932, N10 53, N01 53, N11 4 (MathWorks varbacktest)."""
    runs = [[1, 1]] * 4 + [[1]] * 49  # 53 runs of exceptions, 4 of them two days long
    sequence: list[int] = []
    for run in runs:
        sequence += [0] * 17 + run
    sequence += [0] * (1043 - len(sequence))
    return np.array(sequence)


def test_mathworks_vector_has_the_published_counts() -> None:
    failures = mathworks_failures()
    assert len(failures) == 1043 and failures.sum() == 57
    assert transition_counts(failures) == {"N00": 932, "N01": 53, "N10": 53, "N11": 4}


def test_kupiec_and_christoffersen_match_mathworks() -> None:
    failures = mathworks_failures()
    pof = kupiec_test(failures, 0.95)
    # MathWorks' varbacktest example, to the three decimals it prints
    assert round(pof.statistic, 3) == 0.461 and round(pof.p_value, 3) == 0.497
    independence = christoffersen_test(failures)
    assert round(independence.statistic, 3) == 0.259 and round(independence.p_value, 3) == 0.611
    coverage = conditional_coverage_test(failures, 0.95)
    assert coverage.statistic == pytest.approx(pof.statistic + independence.statistic)
    assert coverage.dof == 2 and round(coverage.statistic, 3) == 0.720 and round(coverage.p_value, 3) == 0.698
    assert not pof.rejects() and not independence.rejects()


def test_clustered_exceptions_fail_independence_but_not_coverage() -> None:
    failures = np.zeros(1000, dtype=int)
    failures[100:110] = 1  # ten exceptions in a row: the right count, all at once
    assert kupiec_test(failures, 0.99).p_value > 0.5
    assert christoffersen_test(failures).p_value < 1e-6


def test_no_exceptions_is_finite() -> None:
    result = kupiec_test(np.zeros(250, dtype=int), 0.99)
    assert np.isfinite(result.statistic) and 0 < result.p_value < 1


@pytest.mark.parametrize(
    ("count", "zone"), [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"), (10, "red")]
)
def test_basel_traffic_light_at_99_over_250_days(count: int, zone: str) -> None:
    light = traffic_light(count, 250, 0.99)
    assert light.zone == zone
    assert (light.yellow_from, light.red_from) == (5, 10)


def test_bad_indicators_are_refused() -> None:
    with pytest.raises(InputError):
        kupiec_test([0, 2, 1], 0.99)
    with pytest.raises(InputError):
        kupiec_test([0, 1], 1.5)


def _returns(n: int = 700, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2010-01-01", periods=n)
    return pd.Series(rng.standard_t(4, n) * 0.01, index=index)


@pytest.mark.parametrize("name", sorted(RISK_MODELS))
def test_forecasts_do_not_look_ahead(name: str) -> None:
    """Changing the future leaves every earlier forecast exactly as it was."""
    returns = _returns(420)
    cut = 360
    perturbed = returns.copy()
    perturbed.iloc[cut:] *= 8  # a crash that has not happened yet
    kwargs = {"level": 0.99, "window": 300, "refit_every": 50}
    base = rolling_forecasts(returns, build_model(name), **kwargs)
    moved = rolling_forecasts(perturbed, build_model(name), **kwargs)
    forecasts_before = base.index < returns.index[cut + 1]  # the forecast for day `cut` uses days < cut
    pd.testing.assert_frame_equal(
        base[forecasts_before][["var", "es"]], moved[forecasts_before][["var", "es"]]
    )
    assert not np.allclose(base["var"].iloc[-5:], moved["var"].iloc[-5:])  # the future did change later ones


def test_backtest_on_iid_normal_returns_is_calibrated() -> None:
    rng = np.random.default_rng(3)
    returns = pd.Series(rng.normal(0, 0.01, 1300), index=pd.bdate_range("2000-01-03", periods=1300))
    result = backtest(returns, "normal", level=0.99, window=300)
    assert result.days == 1000
    assert 2 <= result.exceptions <= 22  # 10 expected; a 99.9 % binomial band
    assert result.pof.p_value > 0.001
    assert set(result.summary()) >= {"kupiec_p", "christoffersen_p", "cc_p", "zone"}
    assert result.light.days == 250


def test_backtest_stops_with_a_partial_result() -> None:
    calls = []

    def stop_after_first(progress) -> bool:
        calls.append(progress.step)
        return False

    result = backtest(_returns(700), "historical", level=0.95, window=300, on_progress=stop_after_first)
    assert result.stopped and result.days == 50 and calls == [50]


def test_every_registered_model_has_a_label() -> None:
    assert set(RISK_MODELS) <= set(MODEL_LABELS)

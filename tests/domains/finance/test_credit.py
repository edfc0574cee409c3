"""WoE scorecard and gradient boosting on the bundled credit data; uploads are validated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from domains.finance.credit import (
    BOOST_CHUNK,
    CreditSpec,
    WoEBinner,
    _fit_booster,
    fit_credit_models,
    ks_statistic,
    load_demo_credit,
    read_credit_csv,
)
from shared_models.exceptions import InputError


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return load_demo_credit()


@pytest.fixture(scope="module")
def result(demo):  # type: ignore[no-untyped-def]
    return fit_credit_models(demo.frame, CreditSpec(target=demo.target, bad_value=demo.bad_value, seed=0))


def test_demo_data_is_real(demo) -> None:  # type: ignore[no-untyped-def]
    assert len(demo.frame) == 4454 and set(demo.frame["Status"].unique()) == {"good", "bad"}


def test_both_models_discriminate_on_held_out_applicants(result) -> None:  # type: ignore[no-untyped-def]
    test = result.metrics.query("split == 'test'").set_index("model")
    assert test.loc["scorecard", "auc"] > 0.78 and test.loc["boosting", "auc"] > 0.78
    assert test.loc["scorecard", "ks"] > 0.35
    assert test["gini"].to_numpy() == pytest.approx(2 * test["auc"].to_numpy() - 1)
    assert set(result.calibration["model"]) == {"scorecard", "boosting"}


def test_scores_rank_risk_and_come_with_reasons(result) -> None:  # type: ignore[no-untyped-def]
    scored = result.scored
    worst, best = scored.nsmallest(100, "score"), scored.nlargest(100, "score")
    assert worst["bad"].mean() > 3 * best["bad"].mean()
    assert (worst["reason_1"] != "").all() and "pts" in worst["reason_1"].iloc[0]
    # points and probability agree: a higher score means a lower default probability
    assert np.corrcoef(scored["score"], scored["p_bad_scorecard"])[0, 1] < -0.95


def test_scorecard_is_reproducible(demo) -> None:  # type: ignore[no-untyped-def]
    subset = demo.frame.iloc[:1200]
    spec = CreditSpec(target=demo.target, bad_value=demo.bad_value, seed=3)
    first, again = fit_credit_models(subset, spec), fit_credit_models(subset, spec)
    pd.testing.assert_frame_equal(again.points, first.points)
    pd.testing.assert_frame_equal(again.scored, first.scored)


def test_boosting_in_chunks_equals_one_fit() -> None:
    x, y = make_classification(600, 8, random_state=0)
    params = {"max_iter": 90, "learning_rate": 0.05, "early_stopping": True, "random_state": 0}
    one = HistGradientBoostingClassifier(**params).fit(x, y)
    chunked = _fit_booster(HistGradientBoostingClassifier(**params), x, y, None, None)
    assert chunked is not None and chunked.n_iter_ == one.n_iter_ > BOOST_CHUNK
    np.testing.assert_array_equal(chunked.predict_proba(x), one.predict_proba(x))
    assert chunked.get_params() == one.get_params()  # warm start and max_iter restored


def test_a_stop_during_boosting_returns_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    spec = CreditSpec(target=demo.target, bad_value=demo.bad_value, seed=0)
    messages: list[str] = []
    stopped = fit_credit_models(
        demo.frame, spec, on_progress=lambda p: messages.append(p.message) or p.message != "gradient boosting"
    )
    assert stopped is None
    assert messages == ["binning and fitting the scorecard", "gradient boosting"]


def test_unseen_categories_score_as_neutral(result, demo) -> None:  # type: ignore[no-untyped-def]
    applicant = demo.frame.drop(columns=["Status"]).iloc[:1].copy()
    applicant["Home"] = "castle"
    scored = result.score(applicant)
    assert np.isfinite(scored["score"].iloc[0])


def test_woe_separates_goods_from_bads() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    bad = (rng.random(2000) < 1 / (1 + np.exp(-2 * x))).astype(int)
    binner = WoEBinner(max_bins=5).fit(pd.DataFrame({"x": x}), bad)
    woe = binner.tables_["x"]["woe"].to_numpy()
    assert (np.diff(woe[:-1]) < 0).all() if len(woe) > 5 else (np.diff(woe) < 0).all()  # risk rises with x
    assert binner.iv_["x"] > 0.5
    assert ks_statistic(bad, x) > 0.3


@pytest.mark.parametrize(
    ("content", "target", "bad", "message"),
    [
        (b"a,y\n1,0\n2,1\n", "z", None, "no target column"),
        (b"a,y\n1,0\n2,1\n3,2\n", "y", None, "exactly two values"),
        (b"a,y\n1,no\n2,yes\n", "y", None, "say which value"),
        (b"a,y\n1,no\n2,yes\n", "y", "maybe", "does not occur"),
        (b"\xff\xfe", "y", None, "UTF-8"),
    ],
)
def test_bad_credit_csvs(content: bytes, target: str, bad: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_credit_csv(content, target, bad)


def test_too_few_applicants() -> None:
    data = read_credit_csv(b"a,y\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(50)), "y")
    with pytest.raises(InputError, match="at least"):
        fit_credit_models(data.frame, CreditSpec(target="y", bad_value=data.bad_value))

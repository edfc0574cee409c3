"""Risk Lab: the page (AppTest), the runners and the `aigc risk` commands record real runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.finance.data import load_prices
from domains.finance.scenarios import ScenarioSpec
from suite.cli import main
from suite.runners.risk_lab import Portfolio, record_backtest, record_scenarios
from suite.workspace import Workspace

PAGE = "pages/risk_lab.py"
TIMEOUT_S = 180


def test_page_computes_var_and_records_a_run(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.multiselect(key="risk-lab.var_models").set_value(["historical", "ewma", "fhs_garch"])
    app.button(key="risk-lab.var_go").click().run(timeout=TIMEOUT_S)
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == ["Run 1: VaR and ES (% of portfolio value)"]
    table = app.dataframe[0].value  # the VaR tab comes first
    assert len(table) == 3 and (table.to_numpy() > 0).all()
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Download var_es.csv", "Download report.html"} <= downloads
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "risk.var" and record.status == "done"
    assert record.params["assets"] == ["sp500"] and 0 < record.metrics["var_ewma_0.99_1d"] < 0.2


def test_page_refuses_a_bad_upload_with_a_message(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.radio(key="risk-lab.source").set_value("Upload a CSV").run()
    assert not app.exception
    assert any("Upload a CSV of daily prices" in i.value for i in app.info)


def test_page_credit_tab_scores_the_demo(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.button(key="risk-lab.credit_go").click().run(timeout=TIMEOUT_S)
    assert not app.exception, app.exception
    metrics = app.dataframe[0].value  # the only table before the credit results
    assert metrics.query("split == 'test'")["auc"].min() > 0.75
    assert Workspace(aigc_home).get_run(1).capability == "risk.credit"


@pytest.fixture(scope="module")
def small_portfolio() -> Portfolio:
    return Portfolio(
        load_prices(["sp500", "nasdaq"], "2007-01-01", "2010-12-31"), {"sp500": 0.6, "nasdaq": 0.4}
    )


def test_backtest_runner_saves_csvs_and_report(aigc_home: Path, small_portfolio: Portfolio) -> None:
    outcome = record_backtest(Workspace(aigc_home), small_portfolio, ["historical", "ewma"], 0.99, window=500)
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "done"
    assert {"backtest_summary.csv", "backtest_forecasts.csv", "report.html"} <= set(record.artifacts)
    assert list(outcome.summary["model"]) == ["historical", "ewma"]
    assert (
        "<h1>VaR backtest"
        in (record_dir := Workspace(aigc_home).run_dir(outcome.run_id) / "report.html").read_text()
    )
    assert record_dir.stat().st_size > 10_000


def test_scenario_runner_saves_the_model_and_facts(aigc_home: Path, small_portfolio: Portfolio) -> None:
    spec = ScenarioSpec(steps=40, hidden=16, latent_dim=2, batch_size=32, context=5, horizon=5)
    outcome = record_scenarios(Workspace(aigc_home), small_portfolio, spec, days=40, paths=30)
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "done" and {"model", "stylised_facts.csv", "fan_chart.csv"} <= set(
        record.artifacts
    )
    assert set(outcome.facts.columns) == {"fact", "real", "generated", "GARCH-t"}
    assert "excess_kurtosis_generated" in record.metrics


def test_cli_var_and_stress(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk", "var", "--asset", "sp500", "--level", "0.99", "--models", "historical,normal"]) == 0
    out = capsys.readouterr().out
    assert "historical" in out and "run 1" in out
    assert main(["risk", "stress", "--asset", "sp500", "--asset", "nasdaq", "--shock", "sp500=-0.2"]) == 0
    assert "shock P&L" in capsys.readouterr().out
    assert main(["risk", "var", "--asset", "sp500", "--weights", "1,2"]) == 2  # a user error, not a traceback
    assert [r.capability for r in Workspace(aigc_home).list_runs()] == ["risk.stress", "risk.var"]

"""Risk Lab: the page (AppTest), the runners and the `aigc risk` commands record real runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.finance.credit import CreditSpec, load_demo_credit
from domains.finance.data import load_prices
from domains.finance.scenarios import ScenarioSpec
from suite.capabilities.risk_lab.runner import (
    Portfolio,
    record_backtest,
    record_credit,
    record_scenarios,
    var_job,
)
from suite.cli import main
from suite.jobs import JobStore
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/risk_lab/page.py"
TIMEOUT_S = 180


def test_page_computes_var_and_records_a_run(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.multiselect(key="risk-lab.var_models").set_value(["historical", "ewma", "fhs_garch"])
    app.button(key="risk-lab.var_go").click().run(timeout=TIMEOUT_S)  # inline: well under a second
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
    app.button(key="risk-lab.credit_go").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    metrics = app.dataframe[0].value  # the only table before the credit results
    assert metrics.query("split == 'test'")["auc"].min() > 0.75
    assert Workspace(aigc_home).get_run(1).capability == "risk.credit"


def test_a_reloaded_page_finds_the_scenario_training_and_a_stop_keeps_the_model(
    app: AppTest, aigc_home: Path
) -> None:
    app.switch_page(PAGE).run()
    app.slider(key="risk-lab.sc_seconds").set_value(600)
    app.button(key="risk-lab.sc_go").click().run()
    for key in ("risk-lab.sc_go", "risk-lab.var_go", "risk-lab.bt_go", "risk-lab.credit_go"):
        assert app.button(key=key).disabled, key  # one job at a time for the whole page
    store, deadline = JobStore(Workspace(aigc_home)), time.monotonic() + TIMEOUT_S
    while not any(j.step > 0 for j in store.list(statuses=["running"])):  # training has begun
        assert time.monotonic() < deadline, "the training did not start"
        time.sleep(0.2)
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="risk-lab.sc_go").disabled
    reloaded.button(key="risk-lab.stop").click().run()
    run_until_jobs_end(reloaded, TIMEOUT_S)
    assert not reloaded.exception, reloaded.exception
    assert any("Scenario training was stopped" in w.value for w in reloaded.warning), reloaded.warning
    assert [s.value for s in reloaded.subheader] == ["Run 1: generative scenarios (stopped)"], [
        w.value for w in reloaded.warning
    ]
    assert reloaded.checkbox(key="risk-lab.use_gen").disabled  # a half-trained model is not used for VaR
    assert not reloaded.button(key="risk-lab.sc_go").disabled
    record = Workspace(aigc_home).get_run(1)
    assert record.status == "cancelled" and record.job_id is not None
    assert record.artifacts == ["model"] and record.metrics["card_train_windows"] > 0


def test_page_adds_the_trained_generative_model_to_var_as_a_job(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert app.checkbox(key="risk-lab.use_gen").disabled  # nothing trained yet
    app.slider(key="risk-lab.sc_seconds").set_value(5)
    app.number_input(key="risk-lab.sc_days").set_value(30)
    app.number_input(key="risk-lab.sc_paths").set_value(50)
    app.button(key="risk-lab.sc_go").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert "Run 1: generative scenarios" in [s.value for s in app.subheader]
    app.checkbox(key="risk-lab.use_gen").check()
    app.button(key="risk-lab.var_go").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert "Run 2: VaR and ES (% of portfolio value)" in [s.value for s in app.subheader]
    record = Workspace(aigc_home).get_run(2)
    assert record.capability == "risk.var" and record.job_id is not None
    assert record.params["scenario_model"] and record.metrics["var_generative_0.99_1d"] > 0


def test_credit_runner_stopped_early_records_a_cancelled_run(aigc_home: Path) -> None:
    data = load_demo_credit()
    spec = CreditSpec(target=data.target, bad_value=data.bad_value)
    assert record_credit(Workspace(aigc_home), data, spec, on_progress=lambda p: False) is None
    assert Workspace(aigc_home).get_run(1).status == "cancelled"


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


def test_backtest_stopped_in_the_generative_training_keeps_nothing(
    aigc_home: Path, small_portfolio: Portfolio
) -> None:
    stop = threading.Event()
    stop.set()
    outcome = record_backtest(
        Workspace(aigc_home), small_portfolio, ["generative", "historical"], window=500, stop=stop
    )
    assert outcome.results == [] and outcome.stopped
    assert Workspace(aigc_home).get_run(outcome.run_id).status == "cancelled"


def test_scenario_runner_saves_the_model_and_facts(aigc_home: Path, small_portfolio: Portfolio) -> None:
    spec = ScenarioSpec(steps=40, hidden=16, latent_dim=2, batch_size=32, context=5, horizon=5)
    outcome = record_scenarios(Workspace(aigc_home), small_portfolio, spec, days=40, paths=30)
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "done" and {"model", "stylised_facts.csv", "fan_chart.csv"} <= set(
        record.artifacts
    )
    assert set(outcome.facts.columns) == {"fact", "real", "generated", "GARCH-t"}
    assert "excess_kurtosis_generated" in record.metrics
    # the page's VaR job takes the model from the run's folder (a job gets no live model)
    var = var_job(Workspace(aigc_home), small_portfolio, ["historical"], [0.99], [1], 500, outcome.run_id)
    assert set(var.table["model"]) == {"historical", "generative"} and (var.table["var"] > 0).all()


def test_cli_var_and_stress(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk", "var", "--asset", "sp500", "--level", "0.99", "--models", "historical,normal"]) == 0
    out = capsys.readouterr().out
    assert "historical" in out and "run 1" in out
    assert main(["risk", "stress", "--asset", "sp500", "--asset", "nasdaq", "--shock", "sp500=-0.2"]) == 0
    assert "shock P&L" in capsys.readouterr().out
    assert main(["risk", "var", "--asset", "sp500", "--weights", "1,2"]) == 2  # a user error, not a traceback
    assert [r.capability for r in Workspace(aigc_home).list_runs()] == ["risk.stress", "risk.var"]

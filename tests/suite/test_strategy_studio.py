"""Strategy Studio: the page (AppTest), the runner and `aigc strategy search` record real runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domains.finance.strategy.search import SearchSpec
from domains.finance.strategy.universe import load_universe
from suite.capabilities.strategy_studio.runner import record_search
from suite.cli import main
from suite.workspace import Workspace
from tests.suite.conftest import APP_FILE, run_until_jobs_end

PAGE = "capabilities/strategy_studio/page.py"
TIMEOUT_S = 240
QUICK = ["equal_weight", "momentum", "vol_target"]


def test_page_generates_strategies_and_records_a_run(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.selectbox(key="strategy-studio.universe").set_value("stocks3")
    app.number_input(key="strategy-studio.trials").set_value(4)
    app.multiselect(key="strategy-studio.strategies").set_value(QUICK)
    app.checkbox(key="strategy-studio.use_model").uncheck()
    app.button(key="strategy-studio.go").click()
    run_until_jobs_end(app, TIMEOUT_S)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert [s.value for s in app.subheader] == ["Run 1: strategy search"]
    ranking = next(d.value for d in app.dataframe if "Strategy" in d.value.columns)
    assert {"Strategy", "Sharpe", "Max DD %", "CAGR %"} <= set(ranking.columns)
    assert "buy-and-hold sp500" in set(ranking["Strategy"])
    downloads = {d.proto.label for d in app.get("download_button")}
    assert {"Download ranking.csv", "Download memo.html", "Download weights.csv"} <= downloads
    assert any("Not investment advice" in m.value for m in app.markdown)
    record = Workspace(aigc_home).get_run(1)
    assert record.capability == "strategy.search" and record.status == "done"
    assert record.metrics["trials"] == 4 and 0 <= record.metrics["deflated_sharpe"] <= 1


def test_page_waits_for_an_upload(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.radio(key="strategy-studio.source").set_value("Upload prices").run()
    assert not app.exception
    assert any("Upload a CSV of daily prices" in i.value for i in app.info)


def test_runner_saves_csvs_memo_and_study(aigc_home: Path) -> None:
    spec = SearchSpec(trials=3, strategies=("equal_weight", "min_variance"), train_days=252, test_days=252)
    outcome = record_search(Workspace(aigc_home), load_universe("indices"), spec)
    assert outcome is not None
    record = Workspace(aigc_home).get_run(outcome.run_id)
    assert record.status == "done"
    assert {
        "ranking.csv",
        "trials.csv",
        "equity.csv",
        "weights.csv",
        "memo.html",
        "memo.md",
        "facts.csv",
        "study.db",
    } <= set(record.artifacts)
    folder = Workspace(aigc_home).run_dir(outcome.run_id)
    assert (folder / "ranking.csv").read_text().startswith("rank,strategy,type,role,validation_score")
    assert "Not investment advice" in (folder / "memo.html").read_text()


def test_cli_search(aigc_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "strategy",
            "search",
            "--universe",
            "stocks3",
            "--trials",
            "3",
            "--strategies",
            "equal_weight,ma_trend",
            "--no-memo",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "deflated Sharpe ratio" in out and "run 1" in out and "Not investment advice" in out
    assert main(["strategy", "search", "--universe", "stocks3", "--max-weight", "0.2", "--no-memo"]) == 2
    assert "impossible constraints" in capsys.readouterr().err


def test_a_reloaded_page_finds_the_running_search_and_stops_it(app: AppTest, aigc_home: Path) -> None:
    app.switch_page(PAGE).run()
    app.selectbox(key="strategy-studio.universe").set_value("stocks3")
    app.number_input(key="strategy-studio.trials").set_value(2000)
    app.multiselect(key="strategy-studio.strategies").set_value(QUICK)
    app.checkbox(key="strategy-studio.use_model").uncheck()
    app.button(key="strategy-studio.go").click().run()
    assert app.button(key="strategy-studio.go").disabled  # one search at a time per page
    reloaded = AppTest.from_file(APP_FILE, default_timeout=60).switch_page(PAGE).run()  # a new session
    assert not reloaded.exception, reloaded.exception
    assert reloaded.button(key="strategy-studio.go").disabled
    reloaded.button(key="strategy-studio.stop").click().run()
    run_until_jobs_end(reloaded, TIMEOUT_S)
    run_until_jobs_end(app, TIMEOUT_S)
    assert any("was stopped" in w.value for w in app.warning), [w.value for w in app.warning]
    record = Workspace(aigc_home).list_runs(capability="strategy.search")[0]
    assert record.status == "cancelled" and record.job_id is not None

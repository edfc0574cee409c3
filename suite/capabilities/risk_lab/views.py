"""Widgets and views of the Risk Lab page: portfolio picker, one panel per analysis, downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from domains.finance.backtest import BacktestResult
from domains.finance.credit import CreditData, load_demo_credit, read_credit_csv
from domains.finance.data import BUILTIN_ASSETS, PricePolicy, load_prices, read_price_csv
from domains.finance.risk import MODEL_LABELS
from suite.capabilities.risk_lab.report import (
    ZONE_COLOURS,
    backtest_figure,
    calibration_figure,
    fan_figure,
    roc_figure,
    stress_figure,
)
from suite.capabilities.risk_lab.runner import (
    BacktestOutcome,
    CreditOutcome,
    Portfolio,
    ScenarioOutcome,
    StressOutcome,
    VarOutcome,
)
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.workspace import Workspace

__all__ = [
    "render_backtest",
    "render_credit",
    "render_downloads",
    "render_job_details",
    "render_portfolio",
    "render_scenarios",
    "render_stress",
    "render_var",
]

POLICY_HELP = "Nothing is fixed silently: the chosen policy is applied and reported, or the file is refused."


@st.cache_data(show_spinner=False, max_entries=16)
def _bundled(assets: tuple[str, ...], start: dt.date, end: dt.date):  # type: ignore[no-untyped-def]
    return load_prices(list(assets), start.isoformat(), end.isoformat())


@st.cache_data(show_spinner="Checking the upload…", max_entries=4)
def _uploaded(data: bytes, name: str, policy: PricePolicy):  # type: ignore[no-untyped-def]
    return read_price_csv(data, policy, name)


def render_portfolio(page_id: str) -> Portfolio | None:
    """Data source, dates, weights and value; None (with a hint) until there is valid data."""
    source = st.radio(
        "Prices", ["Bundled market data", "Upload a CSV"], horizontal=True, key=f"{page_id}.source"
    )
    if source == "Bundled market data":
        left, mid, right = st.columns([2, 1, 1])
        assets = left.multiselect(
            "Assets",
            sorted(BUILTIN_ASSETS),
            default=["sp500"],
            format_func=lambda a: f"{a} · {BUILTIN_ASSETS[a].label}",
            key=f"{page_id}.assets",
        )
        start = mid.date_input(
            "From", dt.date(1999, 1, 1), min_value=dt.date(1986, 1, 1), key=f"{page_id}.start"
        )
        end = right.date_input(
            "To", dt.date(2018, 12, 31), min_value=dt.date(1986, 1, 1), key=f"{page_id}.end"
        )
        if not assets:
            st.info("Pick at least one asset.")
            return None
        with user_errors():
            data = _bundled(tuple(assets), start, end)
    else:
        upload = st.file_uploader(
            "Prices CSV: a date column and one price column per asset", type=["csv"], key=f"{page_id}.upload"
        )
        cols = st.columns(3)
        policy = PricePolicy(
            missing=cols[0].selectbox(
                "Empty cells",
                ["error", "drop_rows", "forward_fill"],
                key=f"{page_id}.missing",
                help=POLICY_HELP,
            ),
            non_positive=cols[1].selectbox(
                "Prices ≤ 0", ["error", "drop_rows"], key=f"{page_id}.nonpos", help=POLICY_HELP
            ),
            gaps=cols[2].selectbox(
                "Gaps over 10 days", ["error", "allow"], key=f"{page_id}.gaps", help=POLICY_HELP
            ),
        )
        if upload is None:
            st.info("Upload a CSV of daily prices, e.g. `date,AAA,BBB` with one row per trading day.")
            return None
        with user_errors():
            data = _uploaded(upload.getvalue(), upload.name, policy)
    for note in data.notes:
        st.caption(f"Data note: {note}")
    weight_cols = st.columns(min(len(data.assets), 5) + 1)
    weights = {
        asset: weight_cols[i % 5].number_input(
            f"Weight {asset}", 0.0, 100.0, 1.0, 0.1, key=f"{page_id}.w.{asset}"
        )
        for i, asset in enumerate(data.assets)
    }
    value = weight_cols[-1].number_input(
        "Portfolio value", 1_000.0, 1e12, 1_000_000.0, 100_000.0, key=f"{page_id}.value"
    )
    with user_errors():
        portfolio = Portfolio(data, weights, value)
    st.caption(
        f"{len(data.prices):,} trading days, "
        f"{data.prices.index[0]:%Y-%m-%d} to {data.prices.index[-1]:%Y-%m-%d}."
    )
    return portfolio


def render_downloads(page_id: str, workspace: Workspace, run_id: int, names: list[str]) -> None:
    """A download button for the run's HTML report and each CSV."""
    record = workspace.get_run(run_id)
    columns = st.columns(len(names))
    for column, name in zip(columns, names, strict=True):
        if name not in record.artifacts:
            continue
        mime = "text/html" if name.endswith(".html") else "text/csv"
        column.download_button(
            f"Download {name}",
            workspace.artifact_path(run_id, name).read_bytes(),
            file_name=f"run{run_id}-{name}",
            mime=mime,
            key=f"{page_id}.dl.{run_id}.{name}",
            icon=":material/download:",
        )


def render_job_details(view: JobView) -> None:
    """What runs, and its latest figures, under the live progress bar."""
    progress = view.progress
    figures = ", ".join(f"{k} {v:.3f}" for k, v in progress.metrics.items()) if progress else ""
    st.caption(view.title + (f" · {figures}" if figures else ""))


def render_var(page_id: str, workspace: Workspace, outcome: VarOutcome) -> None:
    table = outcome.table.copy()
    table["VaR %"], table["ES %"] = table["var"] * 100, table["es"] * 100
    view = table.pivot_table(
        index="label", columns=["horizon", "level"], values=["VaR %", "ES %"], sort=False
    )
    view.columns = [f"{m} {h}d {lv:.0%}" for m, h, lv in view.columns]
    st.subheader(f"Run {outcome.run_id}: VaR and ES (% of portfolio value)")
    st.dataframe(view.round(3), width="stretch", key=f"{page_id}.var_table")
    render_downloads(page_id, workspace, outcome.run_id, ["var_es.csv", "report.html"])


def _zone_badge(result: BacktestResult) -> str:
    light = result.light
    return (
        f"<span style='background:{ZONE_COLOURS[light.zone]};color:white;padding:2px 8px;border-radius:4px'>"
        f"{light.zone.upper()}</span> {light.exceptions} exceptions in the last {light.days} days "
        f"(yellow from {light.yellow_from}, red from {light.red_from})"
    )


def render_backtest(page_id: str, workspace: Workspace, outcome: BacktestOutcome) -> None:
    st.subheader(f"Run {outcome.run_id}: backtest" + (" (stopped early)" if outcome.stopped else ""))
    if not outcome.results:
        st.info("Stopped before the first model made a forecast; nothing was kept.", icon=":material/pause:")
        return
    summary = outcome.summary
    st.dataframe(summary.drop(columns=["level"]), hide_index=True, width="stretch", key=f"{page_id}.bt_table")
    for result in outcome.results:
        st.markdown(
            f"**{MODEL_LABELS.get(result.model, result.model)}** · traffic light: {_zone_badge(result)}",
            unsafe_allow_html=True,
        )
        st.plotly_chart(backtest_figure(result), key=f"{page_id}.bt_chart.{result.model}")
    render_downloads(
        page_id, workspace, outcome.run_id, ["backtest_summary.csv", "backtest_forecasts.csv", "report.html"]
    )


def render_scenarios(page_id: str, workspace: Workspace, outcome: ScenarioOutcome, value: float) -> None:
    st.subheader(f"Run {outcome.run_id}: generative scenarios" + (" (stopped)" if outcome.stopped else ""))
    card = outcome.card
    assert card is not None  # set from the trained model
    st.caption(
        f"Model: {card.training.get('steps')} steps in {card.training.get('seconds')} s; "
        "held-out loss per day "
        f"{card.metrics.get('heldout_loss_per_day', float('nan')):.3f}."
    )
    if outcome.stopped:
        st.info(
            "The model as trained so far is saved in the run; the comparison with GARCH-t (stylised facts, "
            "fan charts) was skipped. Train again to see it, and to use the model for VaR.",
            icon=":material/pause:",
        )
        return
    st.plotly_chart(fan_figure(outcome.fans, value), key=f"{page_id}.fan")
    st.markdown("**Stylised facts: real vs generated vs GARCH-t**")
    st.dataframe(outcome.facts.set_index("fact").round(3), width="stretch", key=f"{page_id}.facts")
    render_downloads(
        page_id, workspace, outcome.run_id, ["stylised_facts.csv", "fan_chart.csv", "report.html"]
    )


def render_stress(page_id: str, workspace: Workspace, outcome: StressOutcome) -> None:
    report = outcome.report
    st.subheader(f"Run {outcome.run_id}: stress tests")
    if len(report.table):
        st.dataframe(
            report.table,
            hide_index=True,
            width="stretch",
            key=f"{page_id}.stress_table",
            column_config={
                c: st.column_config.NumberColumn(format="percent")
                for c in ("total_return", "max_drawdown", "worst_day", "worst_10d")
            }
            | {"pnl": st.column_config.NumberColumn(format="%.0f")},
        )
        st.plotly_chart(stress_figure(report), key=f"{page_id}.stress_chart")
    for name, why in report.skipped.items():
        st.caption(f"Skipped {name}: {why}")
    if outcome.shock is not None:
        st.markdown(
            f"**User shocks:** portfolio {outcome.shock.portfolio_return:+.2%}, P&L {outcome.shock.pnl:,.0f}"
        )
        st.dataframe(outcome.shock.table, hide_index=True, key=f"{page_id}.shock_table")
    render_downloads(page_id, workspace, outcome.run_id, ["stress_windows.csv", "shocks.csv", "report.html"])


def credit_source(page_id: str) -> Callable[[], CreditData] | None:
    """The credit data chosen: the bundled demo, or a validated upload."""
    choice = st.radio(
        "Applicants",
        ["Demo: modeldata credit_data (4,454 applicants)", "Upload a CSV"],
        horizontal=True,
        key=f"{page_id}.credit_source",
    )
    if choice.startswith("Demo"):
        return load_demo_credit
    upload = st.file_uploader(
        "Applicants CSV with a target column", type=["csv"], key=f"{page_id}.credit_upload"
    )
    left, right = st.columns(2)
    target = left.text_input("Target column", key=f"{page_id}.target")
    bad = right.text_input("Value meaning default (empty for a 0/1 target)", key=f"{page_id}.bad")
    if upload is None or not target:
        st.info("Upload a CSV and name its target column.")
        return None
    data = upload.getvalue()
    return lambda: read_credit_csv(data, target.strip(), bad.strip() or None, name=upload.name)


def render_credit(page_id: str, workspace: Workspace, outcome: CreditOutcome) -> None:
    result = outcome.result
    st.subheader(f"Run {outcome.run_id}: credit scoring")
    st.dataframe(
        result.metrics,
        hide_index=True,
        key=f"{page_id}.credit_metrics",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in ("auc", "ks", "gini", "brier")
        },
    )
    left, right = st.columns(2)
    left.plotly_chart(roc_figure(result), key=f"{page_id}.roc")
    right.plotly_chart(calibration_figure(result), key=f"{page_id}.calibration")
    st.markdown("**Held-out applicants: score and reason codes**")
    st.dataframe(result.scored.head(200), hide_index=True, width="stretch", key=f"{page_id}.scored")
    with st.expander("Scorecard (points per bin) and information values"):
        st.dataframe(result.points, hide_index=True, key=f"{page_id}.points")
        st.dataframe(pd.DataFrame({"iv": result.information_value}), key=f"{page_id}.iv")
    render_downloads(
        page_id,
        workspace,
        outcome.run_id,
        ["credit_metrics.csv", "scorecard.csv", "scored_applicants.csv", "report.html"],
    )

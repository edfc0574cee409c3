"""Risk Lab: VaR/ES with regulatory backtests, generative scenarios, stress tests and credit scoring."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from domains.finance.credit import CreditSpec
from domains.finance.risk import MODEL_LABELS, RISK_MODELS
from domains.finance.scenarios import ScenarioSpec
from suite.capabilities.risk_lab.runner import (
    ScenarioOutcome,
    record_backtest,
    record_credit,
    record_stress,
    record_var,
    scenarios_job,
    var_job,
)
from suite.capabilities.risk_lab.views import (
    credit_source,
    render_backtest,
    render_credit,
    render_job_details,
    render_portfolio,
    render_scenarios,
    render_stress,
    render_var,
)
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_outcome_message, job_panel, remember_job
from suite.resources import get_jobs, get_workspace

PAGE_ID = "risk-lab"
WHAT = {
    "var": "VaR and ES",
    "backtest": "The backtest",
    "scenarios": "Scenario training",
    "credit": "Credit scoring",
}
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Risk Lab")
st.caption(
    "Market risk the way regulators check it, generated market scenarios, stress tests and credit scores. "
    "Every analysis is a run in your workspace, with CSVs and an HTML report to download."
)
with user_errors():
    workspace = get_workspace()

# One job at a time for the whole page (VaR, backtest, scenarios, credit); each tab keeps its last result.
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
busy = view is not None and view.active
kind = view.kind if view is not None else None
if job is not None and kind is not None and not busy and state.get("collected") != job.id:
    state["collected"] = job.id  # once: a later inline VaR must not be replaced by an older job's
    if job.result is not None:
        state[kind] = job.result


def submit(what: str, target: Callable[..., object], *args: object, title: str) -> None:
    """Start one of the page's analyses as its job (the workspace goes first to every runner)."""
    remember_job(PAGE_ID, jobs.submit(PAGE_ID, what, target, workspace, *args, title=title))
    st.rerun()


with st.expander("Portfolio", expanded=True):
    portfolio = render_portfolio(PAGE_ID)

# Always there, so the tabs below keep their place (and the tab the user is on) when a job starts.
with st.container():
    if job is not None and view is not None and kind is not None:
        if view.active:
            job_panel(PAGE_ID, job, render_job_details)
        else:
            job_outcome_message(view, WHAT.get(kind, "The analysis"))
            if view.status == "done" and job.result is None and view.run_id is not None:
                st.info(
                    f"Recorded as run {view.run_id}; open it from Home for its files.",
                    icon=":material/folder_open:",
                )

var_tab, backtest_tab, scenario_tab, stress_tab, credit_tab = st.tabs(
    ["VaR / ES", "Backtest", "Scenarios", "Stress tests", "Credit"]
)
labels = MODEL_LABELS.get

with var_tab:
    left, mid, right = st.columns(3)
    models = left.multiselect(
        "Models",
        list(RISK_MODELS),
        default=list(RISK_MODELS),
        format_func=labels,
        key=f"{PAGE_ID}.var_models",
    )
    levels = mid.multiselect("Confidence", [0.95, 0.975, 0.99], default=[0.95, 0.99], key=f"{PAGE_ID}.levels")
    window = right.number_input("Estimation window (days)", 250, 5000, 1000, 50, key=f"{PAGE_ID}.window")
    horizons = st.multiselect("Horizons (days)", [1, 5, 10, 20], default=[1, 10], key=f"{PAGE_ID}.horizons")
    scenario = state.get("scenarios")
    usable = (
        isinstance(scenario, ScenarioOutcome)
        and not scenario.stopped
        and portfolio is not None
        and scenario.assets == portfolio.data.assets
    )
    use_generative = st.checkbox(
        "Add the generative model (train it in the Scenarios tab first)",
        key=f"{PAGE_ID}.use_gen",
        disabled=not usable,
    )
    if st.button(
        "Compute VaR and ES",
        type="primary",
        key=f"{PAGE_ID}.var_go",
        disabled=busy or portfolio is None or not models or not levels or not horizons,
    ):
        chosen = (portfolio, list(models), list(levels), list(horizons), int(window))
        if usable and use_generative:  # its paths take seconds: a job
            submit("var", var_job, *chosen, scenario.run_id, title=f"VaR and ES: {len(models) + 1} models")
        else:
            with user_errors(), st.spinner("Estimating…"):  # the classic models: well under a second
                state["var"] = record_var(workspace, *chosen)
    if "var" in state:
        render_var(PAGE_ID, workspace, state["var"])

with backtest_tab:
    left, mid, right = st.columns(3)
    bt_models = left.multiselect(
        "Models",
        list(MODEL_LABELS),
        default=["historical", "ewma", "fhs_garch"],
        format_func=labels,
        key=f"{PAGE_ID}.bt_models",
    )
    bt_level = mid.selectbox("Confidence", [0.99, 0.975, 0.95], key=f"{PAGE_ID}.bt_level")
    bt_window = right.number_input("Window (days)", 250, 3000, 1000, 50, key=f"{PAGE_ID}.bt_window")
    refit = st.number_input(
        "Re-estimate parameters every (days)",
        1,
        250,
        20,
        1,
        key=f"{PAGE_ID}.bt_refit",
        help="Volatility states update daily; model parameters (GARCH, Student-t) are re-fitted this often.",
    )
    if st.button(
        "Run backtest",
        type="primary",
        key=f"{PAGE_ID}.bt_go",
        disabled=portfolio is None or busy or not bt_models,
    ):
        chosen_bt = (portfolio, list(bt_models), float(bt_level), int(bt_window), int(refit))
        submit(
            "backtest",
            record_backtest,
            *chosen_bt,
            title=f"Backtest: {len(bt_models)} models at {bt_level:.1%}",
        )
    if "backtest" in state:
        render_backtest(PAGE_ID, workspace, state["backtest"])

with scenario_tab:
    left, mid, right = st.columns(3)
    seconds = left.slider("Training time (seconds)", 5, 600, 60, 5, key=f"{PAGE_ID}.sc_seconds")
    # the stylised facts compare returns over 20 days, so paths must be longer than that
    days = mid.number_input("Path length (days)", 30, 1000, 250, 10, key=f"{PAGE_ID}.sc_days")
    paths = right.number_input("Paths", 50, 5000, 500, 50, key=f"{PAGE_ID}.sc_paths")
    if st.button(
        "Train and compare", type="primary", key=f"{PAGE_ID}.sc_go", disabled=portfolio is None or busy
    ):
        chosen_sc = (portfolio, ScenarioSpec(steps=None, seconds=float(seconds)), int(days), int(paths))
        submit("scenarios", scenarios_job, *chosen_sc, title=f"Scenarios: {seconds} s of training")
    if "scenarios" in state:
        value = portfolio.value if portfolio else 1.0
        render_scenarios(PAGE_ID, workspace, state["scenarios"], value)

with stress_tab:
    st.caption("Replays the dot-com crash, 2008-09, 2011, 2015-16 and 2018 Q4 where the data cover them.")
    shocks: dict[str, float] = {}
    if portfolio is not None:
        columns = st.columns(min(len(portfolio.data.assets), 5))
        for i, asset in enumerate(portfolio.data.assets):
            shock = columns[i % 5].number_input(
                f"Shock {asset} (%)", -99.0, 500.0, 0.0, 1.0, key=f"{PAGE_ID}.shock.{asset}"
            )
            if shock:
                shocks[asset] = shock / 100
    propagate = st.checkbox(
        "Move unshocked assets with their historical betas", True, key=f"{PAGE_ID}.propagate"
    )
    if st.button("Run stress tests", type="primary", key=f"{PAGE_ID}.stress_go", disabled=portfolio is None):
        with user_errors(), st.spinner("Replaying…"):
            state["stress"] = record_stress(workspace, portfolio, shocks, propagate)
    if "stress" in state:
        render_stress(PAGE_ID, workspace, state["stress"])

with credit_tab:
    load = credit_source(PAGE_ID)
    if st.button(
        "Fit scorecard and boosting",
        type="primary",
        key=f"{PAGE_ID}.credit_go",
        disabled=busy or load is None,
    ):
        with user_errors():
            data = load()  # checked here, so a bad upload is refused before any job starts
        spec = CreditSpec(target=data.target, bad_value=data.bad_value)
        submit("credit", record_credit, data, spec, title=f"Credit scoring: {data.source}")
    if "credit" in state:
        render_credit(PAGE_ID, workspace, state["credit"])

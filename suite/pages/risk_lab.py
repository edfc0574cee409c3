"""Risk Lab: VaR/ES with regulatory backtests, generative scenarios, stress tests and credit scoring."""

from __future__ import annotations

import time

import streamlit as st

from domains.finance.credit import CreditSpec
from domains.finance.risk import MODEL_LABELS, RISK_MODELS
from domains.finance.scenarios import ScenarioSpec
from suite.components.feedback import user_errors
from suite.components.risk_lab_views import (
    credit_source,
    render_backtest,
    render_credit,
    render_job,
    render_portfolio,
    render_scenarios,
    render_stress,
    render_var,
)
from suite.jobs import BackgroundJob
from suite.resources import get_workspace
from suite.runners.risk_lab import record_backtest, record_credit, record_scenarios, record_stress, record_var

PAGE_ID = "risk-lab"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Risk Lab")
st.caption(
    "Market risk the way regulators check it, generated market scenarios, stress tests and credit scores. "
    "Every analysis is a run in your workspace, with CSVs and an HTML report to download."
)
with user_errors():
    workspace = get_workspace()


def start_job(name: str, target) -> None:  # type: ignore[no-untyped-def]
    state[name] = BackgroundJob(target, name=f"{PAGE_ID}-{name}").start()
    st.rerun()


def job_panel(name: str, render) -> None:  # type: ignore[no-untyped-def]
    """Progress and Stop while the job runs, then its result (or its error)."""
    job: BackgroundJob | None = state.get(name)
    if job is None:
        return
    if job.running:
        render_job(PAGE_ID, job, name)
        return
    snapshot = job.snapshot()
    if snapshot.status == "failed":
        st.error(f"The {name} failed: {snapshot.error}", icon=":material/error:")
    elif job.result is not None:
        render(job.result)


with st.expander("Portfolio", expanded=True):
    portfolio = render_portfolio(PAGE_ID)

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
    use_generative = st.checkbox(
        "Add the generative model (train it in the Scenarios tab first)",
        key=f"{PAGE_ID}.use_gen",
        disabled=not (
            scenario
            and scenario.result
            and portfolio
            and scenario.result.trained.model.assets == portfolio.data.assets
        ),
    )
    if st.button(
        "Compute VaR and ES",
        type="primary",
        key=f"{PAGE_ID}.var_go",
        disabled=portfolio is None or not models or not levels or not horizons,
    ):
        with user_errors(), st.spinner("Estimating…"):
            trained = scenario.result.trained if use_generative else None
            state["var"] = record_var(workspace, portfolio, models, levels, horizons, int(window), trained)
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
    busy = "backtest" in state and state["backtest"].running
    if st.button(
        "Run backtest",
        type="primary",
        key=f"{PAGE_ID}.bt_go",
        disabled=portfolio is None or busy or not bt_models,
    ):
        chosen = (portfolio, list(bt_models), float(bt_level), int(bt_window), int(refit))
        start_job(
            "backtest",
            lambda on_progress, stop: record_backtest(workspace, *chosen, on_progress=on_progress, stop=stop),
        )
    job_panel("backtest", lambda outcome: render_backtest(PAGE_ID, workspace, outcome))

with scenario_tab:
    left, mid, right = st.columns(3)
    seconds = left.slider("Training time (seconds)", 5, 600, 60, 5, key=f"{PAGE_ID}.sc_seconds")
    days = mid.number_input("Path length (days)", 20, 1000, 250, 10, key=f"{PAGE_ID}.sc_days")
    paths = right.number_input("Paths", 50, 5000, 500, 50, key=f"{PAGE_ID}.sc_paths")
    busy = "scenarios" in state and state["scenarios"].running
    if st.button(
        "Train and compare", type="primary", key=f"{PAGE_ID}.sc_go", disabled=portfolio is None or busy
    ):
        chosen_sc = (portfolio, ScenarioSpec(steps=None, seconds=float(seconds)), int(days), int(paths))
        start_job(
            "scenarios",
            lambda on_progress, stop: record_scenarios(
                workspace,
                chosen_sc[0],
                chosen_sc[1],
                chosen_sc[2],
                chosen_sc[3],
                on_progress=on_progress,
                stop=stop,
            ),
        )
    value = portfolio.value if portfolio else 1.0
    job_panel("scenarios", lambda outcome: render_scenarios(PAGE_ID, workspace, outcome, value))

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
        "Fit scorecard and boosting", type="primary", key=f"{PAGE_ID}.credit_go", disabled=load is None
    ):
        with user_errors(), st.spinner("Fitting…"):
            data = load()
            state["credit"] = record_credit(
                workspace, data, CreditSpec(target=data.target, bad_value=data.bad_value)
            )
    if "credit" in state:
        render_credit(PAGE_ID, workspace, state["credit"])

# Poll running jobs at the end, so every tab is drawn on each pass.
if any(isinstance(job, BackgroundJob) and job.running for job in state.values()):
    time.sleep(POLL_SECONDS)
    st.rerun()

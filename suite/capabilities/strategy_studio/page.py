"""Strategy Studio: search strategies walk-forward, test them on a holdout, write a fact-checked memo."""

from __future__ import annotations

import streamlit as st

from shared_models.lm import LMConfig
from suite.capabilities.strategy_studio.runner import CAPABILITY, search_job
from suite.capabilities.strategy_studio.views import (
    render_job_details,
    render_outcome,
    render_settings,
    render_universe,
)
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_outcome_message, job_panel, remember_job
from suite.components.runs import render_runs_table
from suite.resources import get_jobs, get_workspace, lm_cache_dir

PAGE_ID = "strategy-studio"
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Strategy Studio")
st.caption(
    "State a goal and constraints; the studio generates candidate strategies (allocations and trading "
    "rules), scores each by walk-forward validation with costs, tests the best on a holdout the search never "
    "saw, and writes a memo whose every number comes from the computation. Not investment advice."
)
with user_errors():
    workspace = get_workspace()

with st.expander("Universe", expanded=True):
    universe = render_universe(PAGE_ID)
with st.expander("Goal, horizon and constraints", expanded=True):
    spec = render_settings(PAGE_ID)
use_model = st.checkbox(
    "Let the language model write a commentary (checked against the fact table)",
    True,
    key=f"{PAGE_ID}.use_model",
)

jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
busy = view is not None and view.active
if st.button("Generate strategies", type="primary", key=f"{PAGE_ID}.go", disabled=universe is None or busy):
    lm_config = LMConfig.from_env(cache_dir=lm_cache_dir()) if use_model else None
    job = jobs.submit(
        PAGE_ID, "search", search_job, workspace, universe, spec, lm_config, title=f"{spec.trials} trials"
    )
    remember_job(PAGE_ID, job)
    st.rerun()

if job is not None and view is not None:
    if view.active:
        job_panel(PAGE_ID, job, render_job_details)
    else:
        job_outcome_message(view, "The search")
        if job.result is not None:
            render_outcome(PAGE_ID, workspace, job.result)
        elif view.run_id is not None:
            st.info(
                f"This search was recorded as run {view.run_id}; open it from Home for its files.",
                icon=":material/folder_open:",
            )

with st.expander("Earlier strategy runs"):
    render_runs_table(workspace.list_runs(capability=CAPABILITY, limit=20), key=f"{PAGE_ID}.runs")

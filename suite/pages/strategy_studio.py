"""Strategy Studio: search strategies walk-forward, test them on a holdout, write a fact-checked memo."""

from __future__ import annotations

import time

import streamlit as st

from suite.components.feedback import user_errors
from suite.components.runs import render_runs_table
from suite.components.strategy_views import render_job, render_outcome, render_settings, render_universe
from suite.jobs import BackgroundJob
from suite.resources import get_text_generator, get_workspace
from suite.runners.strategy import CAPABILITY, record_search

PAGE_ID = "strategy-studio"
POLL_SECONDS = 0.7
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

job: BackgroundJob | None = state.get("job")
busy = job is not None and job.running
if st.button("Generate strategies", type="primary", key=f"{PAGE_ID}.go", disabled=universe is None or busy):
    with user_errors():
        generator = get_text_generator() if use_model else None
    chosen = (universe, spec, generator)
    state["job"] = BackgroundJob(
        lambda on_progress, stop: record_search(
            workspace, chosen[0], chosen[1], chosen[2], on_progress, stop
        ),
        name=f"{PAGE_ID}-search",
    ).start()
    st.rerun()

if job is not None:
    if job.running:
        render_job(PAGE_ID, job)
    else:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            st.error(f"The search failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            render_outcome(PAGE_ID, workspace, job.result)

with st.expander("Earlier strategy runs"):
    render_runs_table(workspace.list_runs(capability=CAPABILITY, limit=20), key=f"{PAGE_ID}.runs")

if job is not None and job.running:
    time.sleep(POLL_SECONDS)
    st.rerun()

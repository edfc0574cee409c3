"""Topology: grow the stiffest part for a material budget from loads, supports and keep-outs."""

from __future__ import annotations

import time

import streamlit as st

from suite.components.feedback import user_errors
from suite.components.topology_views import render_job, render_outcome, render_settings
from suite.jobs import BackgroundJob
from suite.resources import get_workspace
from suite.runners.topology import optimize_and_record

PAGE_ID = "topology"
POLL_SECONDS = 0.5
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Topology optimisation")
st.caption(
    "Set a design space, loads, supports and keep-outs and a material budget: SIMP with optimality "
    "criteria (the 88-line method of Andreassen et al. 2011, verified against its published numbers) "
    "grows the structure; you get a watertight part to print and its check with the Part Design FE core."
)

with user_errors():
    workspace = get_workspace()

settings_col, outcome_col = st.columns([1, 2], gap="large")
with settings_col:
    with user_errors():
        problem, settings, part = render_settings(PAGE_ID)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    if st.button("Run", type="primary", key=f"{PAGE_ID}.run", disabled=busy, width="stretch"):
        with user_errors():  # every bad input is reported here, before a run or a solve starts
            settings.validate()
            problem.validate(settings.volfrac)
            part.validate()
            state["job"] = BackgroundJob(
                lambda on_progress, stop: optimize_and_record(
                    workspace, problem, settings, part, on_progress, stop
                ),
                name=f"{PAGE_ID}-run",
            ).start()
            st.rerun()

with outcome_col:
    job = state.get("job")
    if job is not None and job.running:
        render_job(PAGE_ID, job)
        time.sleep(POLL_SECONDS)
        st.rerun()
    if job is None:
        st.info(
            "Pick a problem and press **Run**. The default 60 x 20 MBB beam takes a few seconds; "
            "larger grids show a live density image while they run."
        )
        st.stop()
    snapshot = job.snapshot()
    if snapshot.status == "failed":
        st.error(f"The optimisation failed: {snapshot.error}", icon=":material/error:")
        st.stop()
    if job.result is None:
        st.stop()
    if snapshot.status == "cancelled":
        st.warning("Stopped early: the design so far was meshed and saved.", icon=":material/pause:")
    render_outcome(PAGE_ID, job.result, workspace)

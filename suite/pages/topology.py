"""Topology: grow the stiffest part for a material budget from loads, supports and keep-outs."""

from __future__ import annotations

import time

import streamlit as st

from suite.components.feedback import user_errors
from suite.components.topology_views import (
    render_job,
    render_outcome,
    render_settings,
    render_study,
    render_study_settings,
)
from suite.jobs import BackgroundJob
from suite.resources import get_workspace
from suite.runners.topology import optimize_and_record, study_and_record

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


def running(key: str) -> bool:
    job = state.get(key)
    return job is not None and job.running


settings_col, outcome_col = st.columns([1, 2], gap="large")
with settings_col:
    with user_errors():
        problem, settings, part = render_settings(PAGE_ID)
    if st.button("Run", type="primary", key=f"{PAGE_ID}.run", disabled=running("job"), width="stretch"):
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
    with st.expander("Pareto study: mass vs compliance (Optuna)"):
        spec, trials = render_study_settings(PAGE_ID, problem)
        start = st.button("Run study", key=f"{PAGE_ID}.study", disabled=spec is None or running("study"))
        if start and spec is not None:
            with user_errors():
                spec.validate()
                name = f"{spec.problem}-{spec.nelx}x{spec.nely}x{spec.nelz}-{int(time.time())}"
                state["study"] = BackgroundJob(
                    lambda on_progress, stop: study_and_record(
                        workspace, spec, trials, name, on_progress=on_progress, stop=stop
                    ),
                    name=f"{PAGE_ID}-study",
                ).start()
                st.rerun()
        study_live = state.get("study") is not None and render_study(PAGE_ID, state["study"])

with outcome_col:
    job = state.get("job")
    run_live = False
    if job is None:
        st.info(
            "Pick a problem and press **Run**. The default 60 x 20 MBB beam takes a few seconds; "
            "larger grids show a live density image while they run."
        )
    elif run_live := job.running:
        render_job(PAGE_ID, job)
    else:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            st.error(f"The optimisation failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            if snapshot.status == "cancelled":
                st.warning("Stopped early: the design so far was meshed and saved.", icon=":material/pause:")
            render_outcome(PAGE_ID, job.result, workspace)

# poll while a live view is shown (decided when it was drawn: a job that ends in between still gets
# one more run, which draws its result)
if run_live or study_live:
    time.sleep(POLL_SECONDS)
    st.rerun()

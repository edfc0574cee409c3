"""Topology: grow the stiffest part for a material budget from loads, supports and keep-outs."""

from __future__ import annotations

import time

import streamlit as st

from domains.manufacturing.topology_study import load_topology_study
from suite.capabilities.part_design.topology_handoff import render_send_button
from suite.capabilities.topology.runner import (
    TopologyOutcome,
    default_study_storage,
    optimize_and_record,
    study_and_record,
)
from suite.capabilities.topology.views import (
    render_job_details,
    render_outcome,
    render_settings,
    render_study,
    render_study_details,
    render_study_settings,
)
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_outcome_message, job_panel, remember_job
from suite.resources import get_jobs, get_workspace

PAGE_ID = "topology"

st.title("Topology optimisation")
st.caption(
    "Set a design space, loads, supports and keep-outs and a material budget: SIMP with optimality "
    "criteria (the 88-line method of Andreassen et al. 2011, verified against its published numbers) "
    "grows the structure; you get a watertight part to print and its check with the Part Design FE core."
)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)  # an optimisation or a Pareto study: one job at a time on this page
view = job.snapshot() if job is not None else None
busy = view is not None and view.active
kind = view.kind if view is not None else None

settings_col, outcome_col = st.columns([1, 2], gap="large")
with settings_col:
    with user_errors():
        problem, settings, part = render_settings(PAGE_ID)
    if st.button("Run", type="primary", key=f"{PAGE_ID}.run", disabled=busy, width="stretch"):
        with user_errors():  # every bad input is reported here, before a run or a solve starts
            settings.validate()
            problem.validate(settings.volfrac)
            part.validate()
            title = f"{problem.name} {problem.nelx} x {problem.nely}" + (
                f" x {problem.nelz}" if problem.nelz else ""
            )
            job = jobs.submit(
                PAGE_ID, "optimise", optimize_and_record, workspace, problem, settings, part, title=title
            )
            remember_job(PAGE_ID, job)
            st.rerun()
    with st.expander("Pareto study: mass vs compliance (Optuna)"):
        spec, trials = render_study_settings(PAGE_ID, problem)
        if st.button("Run study", key=f"{PAGE_ID}.study", disabled=spec is None or busy) and spec:
            with user_errors():
                spec.validate()
                name = f"{spec.problem}-{spec.nelx}x{spec.nely}x{spec.nelz}-{int(time.time())}"
                job = jobs.submit(
                    PAGE_ID, "study", study_and_record, workspace, spec, trials, name, title=name
                )
                remember_job(PAGE_ID, job)
                st.rerun()

with outcome_col:
    if job is None or view is None:
        st.info(
            "Pick a problem and press **Run**. The default 60 x 20 MBB beam took about 2 s on a 2-core "
            "test machine; larger grids show a live density image while they run."
        )
    elif view.active:
        details = render_job_details(PAGE_ID) if kind == "optimise" else render_study_details(PAGE_ID)
        job_panel(PAGE_ID, job, details)
    elif kind == "optimise":
        job_outcome_message(view, "The optimisation")
        if isinstance(job.result, TopologyOutcome):
            if view.status == "cancelled":
                st.caption("The design so far was meshed and saved.")
            render_outcome(PAGE_ID, job.result, workspace)
        elif view.run_id is not None and view.status != "failed":  # its result is gone (app restarted)
            st.info(f"This optimisation was recorded as run {view.run_id}; open it from Home for its files.")
            if "density.csv" in workspace.get_run(view.run_id).artifacts:
                render_send_button(PAGE_ID, view.run_id)
    else:
        job_outcome_message(view, "The study")
        result = job.result
        if result is None and view.run_id is not None:  # its result is gone (app restarted): reread it
            with user_errors():
                name = workspace.get_run(view.run_id).params["study"]
                result = (view.run_id, load_topology_study(default_study_storage(workspace), name))
        if result is not None:
            render_study(PAGE_ID, *result)

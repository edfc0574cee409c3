"""Part Design: search a part family for the lightest (stiffest, cheapest) design that holds."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from shared_models.exceptions import InputError
from suite.capabilities.part_design.runner import (
    PartOutcome,
    default_storage_url,
    list_part_runs,
    open_study,
    optimize_and_record,
)
from suite.capabilities.part_design.topology_handoff import render_topology_check
from suite.capabilities.part_design.views import render_job_details, render_result, render_settings
from suite.components.feedback import user_errors
from suite.components.live_job import (
    current_job,
    forget_job,
    job_outcome_message,
    job_panel,
    remember_job,
)
from suite.jobs import JobHandle, JobView
from suite.resources import get_jobs, get_workspace
from suite.workspace import Workspace

PAGE_ID = "part-design"
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Part Design")
st.caption(
    "Describe a part family, its load and its limits; the suite builds each candidate, checks it with "
    "finite elements and lets Optuna search for the best designs. Every study is a run in your workspace."
)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)  # a study or a topology check: one job at a time on this page
view = job.snapshot() if job is not None else None
busy = view is not None and view.active
kind = view.kind if view is not None else None


def finished_study(job: JobHandle, view: JobView, workspace: Workspace) -> tuple[int, str, str] | None:
    """(run, storage URL, study name) of an ended study job: from its result, else from its run."""
    result = job.result
    if isinstance(result, PartOutcome):
        return result.run_id, result.storage_url, result.result.study_name
    if view.run_id is None:
        return None  # it failed before its run opened (a bad storage, say): nothing to show
    params = workspace.get_run(view.run_id).params
    submitted = state.get("submitted")  # this session knows the URL with its password, if any
    url = submitted[0] if submitted and submitted[1] == params["study"] else params["storage"]
    return view.run_id, url, params["study"]


settings, outcome = st.columns([1, 2], gap="large")
with settings:
    spec, n_trials, study_name, storage = render_settings(PAGE_ID)
    if st.button(
        "Optimise", type="primary", key=f"{PAGE_ID}.optimise", disabled=busy or spec is None, width="stretch"
    ):
        with user_errors():
            name = study_name or f"{spec.family}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            url = storage or default_storage_url(workspace)
            if not name.isprintable() or len(name) > 120:
                raise InputError("a study name is 1 to 120 printable characters")
            job = jobs.submit(
                PAGE_ID,
                "optimise",
                optimize_and_record,
                workspace,
                spec,
                n_trials,
                name,
                url,
                title=f"{name}: {n_trials} trials",
            )
            remember_job(PAGE_ID, job)
            state["submitted"] = (url, name)
            state.pop("opened", None)
            st.rerun()

    st.divider()
    earlier = list_part_runs(workspace)
    if earlier:
        choice = st.selectbox(
            "Earlier studies",
            earlier,
            format_func=lambda r: (
                f"run {r.id} · {r.params.get('study')} · {r.metrics.get('trials', 0)} trials · {r.status}"
            ),
            key=f"{PAGE_ID}.earlier",
        )
        if st.button("Open", key=f"{PAGE_ID}.open", disabled=busy):
            state["opened"] = (choice.id, choice.params["storage"], choice.params["study"])
            forget_job(PAGE_ID)
            st.rerun()

with outcome:
    # a design sent from Topology, when there is one (or its check is the page's job)
    render_topology_check(PAGE_ID, workspace, jobs, job if kind == "check" else None, busy)
    if job is not None and view is not None and kind == "optimise":
        if view.active:
            st.subheader("Optimising…")
            job_panel(PAGE_ID, job, render_job_details)
            st.stop()
        job_outcome_message(view, "The study")
        if view.status == "cancelled":
            st.caption("The trials finished before the stop are kept and shown.")
        with user_errors():
            state["opened"] = finished_study(job, view, workspace) or state.get("opened")
    shown = state.get("opened")
    if shown is None:
        st.info(
            "Pick a family, material, load and limits, then press **Optimise**. The defaults search the "
            "family's usual parameters; the L-bracket's 30 trials took about 35 s on a 2-core test machine."
        )
        st.stop()
    run_id, url, name = shown
    with user_errors():
        result = open_study(url, name)
    render_result(PAGE_ID, result, url, run_id)

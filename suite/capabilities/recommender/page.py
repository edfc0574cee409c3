"""Recommender: compare recommenders on the MovieLens demo or your own interactions, then serve top-N
lists with reasons and personalised copy, and explore similar items."""

from __future__ import annotations

import streamlit as st

from suite.capabilities.recommender.runner import BUNDLE_ARTIFACT, list_recs_runs, metrics_table, train_job
from suite.capabilities.recommender.views import (
    render_comparison,
    render_job_details,
    render_recommend,
    render_settings,
    render_similar,
)
from suite.components.feedback import user_errors
from suite.components.live_job import (
    current_job,
    forget_job,
    job_outcome_message,
    job_panel,
    remember_job,
)
from suite.resources import get_jobs, get_workspace, open_recs_bundle

PAGE_ID = "recommender"
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Recommender")
st.caption(
    "Compare recommenders honestly on held-out data, then see each user's top-N with the items that "
    "led to it, build a new user from a few picks, and write personalised copy. Every training is a run."
)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
busy = view is not None and view.active

settings, outcome = st.columns([1, 2], gap="large")
with settings:
    upload, spec = render_settings(PAGE_ID)
    if st.button(
        "Train and compare",
        type="primary",
        key=f"{PAGE_ID}.train",
        disabled=busy or spec is None,
        width="stretch",
    ):
        data_name = "the MovieLens demo" if upload is None else upload.name
        job = jobs.submit(
            PAGE_ID,
            "train",
            train_job,
            workspace,
            spec,
            upload,
            title=f"{len(spec.models)} models on {data_name}",
        )
        remember_job(PAGE_ID, job)
        state.pop("opened", None)
        st.rerun()
    st.divider()
    earlier = list_recs_runs(workspace)
    if earlier:
        choice = st.selectbox(
            "Runs trained earlier",
            earlier,
            format_func=lambda r: f"run {r.id} · {', '.join(r.params.get('models', []))} · {r.status}",
            key=f"{PAGE_ID}.earlier",
        )
        if st.button("Open", key=f"{PAGE_ID}.open", disabled=busy):
            state["opened"] = choice.id
            forget_job(PAGE_ID)
            st.rerun()

with outcome:
    if job is not None and view is not None and view.active:
        job_panel(PAGE_ID, job, render_job_details)
        st.stop()
    run_id = state.get("opened")
    if job is not None and view is not None:
        job_outcome_message(view, "Training")
        if view.status == "failed":
            st.stop()
        result = job.result  # None after an app restart: the run on disk has everything
        run_id = result.run_id if result is not None else view.run_id
    if run_id is None:
        if view is None:
            st.info(
                "Pick data and models, then press **Train and compare**. With the defaults it took "
                "20-50 s on a busy 2-core machine (measured by the browser test)."
            )
        st.stop()
    with user_errors():
        saved = BUNDLE_ARTIFACT in workspace.get_run(run_id).artifacts
    if not saved:
        st.info(f"Run {run_id} was stopped before any model finished; nothing was kept.")
        st.stop()
    if view is not None and view.status == "cancelled":
        st.caption("The models finished before the stop were scored and saved; the one in training was not.")
    with user_errors():
        render_comparison(PAGE_ID, run_id, metrics_table(workspace, run_id))
        bundle = open_recs_bundle(str(workspace.root), run_id)
    recommend_tab, similar_tab = st.tabs(["Recommend", "Similar items"])
    with recommend_tab:
        render_recommend(PAGE_ID, run_id, bundle)
    with similar_tab:
        render_similar(PAGE_ID, bundle)

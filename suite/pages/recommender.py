"""Recommender: compare recommenders on the MovieLens demo or your own interactions, then serve top-N
lists with reasons and personalised copy, and explore similar items."""

from __future__ import annotations

import time

import streamlit as st

from suite.components.feedback import user_errors
from suite.components.recommender_views import (
    render_comparison,
    render_job,
    render_recommend,
    render_settings,
    render_similar,
)
from suite.jobs import BackgroundJob
from suite.resources import get_workspace, open_recs_bundle
from suite.runners.recommend import list_recs_runs, metrics_table, train_and_record

PAGE_ID = "recommender"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Recommender")
st.caption(
    "Compare recommenders honestly on held-out data, then see each user's top-N with the items that "
    "led to it, build a new user from a few picks, and write personalised copy. Every training is a run."
)

with user_errors():
    workspace = get_workspace()

settings, outcome = st.columns([1, 2], gap="large")
with settings:
    loader, spec = render_settings(PAGE_ID)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    ready = loader is not None and spec is not None
    if st.button(
        "Train and compare",
        type="primary",
        key=f"{PAGE_ID}.train",
        disabled=busy or not ready,
        width="stretch",
    ):
        with user_errors():
            data = loader()  # type: ignore[misc]  # checked (and cached) before the job starts
            run_spec = spec
            state["job"] = BackgroundJob(
                lambda on_progress, stop: train_and_record(workspace, data, run_spec, on_progress, stop),
                name=f"{PAGE_ID}-train",
            ).start()
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
            state.pop("job", None)
            st.rerun()

with outcome:
    job = state.get("job")
    if job is not None and job.running:
        render_job(PAGE_ID, job)
        time.sleep(POLL_SECONDS)
        st.rerun()
    run_id = None
    if job is not None:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            st.error(f"Training failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            run_id = job.result.run_id
            if snapshot.status == "cancelled":
                st.warning("Stopped early: what finished was scored and saved.", icon=":material/pause:")
    run_id = run_id or state.get("opened")
    if run_id is None:
        st.info("Pick data and models, then press **Train and compare**. The defaults take under a minute.")
        st.stop()
    with user_errors():
        render_comparison(PAGE_ID, run_id, metrics_table(workspace, run_id))
        bundle = open_recs_bundle(str(workspace.root), run_id)
    recommend_tab, similar_tab = st.tabs(["Recommend", "Similar items"])
    with recommend_tab:
        render_recommend(PAGE_ID, run_id, bundle)
    with similar_tab:
        render_similar(PAGE_ID, bundle)

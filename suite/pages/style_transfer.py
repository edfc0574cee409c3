"""Style Transfer: restyle a photo after a painting or a built-in style, watch it paint, measure it."""

from __future__ import annotations

import time

import streamlit as st

from suite.components.feedback import user_errors
from suite.components.style_views import (
    keep_region,
    pick_content,
    pick_fast_style,
    pick_style,
    render_gallery,
    render_job,
    render_result,
    render_settings,
)
from suite.jobs import BackgroundJob
from suite.resources import get_workspace
from suite.runners.style import stylise_and_record, train_and_record

PAGE_ID = "style-transfer"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Style Transfer")
st.caption(
    "Paint a photo in the manner of a painting or a built-in style: brush strokes by texture synthesis, "
    "a fast trained network, or colour only. Every result is measured and kept in your workspace."
)

with user_errors():
    workspace = get_workspace()

settings_col, outcome_col = st.columns([1, 2], gap="large")
with settings_col:
    content, content_name = pick_content(PAGE_ID)
    style, style_name = pick_style(PAGE_ID)
    settings = render_settings(PAGE_ID)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    mask = (
        keep_region(PAGE_ID, content.shape)
        if settings.method == "painterly" and content is not None
        else None
    )
    fast = None
    if settings.method == "fast" and style is not None:
        fast = pick_fast_style(PAGE_ID, workspace, style)
        budget = st.slider("Training budget (seconds)", 30, 600, 180, 30, key=f"{PAGE_ID}.train_seconds")
        if st.button("Train fast network", key=f"{PAGE_ID}.train", disabled=busy):
            train_style, train_name = style, style_name
            state["job"] = BackgroundJob(
                lambda p, s: train_and_record(workspace, train_style, train_name, p, s, seconds=budget),
                name=f"{PAGE_ID}-train",
            ).start()
            state["job_kind"] = "train"
            st.rerun()
    ready = content is not None and style is not None and (settings.method != "fast" or fast is not None)
    if st.button(
        "Stylise", type="primary", key=f"{PAGE_ID}.stylise", disabled=busy or not ready, width="stretch"
    ):
        args = (workspace, content, content_name, style, style_name, settings, mask, fast)
        state["job"] = BackgroundJob(
            lambda p, s: stylise_and_record(*args, on_progress=p, stop=s), name=f"{PAGE_ID}-stylise"
        ).start()
        state["job_kind"] = "stylise"
        state.pop("opened", None)
        st.rerun()

with outcome_col:
    job = state.get("job")
    if job is not None and job.running:
        render_job(PAGE_ID, job)
        time.sleep(POLL_SECONDS)
        st.rerun()
    run_id = state.get("opened")
    if job is not None and run_id is None:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            if job.stop_event.is_set():
                st.warning(f"Stopped: {snapshot.error}", icon=":material/pause:")
            else:
                st.error(f"Failed: {snapshot.error}", icon=":material/error:")
        elif state.get("job_kind") == "train" and job.result is not None:
            training = job.result.fast_style.card.training
            st.success(
                f"Fast network for **{job.result.fast_style.name}** ready "
                f"({training.get('total_seconds', 0):.0f} s of painting and training): press **Stylise**.",
                icon=":material/check_circle:",
            )
        elif job.result is not None:
            run_id = job.result.run_id
            if job.result.status == "cancelled":
                st.warning(
                    "Stopped early: the partial result was measured and saved.", icon=":material/pause:"
                )
    if run_id is not None:
        with user_errors():
            render_result(PAGE_ID, workspace, run_id)
    else:
        st.info(
            "Pick a photo and a style, then press **Stylise**. Painterly mode paints a 512 px image in "
            "about 10-30 s; colour and fast modes answer in about a second."
        )
    chosen = render_gallery(PAGE_ID, workspace)
    if chosen is not None:
        state["opened"] = chosen
        state.pop("job", None)
        st.rerun()

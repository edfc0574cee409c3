"""Style Transfer: restyle a photo after a painting or a built-in style, watch it paint, measure it.

Stylising and training a fast network run as jobs of the job service (one at a time per page): a
reload or another tab finds the running job, and Stop keeps the painting so far."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from suite.capabilities.style_transfer.runner import RESULT, stylise_job, train_job
from suite.capabilities.style_transfer.views import (
    keep_region,
    pick_content,
    pick_fast_style,
    pick_style,
    render_gallery,
    render_job_details,
    render_result,
    render_settings,
)
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, forget_job, job_outcome_message, job_panel, remember_job
from suite.resources import get_jobs, get_workspace

PAGE_ID = "style-transfer"
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Style Transfer")
st.caption(
    "Paint a photo in the manner of a painting or a built-in style: brush strokes by texture synthesis, "
    "a fast trained network, or colour only. Every result is measured and kept in your workspace."
)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
kind = view.kind if view is not None else None  # stylise or train
busy = view is not None and view.active


def submit(job_kind: str, title: str, target: Callable[..., object], *args: object) -> None:
    state.pop("opened", None)
    remember_job(PAGE_ID, jobs.submit(PAGE_ID, job_kind, target, workspace, *args, title=title))
    st.rerun()


settings_col, outcome_col = st.columns([1, 2], gap="large")
with settings_col:
    content, content_name = pick_content(PAGE_ID)
    style, style_name = pick_style(PAGE_ID)
    settings = render_settings(PAGE_ID)
    mask = (
        keep_region(PAGE_ID, content.shape)
        if settings.method == "painterly" and content is not None
        else None
    )
    fast_key = None
    if settings.method == "fast" and style is not None:
        fast_key = pick_fast_style(PAGE_ID, workspace, style)
        budget = st.slider("Training budget (seconds)", 30, 600, 180, 30, key=f"{PAGE_ID}.train_seconds")
        if st.button("Train fast network", key=f"{PAGE_ID}.train", disabled=busy):
            submit("train", f"fast network for {style_name}", train_job, style, style_name, float(budget))
    ready = content is not None and style is not None and (settings.method != "fast" or fast_key is not None)
    if st.button(
        "Stylise", type="primary", key=f"{PAGE_ID}.stylise", disabled=busy or not ready, width="stretch"
    ):
        title = f"{content_name} in the style of {style_name}"
        args = (content, content_name, style, style_name, settings, mask, fast_key)
        submit("stylise", title, stylise_job, *args)

with outcome_col:
    run_id = state.get("opened")
    if job is not None and view is not None and view.active:
        job_panel(PAGE_ID, job, render_job_details)
    elif job is not None and view is not None and run_id is None:
        job_outcome_message(view, "Training" if kind == "train" else "Stylising")
        if kind == "train" and job.result is not None:
            record = workspace.get_run(job.result)
            st.success(
                f"Fast network for **{record.params.get('style_name')}** ready "
                f"({record.metrics.get('train_total_seconds', 0):.0f} s of painting and training): "
                "press **Stylise**.",
                icon=":material/check_circle:",
            )
        elif kind == "train" and view.status == "cancelled":
            st.caption("A stopped training stores no network; train again with a smaller budget.")
        elif kind == "stylise":
            made = job.result.run_id if job.result is not None else view.run_id
            if made is not None and RESULT in workspace.get_run(made).artifacts:
                run_id = made
            if view.status == "cancelled" and run_id is not None:
                st.info("The painting so far was measured and saved.", icon=":material/pause:")
    if run_id is not None:
        with user_errors():
            render_result(PAGE_ID, workspace, run_id)
    elif not busy:
        st.info(
            "Pick a photo and a style, then press **Stylise**. A 512 px painterly image took 15-30 s on "
            "a 2-core machine shared with other work; colour and fast modes answer in about a second."
        )
    chosen = render_gallery(PAGE_ID, workspace)
    if chosen is not None:
        state["opened"] = chosen
        forget_job(PAGE_ID)
        st.rerun()

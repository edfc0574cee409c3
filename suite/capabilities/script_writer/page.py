"""Script Writer: from a logline to a screenplay draft, level by level (Dramatron-style), every level
editable and every item regenerable; or train a small GPT on your own scripts.

Writing, rewriting and training run as jobs of the job service (one at a time per page): a reload or
another tab finds the running job, and Stop keeps what is written."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from domains.entertainment.scripts import Draft, DraftSettings, Step
from shared_models.lm import LMConfig
from suite.capabilities.script_writer.runner import regenerate_job, train_voice_job, write_job
from suite.capabilities.script_writer.views import (
    item_label,
    regenerate_row,
    render_cast,
    render_draft_job,
    render_outline,
    render_scenes,
    render_settings_form,
    render_side_panel,
    take_job_outcome,
)
from suite.capabilities.script_writer.voice import render_voice, render_voice_job
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_panel, remember_job
from suite.resources import get_jobs, get_text_generator, get_workspace, lm_cache_dir

PAGE_ID = "script-writer"
state: dict = st.session_state.setdefault(PAGE_ID, {"draft": None, "rev": 0})
state.setdefault("draft", None)
state.setdefault("rev", 0)

st.title("Script Writer")
st.caption(
    "Logline → title and characters → outline → scenes. Each level is written by the language model as a "
    "typed structure; edit anything, regenerate any single item, download Fountain, PDF or HTML."
)
with user_errors():
    workspace = get_workspace()
    lm = get_text_generator()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
kind = view.kind if view is not None else None  # write, regenerate or voice
busy = view is not None and view.active


def submit(job_kind: str, title: str, target: Callable[..., object], *args: object) -> None:
    handle = jobs.submit(PAGE_ID, job_kind, target, workspace, *args, title=title)
    remember_job(PAGE_ID, handle)
    st.rerun()


def write_steps(draft: Draft | DraftSettings, steps: tuple[Step, ...]) -> None:
    config = LMConfig.from_env(cache_dir=lm_cache_dir())  # the worker loads the model itself
    submit("write", "write " + "+".join(steps), write_job, config, draft, steps)


def regenerate(draft: Draft, item: str) -> None:
    config = LMConfig.from_env(cache_dir=lm_cache_dir())
    submit("regenerate", f"regenerate {item}", regenerate_job, config, draft, item)


if job is not None and view is not None and not view.active:
    take_job_outcome(workspace, state, job, view, kind)


def draft_steps(levels: bool) -> None:
    """The four levels of the draft, each editable, with its regenerate and next-step buttons
    (only the logline while the model writes: an edit made then would be overwritten)."""
    draft: Draft | None = state["draft"]
    rev: int = state["rev"]
    steps, preview = st.columns([3, 2], gap="large")
    with steps:
        with st.container(border=True):
            st.subheader("1 · Logline", divider=False)
            settings = render_settings_form(PAGE_ID, draft.settings if draft else None)
            first, whole = st.columns(2)
            if first.button(
                "Write title and characters",
                key=f"{PAGE_ID}.start",
                disabled=settings is None or busy,
                icon=":material/edit:",
                width="stretch",
            ):
                write_steps(settings, ("title", "cast"))  # type: ignore[arg-type]
            if whole.button(
                "Write the whole draft",
                type="primary",
                key=f"{PAGE_ID}.write_all",
                disabled=settings is None or busy,
                icon=":material/auto_awesome:",
                width="stretch",
            ):
                write_steps(settings, ("title", "cast", "outline", "scenes"))  # type: ignore[arg-type]
        if not levels:
            return
        if draft is not None and draft.cast:
            with st.container(border=True):
                st.subheader("2 · Title and characters", divider=False)
                draft = render_cast(PAGE_ID, draft, rev)
                items = ["title", "cast", *[f"cast:{i}" for i in range(len(draft.cast))]]
                label = lambda i, d=draft: item_label(d, i)  # noqa: E731
                item, go = regenerate_row(
                    PAGE_ID, "top", items, label, "Write the outline", ":material/list:", busy
                )
                if item:
                    regenerate(draft, item)
                if go:
                    write_steps(draft, ("outline",))
        if draft is not None and draft.outline:
            with st.container(border=True):
                st.subheader("3 · Outline", divider=False)
                draft = render_outline(PAGE_ID, draft, rev)
                items = ["outline", *[f"outline:{i}" for i in range(len(draft.outline))]]
                label = lambda i, d=draft: item_label(d, i)  # noqa: E731
                item, go = regenerate_row(
                    PAGE_ID, "plan", items, label, "Write the scenes", ":material/movie:", busy
                )
                if item:
                    regenerate(draft, item)
                if go:
                    write_steps(draft, ("scenes",))
            with st.container(border=True):
                st.subheader("4 · Scenes", divider=False)
                draft, item = render_scenes(PAGE_ID, draft, rev, busy=busy)
                if item:
                    regenerate(draft, item)
        if draft is not None:
            state["draft"] = draft  # the writer's edits, kept across reruns
    with preview:
        render_side_panel(PAGE_ID, workspace, state, draft, busy)


draft_tab, voice_tab = st.tabs(["Write a draft", "Train your own voice"])
with draft_tab:
    st.caption(
        f"Model: `{lm.model_name}` ({lm.backend}, {lm.engine}). Same seed and model give the same draft."
    )
    writing = busy and job is not None and kind != "voice"
    if writing:
        job_panel(PAGE_ID, job, lambda v: render_draft_job(v, state["draft"]))  # type: ignore[arg-type]
    elif busy:
        st.caption("A voice is training (see the other tab); writing waits until it ends or is stopped.")
    draft_steps(levels=not writing)

with voice_tab:
    if busy and job is not None and kind == "voice":
        job_panel(PAGE_ID, job, render_voice_job)
    elif busy:
        st.caption("The model is writing (see the other tab); training waits until it ends or is stopped.")
    request = render_voice(PAGE_ID, workspace, state.get("draft"), busy)
    if request is not None:
        title = f"voice on {request.corpus_name}"
        submit("voice", title, train_voice_job, request.corpus, request.spec, request.corpus_name)

"""Script Writer: from a logline to a screenplay draft, level by level (Dramatron-style), every level
editable and every item regenerable; or train a small GPT on your own scripts."""

from __future__ import annotations

import time

import streamlit as st

from domains.entertainment.scripts import Draft, ScriptWriter, Step
from suite.components.feedback import user_errors
from suite.components.script_views import (
    regenerate_row,
    render_cast,
    render_live_job,
    render_outline,
    render_scenes,
    render_settings_form,
    render_side_panel,
)
from suite.components.script_voice import render_voice
from suite.jobs import BackgroundJob
from suite.resources import get_text_generator, get_workspace
from suite.runners.script_writer import (
    regenerate_and_record,
    write_and_record,
)

PAGE_ID = "script-writer"
POLL_SECONDS = 0.5
state: dict = st.session_state.setdefault(PAGE_ID, {"draft": None, "rev": 0})

st.title("Script Writer")
st.caption(
    "Logline → title and characters → outline → scenes. Each level is written by the language model as a "
    "typed structure; edit anything, regenerate any single item, download Fountain, PDF or HTML."
)
with user_errors():
    workspace = get_workspace()
    lm = get_text_generator()
writer = ScriptWriter(lm)


def start(label: str, work: object) -> None:
    state["job"] = BackgroundJob(work, name=f"{PAGE_ID}-{label}").start()  # type: ignore[arg-type]
    state["job_label"] = label
    st.rerun()


def write_steps(draft: Draft | object, steps: tuple[Step, ...]) -> None:
    start(
        "write",
        lambda on_progress, stop: write_and_record(workspace, writer, draft, steps, on_progress, stop),
    )


def regenerate(draft: Draft, item: str) -> None:
    start(
        f"regenerate {item}", lambda on_progress, stop: regenerate_and_record(workspace, writer, draft, item)
    )


def _item_label(draft: Draft, item: str) -> str:
    level, _, index = item.partition(":")
    if not index:
        return {"title": "the title", "cast": "all characters", "outline": "the whole outline"}[level]
    if level == "cast":
        return f"character: {draft.cast[int(index)].name}"
    return f"scene plan {int(index) + 1}: {draft.outline[int(index)].heading}"


draft_tab, voice_tab = st.tabs(["Write a draft", "Train your own voice"])
with draft_tab:
    job: BackgroundJob | None = state.get("job")
    if job is not None and job.running:
        render_live_job(PAGE_ID, job, state["job_label"], state["draft"])
        time.sleep(POLL_SECONDS)
        st.rerun()
    if job is not None:
        snapshot = job.snapshot()
        if snapshot.status == "failed":
            st.error(f"Writing failed: {snapshot.error}", icon=":material/error:")
        elif job.result is not None:
            state.update(draft=job.result.draft, run_id=job.result.run_id, rev=state["rev"] + 1)
            if job.result.stopped:
                st.info(
                    "Stopped: the draft so far is saved; write again to continue.", icon=":material/pause:"
                )
        state.pop("job")

    st.caption(
        f"Model: `{lm.model_name}` ({lm.backend}, {lm.engine}). Same seed and model give the same draft."
    )
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
                disabled=settings is None,
                icon=":material/edit:",
                width="stretch",
            ):
                write_steps(settings, ("title", "cast"))
            if whole.button(
                "Write the whole draft",
                type="primary",
                key=f"{PAGE_ID}.write_all",
                disabled=settings is None,
                icon=":material/auto_awesome:",
                width="stretch",
            ):
                write_steps(settings, ("title", "cast", "outline", "scenes"))
        if draft is not None and draft.cast:
            with st.container(border=True):
                st.subheader("2 · Title and characters", divider=False)
                draft = render_cast(PAGE_ID, draft, rev)
                items = ["title", "cast", *[f"cast:{i}" for i in range(len(draft.cast))]]
                item, go = regenerate_row(
                    PAGE_ID,
                    "top",
                    items,
                    lambda i: _item_label(draft, i),
                    "Write the outline",
                    ":material/list:",
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
                item, go = regenerate_row(
                    PAGE_ID,
                    "plan",
                    items,
                    lambda i: _item_label(draft, i),
                    "Write the scenes",
                    ":material/movie:",
                )
                if item:
                    regenerate(draft, item)
                if go:
                    write_steps(draft, ("scenes",))
            with st.container(border=True):
                st.subheader("4 · Scenes", divider=False)
                draft, item = render_scenes(PAGE_ID, draft, rev, busy=False)
                if item:
                    regenerate(draft, item)
        if draft is not None:
            state["draft"] = draft  # the writer's edits, kept across reruns
    with preview:
        render_side_panel(PAGE_ID, workspace, state, draft)


with voice_tab:
    render_voice(PAGE_ID, workspace, state.get("draft"))

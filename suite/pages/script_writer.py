"""Script Writer: from a logline to a screenplay draft, level by level (Dramatron-style), every level
editable and every item regenerable; or train a small GPT on your own scripts."""

from __future__ import annotations

import time

import streamlit as st

from domains.entertainment.scripts import Draft, ScriptWriter, Step
from suite.components.feedback import user_errors
from suite.components.script_views import (
    live_view,
    render_cast,
    render_downloads,
    render_outline,
    render_preview,
    render_scenes,
    render_settings_form,
)
from suite.components.script_voice import render_voice
from suite.jobs import BackgroundJob
from suite.resources import get_text_generator, get_workspace
from suite.runners.script_writer import (
    list_drafts,
    load_draft,
    regenerate_and_record,
    save_edits,
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
        snapshot = job.snapshot()
        progress = snapshot.progress
        message = progress.message if progress else f"{state['job_label']}…"
        st.progress(
            progress.fraction or 0.0 if progress else 0.0, text=f"{message} · {snapshot.elapsed_s:.0f} s"
        )
        if st.button(
            "Stop", key=f"{PAGE_ID}.stop", icon=":material/stop:", help="Ends after the current item."
        ):
            job.request_stop()
        live, preview = st.columns([3, 2])
        with live:
            live_view(snapshot.preview or state["draft"])
        with preview:
            render_preview(snapshot.preview if isinstance(snapshot.preview, Draft) else state["draft"])
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
                item = st.selectbox(
                    "Regenerate",
                    ["title", "cast", *[f"cast:{i}" for i in range(len(draft.cast))]],
                    format_func=lambda i: _item_label(draft, i),
                    key=f"{PAGE_ID}.regen_top",
                )
                left, right = st.columns(2)
                if left.button(
                    "Regenerate", key=f"{PAGE_ID}.regen_top_go", icon=":material/refresh:", width="stretch"
                ):
                    regenerate(draft, item)
                if right.button(
                    "Write the outline",
                    key=f"{PAGE_ID}.outline_go",
                    type="primary",
                    icon=":material/list:",
                    width="stretch",
                ):
                    write_steps(draft, ("outline",))
        if draft is not None and draft.outline:
            with st.container(border=True):
                st.subheader("3 · Outline", divider=False)
                draft = render_outline(PAGE_ID, draft, rev)
                item = st.selectbox(
                    "Regenerate",
                    ["outline", *[f"outline:{i}" for i in range(len(draft.outline))]],
                    format_func=lambda i: _item_label(draft, i),
                    key=f"{PAGE_ID}.regen_plan",
                )
                left, right = st.columns(2)
                if left.button(
                    "Regenerate", key=f"{PAGE_ID}.regen_plan_go", icon=":material/refresh:", width="stretch"
                ):
                    regenerate(draft, item)
                if right.button(
                    "Write the scenes",
                    key=f"{PAGE_ID}.scenes_go",
                    type="primary",
                    icon=":material/movie:",
                    width="stretch",
                ):
                    write_steps(draft, ("scenes",))
            with st.container(border=True):
                st.subheader("4 · Scenes", divider=False)
                draft, item = render_scenes(PAGE_ID, draft, rev, busy=False)
                if item:
                    regenerate(draft, item)
        if draft is not None:
            state["draft"] = draft  # the writer's edits, kept across reruns
    with preview:
        if draft is not None:
            render_downloads(PAGE_ID, draft)
            if st.button("Save this version", key=f"{PAGE_ID}.save", icon=":material/save:"):
                with user_errors():
                    state["run_id"] = save_edits(workspace, draft)
                st.toast(f"Saved as run {state['run_id']}")
            if state.get("run_id"):
                st.caption(f"Last saved as run {state['run_id']}.")
        render_preview(draft)
        saved = list_drafts(workspace)
        if saved:
            with st.expander("Reopen a saved draft", icon=":material/folder_open:"):
                record = st.selectbox(
                    "Draft",
                    saved,
                    key=f"{PAGE_ID}.reopen",
                    format_func=lambda r: (
                        f"run {r.id} · {r.params.get('action')} · {r.status} · "
                        f"{r.metrics.get('scenes_written', 0)} scenes"
                    ),
                )
                if st.button("Open", key=f"{PAGE_ID}.open"):
                    with user_errors():
                        state.update(draft=load_draft(workspace, record.id), run_id=record.id, rev=rev + 1)
                    st.rerun()


with voice_tab:
    render_voice(PAGE_ID, workspace, state.get("draft"))

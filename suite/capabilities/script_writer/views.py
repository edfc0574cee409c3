"""Script Writer's views: the settings form, the editable levels of a draft, the screenplay preview
and downloads. Each editor returns the draft with the writer's edits applied, so the page stays a
short list of steps."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from domains.entertainment.scripts import (
    CastMember,
    Draft,
    DraftSettings,
    ScenePlan,
    WrittenScene,
    scene_body_from_fountain,
    scene_problems,
    to_html,
    to_pdf,
    write,
)
from domains.entertainment.scripts.draft import MAX_LOGLINE_CHARS, TIMES_OF_DAY
from domains.entertainment.scripts.fountain import Screenplay
from shared_models.exceptions import SuiteError
from suite.capabilities.script_writer.runner import (
    DRAFT_FILE,
    list_drafts,
    load_draft,
    load_voice,
    save_edits,
)
from suite.components.feedback import user_errors
from suite.components.live_job import forget_job, job_outcome_message
from suite.jobs import JobHandle, JobView
from suite.workspace import Workspace

__all__ = [
    "item_label",
    "live_view",
    "regenerate_row",
    "render_cast",
    "render_downloads",
    "render_draft_job",
    "render_outline",
    "render_preview",
    "render_scenes",
    "render_settings_form",
    "render_side_panel",
    "take_job_outcome",
]

GENRES = ["drama", "comedy", "thriller", "romance", "science fiction", "mystery", "family"]
TONES = ["warm", "dark", "playful", "tense", "bittersweet", "hopeful"]
AUDIENCES = ["general", "family", "young adult", "adult"]
EXAMPLE_LOGLINE = (
    "A retired ferry captain must sail one last night crossing to bring her estranged son home "
    "before the harbour closes for good."
)


def render_settings_form(page_id: str, current: DraftSettings | None) -> DraftSettings | None:
    """Step 1: the logline and controls; None (with the error shown) when they are not valid."""
    base = current or DraftSettings(EXAMPLE_LOGLINE)
    logline = st.text_area(
        "Logline",
        base.logline,
        max_chars=MAX_LOGLINE_CHARS,
        height=80,
        key=f"{page_id}.logline",
        help="One or two sentences: who wants what, and what stands in the way.",
    )
    genre, tone, audience = st.columns(3)
    controls = {
        "genre": genre.selectbox("Genre", GENRES, index=_index(GENRES, base.genre), key=f"{page_id}.genre"),
        "tone": tone.selectbox("Tone", TONES, index=_index(TONES, base.tone), key=f"{page_id}.tone"),
        "audience": audience.selectbox(
            "Audience", AUDIENCES, index=_index(AUDIENCES, base.audience), key=f"{page_id}.audience"
        ),
    }
    scenes, cast, lines, seed = st.columns(4)
    controls.update(
        scenes=int(scenes.number_input("Scenes", 1, 12, base.scenes, key=f"{page_id}.scenes")),
        cast_size=int(cast.number_input("Characters", 1, 6, base.cast_size, key=f"{page_id}.cast_size")),
        lines_per_scene=int(
            lines.number_input("Lines per scene", 2, 8, base.lines_per_scene, key=f"{page_id}.lines")
        ),
        seed=int(seed.number_input("Seed", 0, 2**31 - 1, base.seed, key=f"{page_id}.seed")),
    )
    try:
        return DraftSettings(logline, **controls)
    except SuiteError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def _index(options: list[str], value: str) -> int:
    return options.index(value) if value in options else 0


def render_cast(page_id: str, draft: Draft, rev: int) -> Draft:
    """Step 2: the title and the characters, editable in place."""
    title = st.text_input("Title", draft.title, key=f"{page_id}.title.{rev}")
    frame = pd.DataFrame([{"Name": m.name, "Description": m.description} for m in draft.cast])
    edited = st.data_editor(
        frame,
        key=f"{page_id}.cast.{rev}",
        hide_index=True,
        width="stretch",
        num_rows="fixed",
        column_config={
            "Name": st.column_config.TextColumn(max_chars=24, required=True),
            "Description": st.column_config.TextColumn(max_chars=200, width="large"),
        },
    )
    cast = tuple(
        CastMember(" ".join(str(r["Name"] or "").split()), " ".join(str(r["Description"] or "").split()))
        for r in edited.to_dict("records")
    )
    if any(not m.name for m in cast) or len({m.name.upper() for m in cast}) < len(cast):
        st.warning("Every character needs a name of their own; the last valid names are kept.")
        cast = draft.cast
    return draft.replace(title=" ".join(title.split()) or draft.title, cast=cast)


def render_outline(page_id: str, draft: Draft, rev: int) -> Draft:
    """Step 3: the scene list (INT./EXT., location, time, purpose), editable in place."""
    frame = pd.DataFrame(
        [
            {"Setting": p.setting, "Location": p.location, "Time": p.time, "Purpose": p.purpose}
            for p in draft.outline
        ]
    )
    edited = st.data_editor(
        frame,
        key=f"{page_id}.outline.{rev}",
        hide_index=False,
        width="stretch",
        num_rows="fixed",
        column_config={
            "Setting": st.column_config.SelectboxColumn(
                options=["INT.", "EXT."], required=True, width="small"
            ),
            "Location": st.column_config.TextColumn(max_chars=40, required=True),
            "Time": st.column_config.SelectboxColumn(
                options=list(TIMES_OF_DAY), required=True, width="small"
            ),
            "Purpose": st.column_config.TextColumn(max_chars=200, width="large"),
        },
    )
    try:
        outline = tuple(
            ScenePlan(
                r["Setting"],
                " ".join(str(r["Location"]).split()),
                r["Time"],
                " ".join(str(r["Purpose"]).split()),
            )
            for r in edited.to_dict("records")
        )
    except (TypeError, KeyError):
        return draft
    return draft.replace(outline=outline)


def render_scenes(page_id: str, draft: Draft, rev: int, busy: bool) -> tuple[Draft, str | None]:
    """Step 4: each scene's Fountain body in an editor, its validity, and a Regenerate button.

    Returns:
        The draft with edits applied, and the item to regenerate (``"scene:I"``) if one was asked.
    """
    scenes = list(draft.scenes) + [None] * (len(draft.outline) - len(draft.scenes))
    regenerate = None
    for index, plan in enumerate(draft.outline):
        scene = scenes[index]
        label = f"{index + 1}. {plan.heading}" + ("" if scene else " (not written yet)")
        with st.expander(label, expanded=scene is not None and index < 2):
            st.caption(plan.purpose)
            if scene is not None:
                text = write(Screenplay({}, list(scene.body)))
                edited = st.text_area(
                    "Scene (Fountain)",
                    text,
                    height=260,
                    key=f"{page_id}.scene.{index}.{rev}",
                    label_visibility="collapsed",
                )
                if edited != text:
                    try:
                        scenes[index] = WrittenScene(scene_body_from_fountain(edited), scene.raw, edited=True)
                    except SuiteError as exc:
                        st.error(str(exc), icon=":material/error:")
                problems = scene_problems(plan, scenes[index].body)  # type: ignore[union-attr]
                if problems:
                    st.warning("Not valid Fountain: " + "; ".join(problems), icon=":material/warning:")
                else:
                    st.caption(":material/check: parses back to the same structure, with cues and dialogue")
            if st.button(
                "Regenerate" if scene else "Write",
                key=f"{page_id}.regen_scene.{index}",
                icon=":material/refresh:",
                disabled=busy,
            ):
                regenerate = f"scene:{index}"
    return draft.replace(scenes=tuple(scenes)), regenerate


def render_preview(draft: Draft | None) -> None:
    """The screenplay as it will print (scaled to the column)."""
    if draft is None or (not draft.outline and not draft.title):
        st.info("The screenplay appears here as it is written.", icon=":material/description:")
        return
    with st.container(height=900, border=True):
        st.html(f'<div style="zoom:0.42">{to_html(draft.to_screenplay())}</div>')


def render_downloads(page_id: str, draft: Draft) -> None:
    """Fountain, PDF and HTML downloads of the current draft (PDF and HTML built on click)."""
    play = draft.to_screenplay()
    name = "".join(c if c.isalnum() else "-" for c in (draft.title or "draft").lower()).strip("-") or "draft"
    fountain, pdf, page = st.columns(3)
    fountain.download_button(
        "Fountain",
        draft.to_fountain(),
        file_name=f"{name}.fountain",
        mime="text/plain",
        key=f"{page_id}.download_fountain",
        on_click="ignore",  # a download needs no rerun (a rerun would swallow the next click)
        icon=":material/download:",
        width="stretch",
    )
    pdf.download_button(
        "PDF",
        lambda: to_pdf(play),
        file_name=f"{name}.pdf",
        mime="application/pdf",
        key=f"{page_id}.download_pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        width="stretch",
    )
    page.download_button(
        "HTML",
        lambda: to_html(play, standalone=True),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"{page_id}.download_html",
        on_click="ignore",
        icon=":material/code:",
        width="stretch",
    )


def live_view(draft: Any) -> None:
    """A read-only view of the draft while the model writes it."""
    if not isinstance(draft, Draft):
        return
    if draft.title:
        st.markdown(f"**{draft.title}**")
    for member in draft.cast:
        st.markdown(f"- **{member.name}**: {member.description}")
    for index, plan in enumerate(draft.outline):
        done = index < len(draft.scenes) and draft.scenes[index] is not None
        st.markdown(
            f"{':material/check:' if done else ':material/pending:'} {index + 1}. "
            f"`{plan.heading}`: {plan.purpose}"
        )


def regenerate_row(
    page_id: str,
    name: str,
    items: list[str],
    label: Any,
    next_label: str,
    next_icon: str,
    busy: bool = False,
) -> tuple[str | None, bool]:
    """A "Regenerate <item>" picker with its button, and the button for the next step.

    Returns:
        The item to regenerate (None unless its button was pressed), and whether the next step was asked.
    """
    item = st.selectbox("Regenerate", items, format_func=label, key=f"{page_id}.regen_{name}")
    left, right = st.columns(2)
    regenerate = left.button(
        "Regenerate",
        key=f"{page_id}.regen_{name}_go",
        icon=":material/refresh:",
        width="stretch",
        disabled=busy,
    )
    go = right.button(
        next_label,
        key=f"{page_id}.{name}_next",
        type="primary",
        icon=next_icon,
        width="stretch",
        disabled=busy,
    )
    return (item if regenerate else None), go


def render_draft_job(view: JobView, draft: Draft | None) -> None:
    """Under the live progress bar: the item being written, token by token, and the draft as it grows.

    Args:
        view: The writing job's snapshot (its preview is the draft so far).
        draft: The draft the job started from, shown until the job reports its own.
    """
    progress = view.progress
    growing = view.preview if isinstance(view.preview, Draft) else draft
    live, preview = st.columns([3, 2])
    with live:
        if progress and progress.text:  # the item being written (JSON as the model writes it)
            st.caption(f"As the model writes it ({progress.message.rstrip('…')}):")
            st.code(progress.text[-1500:], language="json", wrap_lines=True)
        live_view(growing)
    with preview:
        render_preview(growing)


def render_side_panel(
    page_id: str, workspace: Workspace, state: dict[str, Any], draft: Draft | None, busy: bool = False
) -> None:
    """Downloads, saving the writer's edits as a run, the preview, and reopening a saved draft
    (not while a job runs: its result would replace the reopened draft)."""
    if draft is not None:
        render_downloads(page_id, draft)
        if st.button("Save this version", key=f"{page_id}.save", icon=":material/save:"):
            with user_errors():
                state["run_id"] = save_edits(workspace, draft)
            st.toast(f"Saved as run {state['run_id']}")
        if state.get("run_id"):
            st.caption(f"Last saved as run {state['run_id']}.")
    render_preview(draft)
    saved = list_drafts(workspace)
    if not saved:
        return
    with st.expander("Reopen a saved draft", icon=":material/folder_open:"):
        record = st.selectbox(
            "Draft",
            saved,
            key=f"{page_id}.reopen",
            format_func=lambda r: (
                f"run {r.id} · {r.params.get('action')} · {r.status} · "
                f"{r.metrics.get('scenes_written', 0)} scenes"
            ),
        )
        if st.button("Open", key=f"{page_id}.open", disabled=busy):
            with user_errors():
                state.update(draft=load_draft(workspace, record.id), run_id=record.id, rev=state["rev"] + 1)
            forget_job(page_id)  # the last job's outcome is not this draft's
            st.rerun()


def item_label(draft: Draft, item: str) -> str:
    """How a regenerable item reads in the picker, e.g. ``character: Anna``."""
    level, _, index = item.partition(":")
    if not index:
        return {"title": "the title", "cast": "all characters", "outline": "the whole outline"}[level]
    if level == "cast":
        return f"character: {draft.cast[int(index)].name}"
    return f"scene plan {int(index) + 1}: {draft.outline[int(index)].heading}"


def take_job_outcome(
    workspace: Workspace, state: dict[str, Any], job: JobHandle, view: JobView, kind: str | None
) -> None:
    """Say how the page's job ended and, the first time, put its draft or voice into the page.

    Args:
        workspace: Where the job's run is.
        state: The page's state (``draft``, ``rev``, ``voice``...).
        job: The ended job.
        view: Its snapshot.
        kind: ``write``, ``regenerate`` or ``voice``.
    """
    job_outcome_message(view, "Training the voice" if kind == "voice" else "Writing")
    if kind == "write" and view.status == "cancelled":
        st.info("The draft so far is kept and saved; write again to continue it.", icon=":material/pause:")
    if state.get("taken") == job.id or view.status == "failed":
        return
    state["taken"] = job.id
    result = job.result
    with user_errors():
        if kind == "voice":  # the result is the run id; the model is read back from the run
            run_id = result if result is not None else view.run_id
            if run_id is not None:
                state.update(voice=load_voice(workspace, run_id), voice_run=run_id)
        elif kind == "regenerate" and view.status == "cancelled":
            pass  # the item was abandoned: the draft is as it was
        elif result is not None:
            state.update(draft=result.draft, run_id=result.run_id, rev=state["rev"] + 1)
        elif view.run_id is not None and DRAFT_FILE in workspace.get_run(view.run_id).artifacts:
            state.update(draft=load_draft(workspace, view.run_id), run_id=view.run_id, rev=state["rev"] + 1)

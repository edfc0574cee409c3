"""Script Writer's second tab: train the small GPT on your own scripts (the page runs the training
as a job), then continue a scene in that voice."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from domains.entertainment.scripts import Draft, Element, Screenplay, write
from domains.entertainment.scripts.voice import (
    MAX_SCRIPT_CORPUS_BYTES,
    CorpusReport,
    VoiceOptions,
    check_script_corpus,
    continue_scene,
)
from shared_models.gpt_train import PRESETS, GPTTrainSpec, TrainedGPT
from suite.capabilities.script_writer.runner import list_voices, load_voice
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.workspace import Workspace

__all__ = ["TrainRequest", "render_voice", "render_voice_job"]


@dataclass(frozen=True)
class TrainRequest:
    """What the Train button asks for; the page submits it as a job."""

    corpus: CorpusReport
    spec: GPTTrainSpec
    corpus_name: str


def _scene_prompt(draft: Draft | None) -> str:
    """The last written scene of the current draft, as Fountain, to continue."""
    if draft is None:
        return "INT. KITCHEN - NIGHT\n\nANNA\n"
    for plan, scene in reversed(list(zip(draft.outline, draft.scenes, strict=False))):
        if scene is not None:
            return write(Screenplay({}, [Element("scene_heading", plan.heading), *scene.body]))
    return "INT. KITCHEN - NIGHT\n\nANNA\n"


def _train(page_id: str, busy: bool) -> TrainRequest | None:
    upload = st.file_uploader(
        f"Your scripts (.fountain or .txt, UTF-8, at most {MAX_SCRIPT_CORPUS_BYTES // 1_000_000} MB)",
        type=["fountain", "txt"],
        key=f"{page_id}.voice_corpus",
    )
    size, seconds, seed = st.columns(3)
    preset = size.selectbox("Model size", list(PRESETS), index=1, key=f"{page_id}.voice_preset")
    budget = seconds.slider("Training seconds", 5, 600, 60, 5, key=f"{page_id}.voice_seconds")
    seed_value = int(seed.number_input("Seed", 0, 2**31 - 1, 0, key=f"{page_id}.voice_seed"))
    if upload is None:
        st.info(
            "Upload scripts written in Fountain (or plain text) to learn their voice.",
            icon=":material/upload:",
        )
        return None
    with user_errors():
        corpus = check_script_corpus(upload.getvalue())
    st.caption(
        f"{corpus.characters:,} characters · {corpus.scene_headings} scene headings · "
        f"{corpus.character_cues} character cues · {corpus.dialogue_lines} speeches"
        + ("" if corpus.looks_like_scripts else " · this does not look like a screenplay, but it can train")
    )
    if st.button(
        "Train",
        type="primary",
        key=f"{page_id}.voice_train",
        icon=":material/model_training:",
        disabled=busy,
    ):
        spec = GPTTrainSpec(preset=preset, seconds=float(budget), seed=seed_value)
        return TrainRequest(corpus, spec, upload.name)
    return None


def render_voice_job(view: JobView) -> None:
    """The loss curve so far, under the live progress bar of a voice training."""
    points = [p for p in view.history if "loss" in p]
    if not points:
        return
    frame = pd.DataFrame(points).set_index("step")
    st.caption(f"Step {int(frame.index[-1])} · training loss {frame['loss'].iloc[-1]:.3f}")
    st.line_chart(frame[[c for c in ("loss", "val_loss") if c in frame]], height=200)


def render_voice(page_id: str, workspace: Workspace, draft: Draft | None, busy: bool) -> TrainRequest | None:
    """The voice tab; returns a training the user asked for (the page submits it), else None.

    Args:
        page_id: The page's id, for widget keys and its state.
        workspace: Where voices are recorded.
        draft: The current draft (its last scene is offered for continuing).
        busy: The page has a job running (Train is disabled: one job at a time per page).
    """
    state = st.session_state[page_id]
    st.markdown(
        "Train the suite's small character-level GPT on your own scripts, then let it continue a scene "
        "in their voice. It learns style and layout, not plot: expect a pastiche that improves the longer "
        "it trains."
    )
    request = _train(page_id, busy)
    earlier = list_voices(workspace)
    if earlier and "voice" not in state:
        record = st.selectbox(
            "Voices trained earlier",
            earlier,
            key=f"{page_id}.voice_earlier",
            format_func=lambda r: f"run {r.id} · {r.params.get('corpus')} · {r.status}",
        )
        if st.button("Open", key=f"{page_id}.voice_open"):
            with user_errors():
                state.update(voice=load_voice(workspace, record.id), voice_run=record.id)
            st.rerun()
    trained: TrainedGPT | None = state.get("voice")
    if trained is None:
        return request
    st.success(
        f"Voice from run {state['voice_run']}: {trained.steps} steps, "
        f"validation loss {trained.val_loss:.3f}.",
        icon=":material/check:",
    )
    scene = st.text_area(
        "Scene to continue (Fountain)", _scene_prompt(draft), height=200, key=f"{page_id}.voice_scene"
    )
    chars, temperature = st.columns(2)
    options = VoiceOptions(
        chars=int(chars.number_input("Characters to add", 20, 3000, 400, key=f"{page_id}.voice_chars")),
        temperature=temperature.slider("Temperature", 0.1, 1.5, 0.8, 0.05, key=f"{page_id}.voice_temp"),
        seed=int(st.session_state.get(f"{page_id}.voice_seed", 0)),
    )
    if st.button("Continue the scene", key=f"{page_id}.voice_continue", icon=":material/auto_awesome:"):
        with user_errors():
            state["continuation"] = continue_scene(trained, scene, options)
    result = state.get("continuation")
    if result is not None:
        if result.dropped_characters:
            st.caption(f"Characters the model never saw were skipped: {result.dropped_characters!r}")
        st.code(result.text, language=None, wrap_lines=True)
        st.download_button(
            "Download (.fountain)",
            result.text,
            file_name="continued-scene.fountain",
            mime="text/plain",
            key=f"{page_id}.voice_download",
            icon=":material/download:",
        )
    return request

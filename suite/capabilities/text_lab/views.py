"""Text Lab's second tab: train the small GPT on an uploaded corpus with a live loss curve and Stop,
then sample from it. Training is a job of the job service (a worker process), so a reload or another
tab finds it and can stop it, and only the live panel reruns while it learns. Kept out of the page
file so the page stays a short list of widgets."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from shared_models.gpt import MAX_CORPUS_BYTES, SampleOptions, check_corpus, sample
from shared_models.gpt_train import PRESETS, GPTTrainSpec, LossPoint, TrainedGPT
from suite.capabilities.text_lab.runner import load_trained_gpt, train_gpt_and_record
from suite.components.charts import style_training_curves
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_outcome_message, job_panel, remember_job
from suite.jobs import JobHandle, JobView
from suite.resources import get_jobs, get_workspace

__all__ = ["loss_figure", "render_training"]


def loss_figure(history: list[LossPoint]) -> go.Figure:
    """Training loss per step and validation loss where measured."""
    fig = go.Figure()
    fig.add_scatter(
        x=[p.step for p in history], y=[p.train_loss for p in history], name="train", mode="lines"
    )
    val = [p for p in history if p.val_loss is not None]
    fig.add_scatter(
        x=[p.step for p in val], y=[p.val_loss for p in val], name="validation", mode="lines+markers"
    )
    return style_training_curves(fig, "Loss (nats per character)", height=300)


def _history(points: list[dict[str, float]]) -> list[LossPoint]:
    return [LossPoint(int(p["step"]), 0.0, p["loss"], p.get("val_loss")) for p in points if "loss" in p]


def _render_job_details(page_id: str, view: JobView) -> None:
    """Under the live progress bar: the latest loss and speed, and the loss curve so far."""
    progress = view.progress
    if progress and "loss" in progress.metrics:
        line = f"step {progress.step} · loss {progress.metrics['loss']:.3f} · "
        st.caption(line + f"{progress.metrics.get('tokens_per_s', 0):,.0f} tokens/s")
    if view.history:
        st.plotly_chart(loss_figure(_history(view.history)), key=f"{page_id}.live_loss")


def _collect(page_id: str, job: JobHandle) -> None:
    """Once per ended job: keep its model for sampling (from memory, else from its run's files)."""
    state = st.session_state[page_id]
    if state.get("collected") == job.id:
        return
    state["collected"] = job.id
    result = job.result
    if result is not None:
        state["trained"], state["run_id"] = result.trained, result.run_id
        return
    with user_errors():
        found = load_trained_gpt(get_workspace(), job.id)
    if found is not None:
        state["run_id"], state["trained"] = found


def render_training(page_id: str) -> None:
    state = st.session_state[page_id]
    st.markdown("Upload a plain-text corpus; a character-level GPT learns to write like it.")
    upload = st.file_uploader(
        f"Corpus (.txt, UTF-8, at most {MAX_CORPUS_BYTES // 1_000_000} MB)",
        type=["txt"],
        key=f"{page_id}.corpus",
    )
    size, seconds, seed = st.columns(3)
    preset = size.selectbox(
        "Model size",
        list(PRESETS),
        index=1,
        key=f"{page_id}.preset",
        format_func=lambda p: f"{p} ({PRESETS[p]['n_layer']} layers, {PRESETS[p]['n_embd']} dims)",
    )
    budget = seconds.slider("Training seconds", 5, 600, 60, 5, key=f"{page_id}.seconds")
    seed_value = seed.number_input("Seed", 0, 2**31 - 1, 0, key=f"{page_id}.train_seed")
    jobs = get_jobs()
    job = current_job(page_id, jobs)
    view = job.snapshot() if job is not None else None
    busy = view is not None and view.active
    if upload is None and not busy:
        st.info(
            "Upload a .txt file to train on (a few hundred KB of one author works well).",
            icon=":material/upload:",
        )
    if st.button(
        "Train",
        type="primary",
        key=f"{page_id}.train",
        icon=":material/model_training:",
        disabled=busy or upload is None,
    ):
        assert upload is not None  # the button is disabled without one
        with user_errors():
            text = check_corpus(upload.getvalue())
            spec = GPTTrainSpec(preset=preset, seconds=float(budget), seed=int(seed_value))
            job = jobs.submit(
                page_id,
                "train",
                train_gpt_and_record,
                get_workspace(),
                text,
                spec,
                upload.name,
                title=f"{preset} GPT on {upload.name}",
            )
        remember_job(page_id, job)
        for key in ("trained", "run_id", "sample"):
            state.pop(key, None)
        st.rerun()
    if job is not None and view is not None:
        if view.active:
            job_panel(page_id, job, lambda live: _render_job_details(page_id, live))
            return
        job_outcome_message(view, "Training")
        _collect(page_id, job)
    trained: TrainedGPT | None = state.get("trained")
    if trained is None:
        return
    st.plotly_chart(loss_figure(trained.history), key=f"{page_id}.loss")
    status = "stopped early" if trained.stopped else "finished"
    st.success(
        f"Run {state['run_id']} {status}: {trained.steps} steps in {trained.seconds:.0f} s, validation loss "
        f"{trained.val_loss:.3f}, {trained.tokens_per_s:,.0f} tokens/s.",
        icon=":material/check:",
    )
    prompt, temp, top_k, length = st.columns([3, 1, 1, 1])
    start = prompt.text_input("Start of the text", "", key=f"{page_id}.sample_prompt")
    options = SampleOptions(
        max_new_tokens=length.number_input("Characters", 20, 2000, 300, key=f"{page_id}.sample_len"),
        temperature=temp.slider("Temperature", 0.0, 1.5, 0.8, 0.05, key=f"{page_id}.sample_temp"),
        top_k=top_k.number_input("Top-k", 0, 500, 40, key=f"{page_id}.sample_topk"),
        seed=int(seed_value),
    )
    if st.button("Sample", key=f"{page_id}.sample", icon=":material/auto_awesome:"):
        state["sample"] = sample(trained.model, trained.tokenizer, start, options).text
    if state.get("sample"):
        st.code(state["sample"], language=None, wrap_lines=True)

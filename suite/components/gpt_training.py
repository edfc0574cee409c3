"""Text Lab's second tab: train the small GPT on an uploaded corpus with a live loss curve and Stop,
then sample from it. Kept out of the page file so the page stays a short list of widgets."""

from __future__ import annotations

import time
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from shared_models.gpt import MAX_CORPUS_BYTES, SampleOptions, check_corpus, sample
from shared_models.gpt_train import PRESETS, GPTTrainSpec, LossPoint, TrainedGPT, save_gpt, train_gpt
from shared_models.progress import Progress
from suite.components.feedback import user_errors
from suite.resources import get_workspace
from suite.workspace import RunCancelled

__all__ = ["loss_figure", "render_training"]

REDRAW_EVERY_S = 0.5


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
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Loss (nats per character)",
        xaxis_title="step",
        legend={"orientation": "h"},
    )
    return fig


class _Bridge:
    """Feeds progress to the page. Clicking Stop (or any widget) makes Streamlit interrupt the script at
    its next UI call; the bridge catches that, asks the trainer to stop (returning False) so the partial
    model is kept, and the page re-raises it afterwards so Streamlit's rerun still happens."""

    def __init__(self, chart: Any, bar: Any) -> None:
        self.chart, self.bar, self.history = chart, bar, []
        self.interrupt: BaseException | None = None
        self._drawn = 0.0

    def __call__(self, p: Progress) -> bool:
        loss, val = p.metrics["loss"], p.metrics.get("val_loss")
        self.history.append(LossPoint(p.step, p.elapsed_s, loss, val))
        if time.monotonic() - self._drawn < REDRAW_EVERY_S and val is None:
            return True
        self._drawn = time.monotonic()
        speed = p.metrics.get("tokens_per_s", 0.0)
        try:
            self.bar.progress(
                p.fraction or 0.0, text=f"step {p.step} · loss {loss:.3f} · {speed:,.0f} tokens/s"
            )
            self.chart.plotly_chart(loss_figure(self.history), key=None)
        except BaseException as exc:
            if type(exc).__name__ not in {"RerunException", "StopException"}:
                raise
            self.interrupt = exc
            return False
        return True


def _train(page_id: str, data: bytes, spec: GPTTrainSpec, name: str) -> None:
    state = st.session_state[page_id]
    with user_errors():
        text = check_corpus(data)
    st.button(
        "Stop", key=f"{page_id}.stop", icon=":material/stop:", help="Ends training; the model so far is kept."
    )
    bar, chart = st.progress(0.0, text="starting…"), st.empty()
    bridge = _Bridge(chart, bar)
    params = {"corpus": name, "corpus_chars": len(text), **spec.__dict__}
    with user_errors(), get_workspace().start_run("text.train", params) as run:
        trained = train_gpt(text, spec, on_progress=bridge)
        save_gpt(trained, run.dir / "model", dataset=name)
        run.add_artifact("model")
        run.log_metrics(trained.metrics())
        state["trained"], state["run_id"] = trained, run.id
        if trained.stopped:
            raise RunCancelled(f"stopped at step {trained.steps}")
    if bridge.interrupt is not None:
        raise bridge.interrupt


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
    if upload is None:
        st.info(
            "Upload a .txt file to train on (a few hundred KB of one author works well).",
            icon=":material/upload:",
        )
    elif st.button("Train", type="primary", key=f"{page_id}.train", icon=":material/model_training:"):
        _train(
            page_id,
            upload.getvalue(),
            GPTTrainSpec(preset=preset, seconds=float(budget), seed=int(seed_value)),
            upload.name,
        )
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

"""Model Lab (images): train a GAN, cGAN, VAE or cVAE, watch it learn, then sample and measure it."""

from __future__ import annotations

import time

import streamlit as st

from domains.lab.image_lab import MODEL_KINDS, ImageLabSpec
from shared_models.datasets import DATASETS
from suite.components.feedback import user_errors
from suite.components.image_lab_views import render_job, render_model, render_settings
from suite.jobs import BackgroundJob
from suite.resources import get_image_dataset, get_workspace, open_run_model
from suite.runners.image_lab import list_trained_models, train_and_record

PAGE_ID = "model-lab"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Model Lab: image generators")
st.caption(
    "Train the suite's shared generative core on handwritten digits, shapes or your own images, "
    "then sample it and measure it. Every training is a run in your workspace."
)

with user_errors():
    workspace = get_workspace()

settings, outcome = st.columns([1, 2], gap="large")
with settings:
    spec, data_source = render_settings(PAGE_ID, sorted(DATASETS), MODEL_KINDS)
    job: BackgroundJob | None = state.get("job")
    busy = job is not None and job.running
    if st.button(
        "Train", type="primary", key=f"{PAGE_ID}.train", disabled=busy or spec is None, width="stretch"
    ):
        with user_errors():
            data = data_source() if callable(data_source) else get_image_dataset(data_source)
            run_spec: ImageLabSpec = spec  # type: ignore[assignment]
            state["job"] = BackgroundJob(
                lambda on_progress, stop: train_and_record(workspace, run_spec, data, on_progress, stop),
                name=f"{PAGE_ID}-train",
            ).start()
            state["data"] = data
            state.pop("opened", None)
            st.rerun()

    st.divider()
    earlier = list_trained_models(workspace)
    if earlier:
        choice = st.selectbox(
            "Models trained earlier",
            earlier,
            format_func=lambda r: (
                f"run {r.id} · {r.params.get('model')} on {r.params.get('dataset')} · {r.status}"
            ),
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
                st.warning(
                    "Stopped early: the partial model was measured and saved.", icon=":material/pause:"
                )
    run_id = run_id or state.get("opened")
    if run_id is None:
        st.info("Pick a dataset and a model, then press **Train**. The defaults train in about a minute.")
        st.stop()
    with user_errors():
        model, card = open_run_model(str(workspace.root), run_id)
        record = workspace.get_run(run_id)
    render_model(PAGE_ID, workspace, record, model, card)

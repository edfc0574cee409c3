"""Model Lab (images): train a GAN, cGAN, VAE or cVAE, watch it learn, then sample and measure it."""

from __future__ import annotations

import streamlit as st

from domains.lab.image_lab import MODEL_KINDS
from shared_models.datasets import DATASETS
from suite.capabilities.model_lab.runner import list_trained_models, model_run_of_job, train_job
from suite.capabilities.model_lab.views import render_job_details, render_model, render_settings
from suite.components.feedback import user_errors
from suite.components.live_job import (
    current_job,
    forget_job,
    job_outcome_message,
    job_panel,
    remember_job,
)
from suite.resources import get_jobs, get_workspace, open_run_model

PAGE_ID = "model-lab"
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Model Lab: image generators")
st.caption(
    "Train the suite's shared generative core on handwritten digits, shapes or your own images, "
    "then sample it and measure it. Every training is a run in your workspace."
)

with user_errors():
    workspace = get_workspace()

jobs = get_jobs()
job = current_job(PAGE_ID, jobs)
view = job.snapshot() if job is not None else None
busy = view is not None and view.active

settings, outcome = st.columns([1, 2], gap="large")
with settings:
    spec, data_source = render_settings(PAGE_ID, sorted(DATASETS), MODEL_KINDS)
    if st.button(
        "Train", type="primary", key=f"{PAGE_ID}.train", disabled=busy or spec is None, width="stretch"
    ):
        with user_errors():
            # a built-in set is named and loaded in the worker; an upload travels as its images
            data = data_source() if callable(data_source) else data_source
            title = f"{spec.model.upper()} on {spec.dataset}"  # type: ignore[union-attr]
            job = jobs.submit(PAGE_ID, "train", train_job, workspace, spec, data, title=title)
        remember_job(PAGE_ID, job)
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
            forget_job(PAGE_ID)
            st.rerun()

with outcome:
    run_id = state.get("opened")
    if run_id is None and job is not None and view is not None:
        if view.active:
            job_panel(PAGE_ID, job, lambda live: render_job_details(PAGE_ID, live))
        else:
            job_outcome_message(view, "Training")
            result = job.result
            # no result in memory: the app restarted, or the worker was ended after saving the model
            run_id = result.run_id if result is not None else model_run_of_job(workspace, job.id)
    if run_id is not None:
        with user_errors():
            model, card = open_run_model(str(workspace.root), run_id)
            record = workspace.get_run(run_id)
        render_model(PAGE_ID, workspace, record, model, card)
    elif not busy:
        st.info(
            "Pick a dataset and a model, then press **Train**. Measured on a 2-core machine: training "
            "runs for the time you set (60 s by default), measuring quality adds about 8 s, and the "
            "first model of each dataset also trains the quality classifier once, with its own "
            "progress (MNIST: 4 to 7 minutes)."
        )

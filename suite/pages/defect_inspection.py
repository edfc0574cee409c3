"""Defect Inspection: learn good product from images, flag and outline defects, set the false-alarm rate."""

from __future__ import annotations

import time

import streamlit as st

from domains.manufacturing.inspection.classifier import ClassifierTrainConfig
from domains.manufacturing.inspection.labelled import load_labelled_zip
from suite.components.feedback import user_errors
from suite.components.inspection_views import (
    model_label,
    pick_images_to_inspect,
    pick_training,
    render_classifier,
    render_evaluation,
    render_inspection,
    render_job,
)
from suite.jobs import BackgroundJob
from suite.resources import get_workspace, open_inspection_model
from suite.runners.inspection import classify_and_record, inspect_and_record, list_models, train_and_record

PAGE_ID = "defect-inspection"
POLL_SECONDS = 0.7
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Defect Inspection")
st.caption(
    "Show it images of good product; it learns what normal looks like, then flags and outlines defects on "
    "new images. The alarm threshold is set by the share of good parts you can afford to flag."
)

with user_errors():
    workspace = get_workspace()


def _job_view(key: str) -> BackgroundJob | None:
    """Show a running job (and keep polling), or report how a finished one ended."""
    job: BackgroundJob | None = state.get(key)
    if job is None:
        return None
    if job.running:
        render_job(PAGE_ID, job)
        return job
    snapshot = job.snapshot()
    if snapshot.status == "failed":
        st.error(f"Failed: {snapshot.error}", icon=":material/error:")
    return job


train_tab, inspect_tab, types_tab = st.tabs(["Train & evaluate", "Inspect images", "Defect types (labelled)"])
polling = False

with train_tab:
    settings_col, outcome_col = st.columns([1, 2], gap="large")
    with settings_col, user_errors():
        choice = pick_training(PAGE_ID)
        busy = state.get("job") is not None and state["job"].running
        if st.button(
            "Train inspector",
            type="primary",
            key=f"{PAGE_ID}.train",
            disabled=busy or choice.data is None,
            width="stretch",
        ):
            args = (workspace, choice.data, choice.source, choice.spec)
            state["job"] = BackgroundJob(
                lambda p, s: train_and_record(*args, on_progress=p, stop=s), name=f"{PAGE_ID}-train"
            ).start()
            state.pop("model", None)
            st.rerun()
    with outcome_col:
        job = _job_view("job")
        polling |= job is not None and job.running
        if job is not None and not job.running and job.result is not None:
            state["model"] = job.result.run_id
        models = list_models(workspace)
        if state.get("model") is None and models and not polling:
            state["model"] = models[0].id  # the newest inspector, e.g. one trained from the CLI
        if state.get("model") is not None:
            with user_errors():
                render_evaluation(PAGE_ID, workspace, state["model"])
        elif not polling:
            st.info(
                "Pick good images and a detector, then press **Train inspector**. Patch statistics train in "
                "seconds; the networks take minutes (a Stop keeps what they learned)."
            )

with inspect_tab:
    models = list_models(workspace)
    if not models:
        st.info("Train an inspector first (tab **Train & evaluate**).")
    else:
        ids = [r.id for r in models]
        default = ids.index(state["model"]) if state.get("model") in ids else 0
        record = st.selectbox(
            "Inspector",
            models,
            index=default,
            format_func=model_label,
            key=f"{PAGE_ID}.model",
        )
        with user_errors():
            inspector = open_inspection_model(str(workspace.root), record.id)
            images, names = pick_images_to_inspect(PAGE_ID, record, inspector.image_size)
        threshold = st.number_input(
            "Alarm threshold",
            value=float(inspector.image_threshold),
            format="%.4f",
            key=f"{PAGE_ID}.threshold.{record.id}",
            help="Calibrated for the chosen false-alarm rate; change it to be stricter or more lenient.",
        )
        st.caption(
            f"At this threshold {100 * inspector.false_alarm_rate_at(threshold):.1f} % of the held-out good "
            f"images fail (calibrated for {100 * inspector.false_alarm_rate:.0f} %)."
        )
        if st.button("Inspect", type="primary", key=f"{PAGE_ID}.inspect", disabled=images is None):
            with user_errors(), st.spinner("Inspecting…"):
                state["inspection"] = inspect_and_record(
                    workspace, record.id, inspector, images, names, threshold
                )
        outcome = state.get("inspection")
        if outcome is not None:
            render_inspection(PAGE_ID, workspace, outcome)

with types_tab:
    st.caption(
        "Already have labelled defect images (one folder per defect type, or names like crazing_1.jpg as in "
        "the NEU steel database)? Train a classifier that names the defect type."
    )
    upload = st.file_uploader("A zip of labelled defect images", type=["zip"], key=f"{PAGE_ID}.labelled")
    steps = st.slider("Training steps", 100, 1500, 400, 100, key=f"{PAGE_ID}.classify_steps")
    classify_busy = state.get("classify_job") is not None and state["classify_job"].running
    if st.button("Train classifier", key=f"{PAGE_ID}.classify", disabled=upload is None or classify_busy):
        with user_errors():
            data, report = load_labelled_zip(upload.getvalue())
            source = {"file": upload.name, "images": len(data.labels), "skipped": len(report.skipped)}
            state["classify_job"] = BackgroundJob(
                lambda p, s: classify_and_record(
                    workspace, data, source, ClassifierTrainConfig(steps=steps), on_progress=p, stop=s
                ),
                name=f"{PAGE_ID}-classify",
            ).start()
            st.rerun()
    classify_job = _job_view("classify_job")
    polling |= classify_job is not None and classify_job.running
    if classify_job is not None and not classify_job.running and classify_job.result is not None:
        with user_errors():
            render_classifier(PAGE_ID, workspace, classify_job.result.run_id)

if polling:
    time.sleep(POLL_SECONDS)
    st.rerun()

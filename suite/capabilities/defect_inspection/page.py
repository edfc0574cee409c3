"""Defect Inspection: learn good product from images, flag and outline defects, set the false-alarm rate."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from domains.manufacturing.inspection.classifier import ClassifierTrainConfig
from domains.manufacturing.inspection.labelled import load_labelled_zip
from suite.capabilities.defect_inspection.runner import (
    InspectOutcome,
    RecordedRun,
    classify_job,
    inspect_job,
    list_models,
    train_job,
)
from suite.capabilities.defect_inspection.views import (
    model_label,
    pick_images_to_inspect,
    pick_training,
    render_classifier,
    render_evaluation,
    render_inspection,
    render_job_details,
)
from suite.components.feedback import user_errors
from suite.components.live_job import current_job, job_outcome_message, job_panel, remember_job
from suite.resources import get_jobs, get_workspace, open_inspection_model

PAGE_ID = "defect-inspection"
WHAT = {"train": "Training", "inspect": "The inspection", "classify": "Classifier training"}
state: dict = st.session_state.setdefault(PAGE_ID, {})

st.title("Defect Inspection")
st.caption(
    "Show it images of good product; it learns what normal looks like, then flags and outlines defects on "
    "new images. The alarm threshold is set by the share of good parts you can afford to flag."
)

with user_errors():
    workspace = get_workspace()
jobs = get_jobs()
job = current_job(PAGE_ID, jobs)  # training, inspecting or classifying: one job at a time on this page
view = job.snapshot() if job is not None else None
busy = view is not None and view.active
kind = view.kind if view is not None else None


def submit(action: str, target: Callable[..., object], *args: object, title: str) -> None:
    """Start ``target`` as the page's job (its arguments go to a worker process, so plain data)."""
    remember_job(PAGE_ID, jobs.submit(PAGE_ID, action, target, *args, title=title))
    st.rerun()


# the page's job above the tabs, so whichever tab is open shows it and its Stop button; the slot is
# always there, so the tabs keep their place in the page and the open tab stays open
with st.container():
    if job is not None and view is not None:
        if view.active:
            job_panel(PAGE_ID, job, render_job_details(PAGE_ID))
        else:
            job_outcome_message(view, WHAT.get(kind or "", "The job"))
            result = job.result
            # the run the job recorded (from its result, or from the workspace after an app restart)
            run_id = result.run_id if isinstance(result, RecordedRun | InspectOutcome) else view.run_id
            saved = workspace.get_run(run_id).artifacts if run_id is not None else []
            if kind == "train" and "model" in saved:
                state["model"] = run_id
            elif kind == "train" and view.status == "cancelled":
                st.caption("No model was kept: it was stopped before the detector had learned anything.")
            if isinstance(result, InspectOutcome):
                state["inspection"] = result
            elif kind == "inspect" and "report.csv" in saved:
                st.info(f"This inspection was recorded as run {run_id}; open it from Home for its report.")
            if kind == "classify" and "classifier" in saved:
                state["classifier"] = run_id

train_tab, inspect_tab, types_tab = st.tabs(["Train & evaluate", "Inspect images", "Defect types (labelled)"])

with train_tab:
    settings_col, outcome_col = st.columns([1, 2], gap="large")
    with settings_col, user_errors():
        choice = pick_training(PAGE_ID)
        if st.button(
            "Train inspector",
            type="primary",
            key=f"{PAGE_ID}.train",
            disabled=busy or choice.data is None,
            width="stretch",
        ):
            state.pop("model", None)
            what = choice.source.get("surface") or choice.source.get("kind")
            args = (workspace, choice.recipe or choice.data, choice.source, choice.spec)
            submit("train", train_job, *args, title=f"{choice.spec.detector} on {what}")
    with outcome_col:
        models = list_models(workspace)
        if state.get("model") is None and models and not busy:
            state["model"] = models[0].id  # the newest inspector, e.g. one trained from the CLI
        if state.get("model") is not None:
            with user_errors():
                render_evaluation(PAGE_ID, workspace, state["model"])
        elif not busy:
            st.info(
                "Pick good images and a detector, then press **Train inspector**. Patch statistics on the "
                "quick benchmark took about 6 s on an idle 2-core test machine, evaluation included; the "
                "networks train for the budget you set (a Stop keeps what they learned)."
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
        if st.button("Inspect", type="primary", key=f"{PAGE_ID}.inspect", disabled=images is None or busy):
            state.pop("inspection", None)
            args = (workspace, record.id, images, names, threshold)
            submit("inspect", inspect_job, *args, title=f"{len(names)} images with run {record.id}")
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
    if st.button("Train classifier", key=f"{PAGE_ID}.classify", disabled=upload is None or busy):
        with user_errors():
            data, report = load_labelled_zip(upload.getvalue())
            source = {"file": upload.name, "images": len(data.labels), "skipped": len(report.skipped)}
            state.pop("classifier", None)
            args = (workspace, data, source, ClassifierTrainConfig(steps=steps))
            submit("classify", classify_job, *args, title=f"defect types from {upload.name}")
    if state.get("classifier") is not None:
        with user_errors():
            render_classifier(PAGE_ID, workspace, state["classifier"])

"""Widgets and views of the Defect Inspection page: training sources, live training, evaluation with a
threshold slider, batch inspection with overlays, and the supervised defect-type classifier."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from domains.manufacturing.inspection.benchmark import BenchmarkSpec
from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from domains.manufacturing.inspection.detectors import DETECTOR_TITLES
from domains.manufacturing.inspection.metrics import threshold_metrics
from domains.manufacturing.inspection.pipeline import InspectorSpec
from domains.manufacturing.inspection.surfaces import SURFACES
from domains.manufacturing.inspection.uploads import load_image_zip_for_inspection, read_image_bytes
from suite.capabilities.defect_inspection.runner import InspectOutcome, benchmark_set
from suite.components.charts import style_training_curves
from suite.jobs import JobView
from suite.resources import get_inspection_upload, get_mvtec_category
from suite.workspace import RunRecord, Workspace

__all__ = [
    "BENCHMARK_SIZES",
    "TrainingChoice",
    "model_label",
    "pick_images_to_inspect",
    "pick_training",
    "render_classifier",
    "render_evaluation",
    "render_inspection",
    "render_job_details",
]

BENCHMARK_SIZES = {  # label -> (tile side, counts): the quick one answers in seconds
    "Quick: 128 px, 60 good tiles": (
        128,
        {"n_train": 60, "n_calibration": 20, "n_test_good": 20, "n_per_defect": 4},
    ),
    "Full: 256 px, 120 good tiles": (256, {}),
}
NETWORK_DETECTORS = ("autoencoder", "draem")
UPLOAD_SIDE = 256  # uploads are resized to this square side when their sizes differ


@dataclass
class TrainingChoice:
    """What the user picked to train on; ``recipe`` rebuilds a built-in set in the job's worker (cheaper
    than sending a few hundred megabytes of tiles there)."""

    data: InspectionSet | np.ndarray | None
    source: dict[str, Any]
    spec: InspectorSpec
    recipe: BenchmarkSpec | None = None


@st.cache_data(show_spinner="Building the benchmark surface…", max_entries=4)
def _cached_benchmark(surface: str, label: str) -> InspectionSet:
    side, sizes = BENCHMARK_SIZES[label]
    return benchmark_set(surface, image_size=side, **sizes)


def _source_data(page_id: str) -> tuple[InspectionSet | np.ndarray | None, dict[str, Any]]:
    kind = st.radio(
        "Good images from",
        ("Built-in surface", "Upload (zip)", "Folder (MVTec AD layout)"),
        horizontal=True,
        key=f"{page_id}.source",
    )
    if kind == "Built-in surface":
        surface = st.selectbox(
            "Surface", list(SURFACES), format_func=lambda s: SURFACES[s].title, key=f"{page_id}.surface"
        )
        size = st.selectbox("Benchmark size", list(BENCHMARK_SIZES), key=f"{page_id}.bench_size")
        st.caption("Normal tiles to train on; a test set with seven kinds of synthetic defects to score it.")
        return _cached_benchmark(surface, size), {"kind": "built-in", "surface": surface, "size": size}
    if kind == "Upload (zip)":
        upload = st.file_uploader("A zip of good images (PNG/JPEG)", type=["zip"], key=f"{page_id}.zip")
        if upload is None:
            return None, {}
        images, names, report = get_inspection_upload(upload.getvalue(), UPLOAD_SIDE)
        if report.skipped:
            st.caption(
                f"Skipped {len(report.skipped)} file(s): "
                + "; ".join(f"{n} ({why})" for n, why in report.skipped[:5])
            )
        st.caption(f"{len(names)} good images, resized to {UPLOAD_SIDE} px.")
        return images, {"kind": "upload", "file": upload.name, "images": len(names)}
    folder = st.text_input(
        "Category folder (train/good, test/<type>, ground_truth/<type>)", key=f"{page_id}.mvtec"
    )
    if not folder:
        return None, {}
    data = get_mvtec_category(folder, UPLOAD_SIDE)
    st.caption(
        f"{len(data.train)} good training images, {len(data.test)} test images "
        f"({', '.join(data.defect_types)})."
    )
    return data, {"kind": "mvtec", "folder": folder}


def pick_training(page_id: str) -> TrainingChoice:
    """Source, detector, false-alarm rate and budget."""
    data, source = _source_data(page_id)
    detector = st.selectbox(
        "Detector", list(DETECTOR_TITLES), format_func=DETECTOR_TITLES.get, key=f"{page_id}.detector"
    )
    rate = st.slider(
        "False alarms you can afford (% of good parts flagged)",
        1.0,
        20.0,
        5.0,
        1.0,
        key=f"{page_id}.far",
        help="Sets the threshold on held-out good images; a lower rate needs more of them (19 for 5 %).",
    )
    settings: dict[str, Any] = {}
    if detector in NETWORK_DETECTORS:
        seconds = st.slider("Training budget (seconds)", 20, 900, 120, 20, key=f"{page_id}.seconds")
        settings.update(seconds=float(seconds), steps=None)
        if detector == "draem" and source.get("kind") == "built-in":
            settings["exclude_textures"] = (source["surface"],)  # its own texture is normal
    spec = InspectorSpec(detector=detector, settings=settings, false_alarm_rate=rate / 100)
    recipe = None
    if source.get("kind") == "built-in":
        side, sizes = BENCHMARK_SIZES[source["size"]]
        recipe = BenchmarkSpec(surface=source["surface"], image_size=side, **sizes)
    return TrainingChoice(data, source, spec, recipe)


def render_job_details(page_id: str) -> Callable[[JobView], None]:
    """Under the live progress bar: the training loss curve (network detectors and the classifier)."""

    def details(view: JobView) -> None:
        history = [h for h in view.history if "loss" in h]
        if len(history) > 1:
            figure = go.Figure(
                go.Scatter(x=[h["step"] for h in history], y=[h["loss"] for h in history], name="loss")
            )
            st.plotly_chart(style_training_curves(figure, "Training loss", height=220), key=f"{page_id}.live")

    return details


def _scores(workspace: Workspace, record: RunRecord) -> tuple[np.ndarray, np.ndarray] | None:
    if "scores.json" not in record.artifacts:
        return None
    data = json.loads((workspace.run_dir(record.id) / "scores.json").read_text())
    return np.asarray(data["scores"], dtype=float), np.asarray([label != GOOD for label in data["labels"]])


def _threshold_slider(page_id: str, record: RunRecord, scores: np.ndarray) -> float:
    calibrated = float(record.metrics["image_threshold"])
    low, high = float(min(scores.min(), calibrated)), float(max(scores.max(), calibrated))
    return st.slider(
        "Alarm threshold (drag to trade false alarms for missed defects)",
        low,
        high,
        calibrated,
        (high - low) / 200 or 1.0,
        format="%.4f",
        key=f"{page_id}.eval_threshold.{record.id}",
    )


def render_evaluation(page_id: str, workspace: Workspace, run_id: int) -> None:
    """A trained inspector: its figures on the labelled test set, a live threshold, examples, downloads."""
    record = workspace.get_run(run_id)
    m = record.metrics
    st.subheader(f"Inspector from run {run_id}")
    detector = record.params.get("detector", "")
    rate = 100 * record.params.get("false_alarm_rate", 0)
    st.caption(
        f"{DETECTOR_TITLES.get(detector, detector)} · trained {m.get('train_seconds', 0):.0f} s on "
        f"{m.get('train_images')} good images · threshold set on {m.get('calibration_images')} held-out ones "
        f"for {rate:.0f} % false alarms" + (" · stopped early" if record.status == "cancelled" else "")
    )
    scored = _scores(workspace, record)
    if (
        scored is None
        and record.status == "cancelled"
        and record.params.get("source", {}).get("kind")
        in (
            "built-in",
            "mvtec",
        )
    ):
        st.info(
            "Stopped early: the model trained so far was calibrated and saved, its evaluation on the test "
            "set was skipped. Inspect images in the tab **Inspect images**."
        )
        return
    if scored is None:
        st.info("Trained on good images only: there is no labelled test set to score. Inspect images below.")
        return
    cols = st.columns(3)
    cols[0].metric("Image AUROC", f"{m['image_auroc']:.3f}")
    cols[1].metric("Pixel AUROC", f"{m['pixel_auroc']:.3f}")
    cols[2].metric("PRO (FPR ≤ 0.3)", f"{m['pro']:.3f}")
    scores, defective = scored
    threshold = _threshold_slider(page_id, record, scores)
    live = threshold_metrics(scores, defective, threshold)
    cols = st.columns(3)
    cols[0].metric("Precision", "–" if np.isnan(live.precision) else f"{live.precision:.2f}")
    cols[1].metric("Recall", "–" if np.isnan(live.recall) else f"{live.recall:.2f}")
    cols[2].metric("False-alarm rate", f"{live.false_alarm_rate:.2f}")
    st.plotly_chart(_score_histogram(scores, defective, threshold), key=f"{page_id}.hist.{run_id}")
    evaluation = json.loads((workspace.run_dir(run_id) / "evaluation.json").read_text())
    st.dataframe(
        [
            {
                "defect": kind,
                "image AUROC": round(v["image_auroc"], 3),
                "pixel AUROC": round(v["pixel_auroc"], 3),
            }
            for kind, v in evaluation["per_defect"].items()
        ],
        hide_index=True,
        key=f"{page_id}.per_defect.{run_id}",
    )
    if "examples.png" in record.artifacts:
        st.image(
            str(workspace.run_dir(run_id) / "examples.png"),
            caption="Test tiles at the calibrated threshold: good ones first, then two of each defect type "
            "(green frame = pass, red = fail, boxes = outlined regions)",
        )
    cols = st.columns(2)
    for col, name, mime in zip(
        cols, ("evaluation.json", "scores.json"), ("application/json",) * 2, strict=True
    ):
        col.download_button(
            name,
            (workspace.run_dir(run_id) / name).read_bytes(),
            file_name=f"defects-run{run_id}-{name}",
            mime=mime,
            key=f"{page_id}.dl.{name}.{run_id}",
        )


def _score_histogram(scores: np.ndarray, defective: np.ndarray, threshold: float) -> go.Figure:
    figure = go.Figure()
    figure.add_histogram(x=scores[~defective], name="good", opacity=0.7, nbinsx=30)
    figure.add_histogram(x=scores[defective], name="defective", opacity=0.7, nbinsx=30)
    figure.add_vline(x=threshold, line_dash="dash", annotation_text="threshold")
    figure.update_layout(
        barmode="overlay",
        height=240,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Test image scores",
        xaxis_title="anomaly score",
    )
    return figure


def pick_images_to_inspect(
    page_id: str, record: RunRecord, image_size: tuple[int, int]
) -> tuple[np.ndarray | None, list[str]]:
    """Uploaded images (several, or a zip), or the model's own benchmark test tiles."""
    source = record.params.get("source", {})
    options = ["Upload images"]
    if source.get("kind") == "built-in":
        options.insert(0, "Benchmark test tiles")
    choice = st.radio("Images to inspect", options, horizontal=True, key=f"{page_id}.inspect_source")
    if choice == "Benchmark test tiles":
        data = _cached_benchmark(source["surface"], source["size"])
        pick = np.linspace(0, len(data.test) - 1, 12).round().astype(int)
        return data.test[pick], [f"{data.test_labels[i]}_{i}" for i in pick]
    uploads = st.file_uploader(
        "Images (PNG/JPEG), or one zip of them",
        type=["png", "jpg", "jpeg", "bmp", "zip"],
        accept_multiple_files=True,
        key=f"{page_id}.inspect_files",
    )
    if not uploads:
        return None, []
    images, names = [], []
    for upload in uploads:
        if upload.name.lower().endswith(".zip"):
            batch, batch_names, _ = load_image_zip_for_inspection(
                upload.getvalue(), resize_to=image_size, min_images=1
            )
            images.extend(batch)
            names.extend(batch_names)
        else:
            images.append(read_image_bytes(upload.getvalue(), resize_to=image_size))
            names.append(upload.name)
    return np.stack(images), names


def render_inspection(page_id: str, workspace: Workspace, outcome: InspectOutcome) -> None:
    """Verdicts of a batch: counts, a table, overlay pictures (failures first) and downloads."""
    report = outcome.report
    cols = st.columns(3)
    cols[0].metric("Inspected", len(report.verdicts))
    cols[1].metric("Failed", report.failed)
    cols[2].metric("ms per image", f"{report.ms_per_image:.0f}")
    st.dataframe(report.rows(), hide_index=True, key=f"{page_id}.report.{outcome.run_id}")
    order = sorted(range(len(report.verdicts)), key=lambda i: (report.verdicts[i].passed, -report.scores[i]))
    shown = order[:12]
    grid = st.columns(4)
    for slot, i in enumerate(shown):
        verdict = report.verdicts[i]
        label = "PASS" if verdict.passed else f"FAIL · {len(verdict.regions)} region(s)"
        grid[slot % 4].image(outcome.pictures[i], caption=f"{verdict.name}: {label}", width="stretch")
    cols = st.columns(2)
    run_dir = workspace.run_dir(outcome.run_id)
    cols[0].download_button(
        "Report (CSV)",
        (run_dir / "report.csv").read_bytes(),
        file_name=f"inspection-run{outcome.run_id}.csv",
        mime="text/csv",
        key=f"{page_id}.dl.csv",
    )
    cols[1].download_button(
        "Overlays (zip)",
        (run_dir / "overlays.zip").read_bytes(),
        file_name=f"inspection-run{outcome.run_id}-overlays.zip",
        mime="application/zip",
        key=f"{page_id}.dl.zip",
    )


def render_classifier(page_id: str, workspace: Workspace, run_id: int) -> None:
    """A trained defect-type classifier: held-out accuracy and the confusion matrix."""
    record = workspace.get_run(run_id)
    confusion = json.loads((workspace.run_dir(run_id) / "confusion.json").read_text())
    cols = st.columns(3)
    cols[0].metric("Held-out accuracy", f"{record.metrics['accuracy']:.3f}")
    cols[1].metric("Classes", record.metrics["classes"])
    cols[2].metric("Test images", record.metrics["test_images"])
    names = confusion["class_names"]
    figure = go.Figure(
        go.Heatmap(z=confusion["confusion"], x=names, y=names, colorscale="Blues", texttemplate="%{z}")
    )
    figure.update_layout(
        height=360,
        xaxis_title="predicted",
        yaxis_title="true",
        margin={"t": 30},
        title="Confusion matrix (held-out part)",
    )
    figure.update_yaxes(autorange="reversed")
    st.plotly_chart(figure, key=f"{page_id}.confusion.{run_id}")
    st.download_button(
        "Confusion matrix (JSON)",
        json.dumps(confusion).encode(),
        file_name=f"defect-classifier-run{run_id}.json",
        mime="application/json",
        key=f"{page_id}.dl.confusion",
    )


def model_label(record: RunRecord) -> str:
    """How a trained inspector reads in a picker: run, detector, what it learned."""
    source = record.params.get("source", {})
    return (
        f"run {record.id} · {record.params.get('detector')} · {source.get('surface') or source.get('kind')}"
    )

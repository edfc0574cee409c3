"""Defect Inspection as recorded runs: train (and, on labelled data, evaluate) an inspector; inspect batches.

The page and `aigc defects` both call these, so runs look the same from either:

- ``defects.train``: params (source, detector, settings, false-alarm rate), metrics (training time, the
  thresholds and, on labelled data, image/pixel AUROC, PRO, precision/recall/F1 and per-defect figures),
  artifacts ``model/`` (the inspector: safetensors + JSON), ``evaluation.json`` and ``scores.json`` (test
  scores and labels, for a live threshold slider) when there is a labelled test set, ``examples.png``.
- ``defects.inspect``: params (model run, threshold, image count), metrics (failed, ms per image),
  artifacts ``report.csv`` and ``overlays.zip`` (every image with its heat map and outlined regions).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.classifier import (
    ClassifierEvaluation,
    ClassifierTrainConfig,
    evaluate_classifier,
)
from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from domains.manufacturing.inspection.labelled import LabelledImages
from domains.manufacturing.inspection.overlay import report_csv, report_zip, to_png, verdict_image
from domains.manufacturing.inspection.pipeline import (
    Evaluation,
    InspectionReport,
    Inspector,
    InspectorSpec,
    evaluate,
    inspect_images,
    load_inspector,
    train_inspector,
)
from shared_models.exceptions import InputError, ModelError
from shared_models.images import make_grid
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import RunCancelled, RunRecord, Workspace

__all__ = [
    "CLASSIFY_CAPABILITY",
    "INSPECT_CAPABILITY",
    "TRAIN_CAPABILITY",
    "ClassifyOutcome",
    "InspectOutcome",
    "RecordedRun",
    "TrainOutcome",
    "benchmark_set",
    "classify_and_record",
    "classify_job",
    "inspect_and_record",
    "inspect_job",
    "list_models",
    "open_inspector",
    "train_and_record",
    "train_job",
    "verdict_pictures",
]

TRAIN_CAPABILITY = "defects.train"
INSPECT_CAPABILITY = "defects.inspect"
MODEL = "model"


@dataclass
class TrainOutcome:
    """What a recorded training produced."""

    run_id: int
    inspector: Inspector
    evaluation: Evaluation | None
    status: str


@dataclass
class InspectOutcome:
    """What a recorded inspection produced."""

    run_id: int
    report: InspectionReport
    pictures: list[np.ndarray]


def benchmark_set(surface: str, image_size: int = 256, seed: int = 0, **sizes: int) -> InspectionSet:
    """One category of the built-in benchmark (see `BenchmarkSpec`)."""
    return make_benchmark(BenchmarkSpec(surface=surface, image_size=image_size, seed=seed, **sizes))


def _save_inspector(run_dir: Path, inspector: Inspector) -> None:
    """Write the model folder completely under a temporary name, then rename: never half-written."""
    staging = run_dir / ".model.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    inspector.save(staging)
    os.replace(staging, run_dir / MODEL)


def verdict_pictures(images: np.ndarray, report: InspectionReport, threshold: float) -> list[np.ndarray]:
    """One overlay picture per image: heat map, outlined regions, green or red frame."""
    return [
        verdict_image(image, anomaly_map, threshold, verdict.regions, verdict.passed)
        for image, anomaly_map, verdict in zip(images, report.maps, report.verdicts, strict=True)
    ]


def _examples(
    data: InspectionSet, report: InspectionReport, inspector: Inspector, per_kind: int = 2
) -> bytes:
    """A grid of test verdicts: a few good images, then a few of each defect type."""
    labels = np.asarray(data.test_labels)
    chosen = [i for kind in [GOOD, *data.defect_types] for i in np.flatnonzero(labels == kind)[:per_kind]]
    pictures = verdict_pictures(data.test[chosen], _subset(report, chosen), inspector.image_threshold)
    stacked = np.stack(pictures).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return to_png(make_grid(torch.from_numpy(stacked), nrow=2 * per_kind, padding=4))


def _subset(report: InspectionReport, index: list[int]) -> InspectionReport:
    return InspectionReport(
        [report.verdicts[i] for i in index], report.scores[index], report.maps[index], report.ms_per_image
    )


def train_and_record(
    workspace: Workspace,
    data: InspectionSet | np.ndarray,
    source: dict[str, Any],
    spec: InspectorSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> TrainOutcome | None:
    """Train an inspector as a workspace run; evaluate it when ``data`` is a labelled `InspectionSet`.

    Args:
        data: A labelled set (built-in surface, MVTec folder), or ``(N, H, W, 3)`` good images only.
        source: How the data was chosen (surface name, upload name, folder), kept as params.
        spec: Detector, settings, false-alarm rate.

    A Stop keeps the model trained so far: it is calibrated and saved, its evaluation on the test
    set (seconds) is skipped, and the run ends as cancelled. Stopped before the detector learned
    anything it could score with (patch statistics fit in one go), the run keeps nothing and this
    returns None.
    """
    spec = (spec or InspectorSpec()).validate()
    labelled = isinstance(data, InspectionSet)
    params = {"source": source, **dataclasses.asdict(spec)}
    outcome: TrainOutcome | None = None
    with workspace.start_run(TRAIN_CAPABILITY, params) as run:
        try:
            if labelled:
                inspector = train_inspector(
                    data.train, data.calibration, spec, on_progress, stop, info=source
                )
            else:
                inspector = train_inspector(np.asarray(data), None, spec, on_progress, stop, info=source)
        except ModelError:
            if stop is not None and stop.is_set():
                raise RunCancelled("stopped before the detector learned anything; nothing was kept") from None
            raise
        _save_inspector(run.dir, inspector)
        run.add_artifact(MODEL)
        fit = inspector.fit
        metrics: dict[str, Any] = {
            "train_seconds": round(fit.seconds, 2) if fit else None,
            "train_steps": fit.steps if fit else None,
            "image_threshold": inspector.image_threshold,
            "pixel_threshold": inspector.pixel_threshold,
            "train_images": inspector.info.get("train_images"),
            "calibration_images": inspector.info.get("calibration_images"),
        }
        evaluation = None
        if labelled and not (stop is not None and stop.is_set()):
            report = inspect_images(inspector, data.test, on_progress=_scoring(on_progress), stop=stop)
            if len(report.verdicts) == len(data.test):  # a stop while scoring: no half evaluation
                if on_progress is not None:
                    on_progress(Progress(len(data.test), len(data.test), "measuring AUROC and PRO"))
                evaluation = evaluate(inspector, data, report)
                metrics.update(evaluation.as_metrics())
                run.save_json("evaluation.json", dataclasses.asdict(evaluation))
                run.save_json(
                    "scores.json", {"scores": report.scores.tolist(), "labels": list(data.test_labels)}
                )
                run.save_bytes("examples.png", _examples(data, report, inspector))
        run.log_metrics(metrics)
        stopped = (fit is not None and fit.stopped == "cancelled") or (stop is not None and stop.is_set())
        if stopped:
            why = "stopped early; the model trained so far was calibrated and saved"
            run.finish(
                "cancelled", error=why + (", its evaluation skipped" if labelled and not evaluation else "")
            )
        outcome = TrainOutcome(run.id, inspector, evaluation, "cancelled" if stopped else "done")
    return outcome


def _scoring(on_progress: ProgressCallback | None) -> ProgressCallback | None:
    """The evaluation's scoring reports, worded as such (the test set, not the user's images)."""
    if on_progress is None:
        return None

    def report(progress: Progress) -> bool | None:
        message = f"scoring the test set: {progress.step} of {progress.total} images"
        return on_progress(dataclasses.replace(progress, message=message))

    return report


@dataclass
class RecordedRun:
    """What a training job hands back to the page: the run it recorded and how it ended.

    The model itself stays in the run's files: a result holding torch tensors does not survive the
    trip from the worker process (multiprocessing shares their storage through the worker, which
    has ended by the time the page reads it).
    """

    run_id: int
    status: str


def train_job(
    workspace: Workspace,
    data: InspectionSet | np.ndarray | BenchmarkSpec,
    source: dict[str, Any],
    spec: InspectorSpec | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> RecordedRun | None:
    """`train_and_record` as a job (None: stopped before the detector learned anything).

    A built-in set comes as its `BenchmarkSpec` and is built here, in the worker.
    """
    if isinstance(data, BenchmarkSpec):
        if on_progress is not None:
            on_progress(Progress(0, None, f"building the {data.surface} benchmark ({data.image_size} px)"))
        data = make_benchmark(data)
    outcome = train_and_record(workspace, data, source, spec, on_progress, stop)
    return None if outcome is None else RecordedRun(outcome.run_id, outcome.status)


def list_models(workspace: Workspace, limit: int = 50) -> list[RunRecord]:
    """Trained inspectors (finished or stopped with a saved model), newest first."""
    records = workspace.list_runs(limit=limit, capability=TRAIN_CAPABILITY)
    return [r for r in records if MODEL in r.artifacts and r.status in ("done", "cancelled")]


def open_inspector(workspace: Workspace, run_id: int) -> Inspector:
    """The inspector a training run saved.

    Raises:
        InputError: The run is not a training run with a saved model.
    """
    record = workspace.get_run(run_id)
    if record.capability != TRAIN_CAPABILITY or MODEL not in record.artifacts:
        raise InputError(f"run {run_id} is not a defect-inspection training run with a saved model")
    return load_inspector(workspace.run_dir(run_id) / MODEL)


def inspect_and_record(
    workspace: Workspace,
    model_run_id: int,
    inspector: Inspector,
    images: np.ndarray,
    names: list[str],
    image_threshold: float | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> InspectOutcome | None:
    """Inspect a batch as a workspace run: verdicts, a CSV report and a zip of overlays.

    A stop keeps the images inspected so far (report and overlays of those) and the run ends as
    cancelled; stopped before the first batch was scored, it keeps nothing and returns None.
    """
    if len(images) == 0:
        raise InputError("there are no images to inspect")
    threshold = inspector.image_threshold if image_threshold is None else float(image_threshold)
    params = {"model_run": model_run_id, "images": len(images), "image_threshold": threshold}
    outcome: InspectOutcome | None = None
    with workspace.start_run(INSPECT_CAPABILITY, params) as run:
        report = inspect_images(inspector, images, names, threshold, on_progress, stop)
        done = len(report.verdicts)
        if done == 0:
            raise RunCancelled("stopped before the first image was inspected; nothing to keep")
        images, names = images[:done], names[:done]
        if on_progress is not None:
            on_progress(Progress(done, params["images"], "drawing the overlays"))
        pictures = verdict_pictures(images, report, threshold)
        csv_text = report_csv(report.rows())
        run.save_text("report.csv", csv_text)
        run.save_bytes("overlays.zip", report_zip(pictures, names, csv_text))
        run.log_metrics(
            {
                "failed": report.failed,
                "passed": len(images) - report.failed,
                "ms_per_image": round(report.ms_per_image, 2),
                "false_alarm_rate_at_threshold": inspector.false_alarm_rate_at(threshold),
            }
        )
        outcome = InspectOutcome(run.id, report, pictures)
        if done < params["images"]:
            run.finish(
                "cancelled", error=f"stopped after {done} of {params['images']} images; those are kept"
            )
    return outcome


def inspect_job(
    workspace: Workspace,
    model_run_id: int,
    images: np.ndarray,
    names: list[str],
    image_threshold: float | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> InspectOutcome | None:
    """`inspect_and_record` as a job: the worker loads the inspector from its training run."""
    if on_progress is not None:
        on_progress(Progress(0, len(images), f"loading the inspector of run {model_run_id}"))
    inspector = open_inspector(workspace, model_run_id)
    return inspect_and_record(
        workspace, model_run_id, inspector, images, names, image_threshold, on_progress, stop
    )


CLASSIFY_CAPABILITY = "defects.classify"


@dataclass
class ClassifyOutcome:
    """What a recorded defect-type classifier training produced."""

    run_id: int
    evaluation: ClassifierEvaluation


def classify_and_record(
    workspace: Workspace,
    data: LabelledImages,
    source: dict[str, Any],
    config: ClassifierTrainConfig | None = None,
    test_fraction: float = 0.3,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> ClassifyOutcome:
    """Train a defect-type classifier on labelled defect images with a stratified hold-out, as a run.

    Artifacts: ``classifier/`` (safetensors + card), ``confusion.json``; metrics: accuracy, counts, times.
    A stop keeps the classifier trained so far (scored on the held-out part, saved); the run ends as
    cancelled.
    """
    config = config or ClassifierTrainConfig()
    params = {"source": source, "test_fraction": test_fraction, **dataclasses.asdict(config)}
    with workspace.start_run(CLASSIFY_CAPABILITY, params) as run:
        if on_progress is not None:
            on_progress(Progress(0, config.steps, f"preparing {len(data.labels)} labelled images"))
        evaluation = evaluate_classifier(data, config, test_fraction, on_progress, stop)
        staging = run.dir / ".classifier.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        evaluation.classifier.save(staging, dataset=str(source), metrics={"accuracy": evaluation.accuracy})
        os.replace(staging, run.dir / "classifier")
        run.add_artifact("classifier")
        run.save_json(
            "confusion.json",
            {"class_names": evaluation.class_names, "confusion": evaluation.confusion.tolist()},
        )
        run.log_metrics(
            {
                "accuracy": evaluation.accuracy,
                "train_images": evaluation.train_count,
                "test_images": evaluation.test_count,
                "train_seconds": round(evaluation.train_seconds, 2),
                "ms_per_image": round(evaluation.ms_per_image, 3),
                "classes": len(evaluation.class_names),
            }
        )
        if stop is not None and stop.is_set():
            run.finish("cancelled", error="stopped early; the classifier trained so far was scored and saved")
    return ClassifyOutcome(run.id, evaluation)


def classify_job(
    workspace: Workspace,
    data: LabelledImages,
    source: dict[str, Any],
    config: ClassifierTrainConfig | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> RecordedRun:
    """`classify_and_record` as a job: the run id only (the classifier is in the run's files)."""
    outcome = classify_and_record(workspace, data, source, config, on_progress=on_progress, stop=stop)
    return RecordedRun(outcome.run_id, "cancelled" if stop is not None and stop.is_set() else "done")

"""Model Lab (images) as recorded runs: train -> evaluate -> save model, grids and curves.

The page and `aigc lab train` both call `train_and_record`, so a run from either looks the same in
the workspace: params (the spec), metrics (training and quality), and artifacts ``model/`` (store
entry: safetensors + card), ``samples.png``, ``history.json``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from domains.lab.image_lab import (
    ImageLabSpec,
    ImageModel,
    class_grid,
    evaluate,
    get_classifier,
    heldout_elbo,
    sample_grid,
    train_image_model,
)
from shared_models.datasets import ImageDataset, load_dataset
from shared_models.exceptions import InputError
from shared_models.images import to_png
from shared_models.metrics import ClassifierStoppedError
from shared_models.progress import Progress, ProgressCallback, should_stop
from shared_models.store import ModelCard, load_model, save_model
from shared_models.vae import VAE
from suite.workspace import Run, RunRecord, Workspace

__all__ = [
    "CAPABILITY",
    "NOT_MEASURED",
    "LabOutcome",
    "builtin_image_size",
    "list_trained_models",
    "model_run_of_job",
    "open_model",
    "train_and_record",
    "train_job",
]

CAPABILITY = "lab.train"
MODEL_ARTIFACT = "model"
EVAL_SAMPLES = 1000
NOT_MEASURED = "the partial model and its samples were saved; a stopped model is not measured"


@dataclass
class LabOutcome:
    """What a recorded training produced."""

    run_id: int
    model: ImageModel
    card: ModelCard
    metrics: dict[str, float | int | str | None]
    history: list[dict[str, float]]


def _quality_metrics(
    model: ImageModel,
    data: ImageDataset,
    store_root: Path,
    temperature: float,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
) -> dict[str, float | int | None] | None:
    """The quality metrics, or None when a stop came first (each phase reports what it does)."""
    if should_stop(Progress(0, None, "measuring quality: loading the quality classifier"), on_progress, stop):
        return None
    try:
        classifier, accuracy = get_classifier(data, store_root, on_progress, stop)
    except ClassifierStoppedError:
        return None
    message = f"measuring quality: {EVAL_SAMPLES} samples against held-out images"
    if should_stop(Progress(0, None, message), on_progress, stop):
        return None
    quality = evaluate(model, data, classifier, accuracy, samples=EVAL_SAMPLES, temperature=temperature)
    metrics: dict[str, float | int | None] = {k: v for k, v in quality.as_dict().items()}
    metrics["temperature"] = temperature
    if isinstance(model, VAE):
        if should_stop(Progress(0, None, "measuring quality: held-out ELBO"), on_progress, stop):
            return None
        metrics["test_elbo_nats"] = heldout_elbo(model, data)
    return metrics


def train_and_record(
    workspace: Workspace,
    spec: ImageLabSpec,
    data: ImageDataset,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    temperature: float = 1.0,
) -> LabOutcome:
    """Train a model as a workspace run, save everything a user can download, then measure it.

    The model, its sample grid and its curves are saved as soon as training ends, before the quality
    measurement (seconds, or minutes when the dataset's classifier is trained on first use). A stopped
    training keeps the partial model and is not measured; a stop during the measurement keeps the
    complete model unmeasured. Either way the run ends as cancelled. A failure marks the run failed
    and keeps whatever artifacts were complete.
    """
    if len(data) < spec.batch_size:
        raise InputError(f"the dataset has {len(data)} images, fewer than one batch of {spec.batch_size}")
    params = {**asdict(spec), "dataset": data.name, "images": len(data), "image_size": data.image_size}
    with workspace.start_run(CAPABILITY, params) as run:
        trained = train_image_model(spec, data, on_progress=on_progress, stop=stop)
        result = trained.result
        metrics: dict[str, float | int | str | None] = {
            "steps": result.steps,
            "train_seconds": round(result.seconds, 2),
            "images_per_s": round(result.examples_per_s, 1),
            "stopped_by": result.stopped,
            **{f"final_{k}": v for k, v in result.history[-1].items() if k not in ("step", "seconds")},
        }
        if on_progress is not None:
            on_progress(Progress(result.steps, result.steps, "saving the model and its samples"))
        trained.card.metrics = {k: v for k, v in metrics.items() if v is not None}
        _save_artifacts(run, trained.model, trained.card, result.history)
        run.log_metrics(metrics)
        if result.stopped == "cancelled":
            run.finish("cancelled", error=f"stopped at step {result.steps}; {NOT_MEASURED}")
            return LabOutcome(run.id, trained.model, trained.card, metrics, result.history)
        quality = _quality_metrics(
            trained.model, data, workspace.root / "models", temperature, on_progress, stop
        )
        if quality is None:
            run.finish(
                "cancelled",
                error="stopped while measuring quality; the complete model was saved, not measured",
            )
            return LabOutcome(run.id, trained.model, trained.card, metrics, result.history)
        metrics.update(quality)
        trained.card.metrics = {k: v for k, v in metrics.items() if v is not None}
        save_model(run.dir / MODEL_ARTIFACT, trained.model, trained.card)  # the card with its metrics
        run.log_metrics(quality)
    return LabOutcome(run.id, trained.model, trained.card, metrics, result.history)


def train_job(
    workspace: Workspace,
    spec: ImageLabSpec,
    data: ImageDataset | str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> LabOutcome | None:
    """`train_and_record` as a job: a built-in dataset is named and loaded here, in the worker.

    Returns None when stopped before training began.
    """
    if isinstance(data, str):
        if should_stop(Progress(0, None, f"loading the {data} images"), on_progress, stop):
            return None
        data = load_dataset(data, image_size=builtin_image_size(data))
    return train_and_record(workspace, spec, data, on_progress, stop)


def builtin_image_size(name: str) -> int:
    """The size the suite trains a built-in dataset at (the shapes are drawn in colour at 32 px)."""
    return 32 if name == "shapes" else 28


def _save_artifacts(run: Run, model: ImageModel, card: ModelCard, history: list[dict[str, float]]) -> None:
    save_model(run.dir / MODEL_ARTIFACT, model, card)
    run.add_artifact(MODEL_ARTIFACT)
    grid = class_grid(model, per_class=8) if model.num_classes else sample_grid(model, n=64)
    run.save_bytes("samples.png", to_png(grid, scale=2))
    run.save_json("history.json", history)


def list_trained_models(workspace: Workspace, limit: int = 50) -> list[RunRecord]:
    """Runs of this capability that left a model (done, or stopped with a partial model)."""
    records = workspace.list_runs(limit=limit, capability=CAPABILITY)
    return [r for r in records if MODEL_ARTIFACT in r.artifacts and r.status in ("done", "cancelled")]


def model_run_of_job(workspace: Workspace, job_id: int) -> int | None:
    """The run in which a job saved its model (when its result is not in memory: app restarted, or
    the worker was ended after saving), or None."""
    for record in workspace.list_runs(limit=20, capability=CAPABILITY):
        if record.job_id == job_id and MODEL_ARTIFACT in record.artifacts:
            return record.id
    return None


def open_model(workspace: Workspace, run_id: int) -> tuple[ImageModel, ModelCard]:
    """Load the model a run saved (no retraining).

    Raises:
        InputError: The run saved no model.
        ModelError: The saved model is damaged.
    """
    record = workspace.get_run(run_id)
    if MODEL_ARTIFACT not in record.artifacts:
        raise InputError(f"run {run_id} ({record.capability}, {record.status}) saved no model")
    model, card = load_model(workspace.run_dir(run_id) / MODEL_ARTIFACT)
    return model, card  # type: ignore[return-value]

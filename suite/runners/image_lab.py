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
from shared_models.datasets import ImageDataset
from shared_models.exceptions import InputError
from shared_models.images import to_png
from shared_models.progress import Progress, ProgressCallback
from shared_models.store import ModelCard, load_model, save_model
from shared_models.vae import VAE
from suite.workspace import Run, RunRecord, Workspace

__all__ = ["CAPABILITY", "LabOutcome", "list_trained_models", "open_model", "train_and_record"]

CAPABILITY = "lab.train"
MODEL_ARTIFACT = "model"
EVAL_SAMPLES = 1000


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
) -> dict[str, float | int | None]:
    if on_progress is not None:
        on_progress(
            Progress(step=0, total=None, message="measuring quality (first use trains the classifier)")
        )
    classifier, accuracy = get_classifier(data, store_root)
    quality = evaluate(model, data, classifier, accuracy, samples=EVAL_SAMPLES, temperature=temperature)
    metrics: dict[str, float | int | None] = {k: v for k, v in quality.as_dict().items()}
    metrics["temperature"] = temperature
    if isinstance(model, VAE):
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
    """Train a model as a workspace run, measure it and save everything a user can download.

    A stopped training still evaluates and saves the partial model; the run then ends as cancelled.
    A failure marks the run failed and keeps whatever artifacts were complete.
    """
    if len(data) < spec.batch_size:
        raise InputError(f"the dataset has {len(data)} images, fewer than one batch of {spec.batch_size}")
    params = {**asdict(spec), "dataset": data.name, "images": len(data), "image_size": data.image_size}
    with workspace.start_run(CAPABILITY, params) as run:
        trained = train_image_model(spec, data, on_progress=on_progress, stop=stop)
        metrics: dict[str, float | int | str | None] = {
            "steps": trained.result.steps,
            "train_seconds": round(trained.result.seconds, 2),
            "images_per_s": round(trained.result.examples_per_s, 1),
            "stopped_by": trained.result.stopped,
            **{
                f"final_{k}": v for k, v in trained.result.history[-1].items() if k not in ("step", "seconds")
            },
        }
        metrics.update(
            _quality_metrics(trained.model, data, workspace.root / "models", temperature, on_progress)
        )
        trained.card.metrics = {k: v for k, v in metrics.items() if v is not None}
        _save_artifacts(run, trained.model, trained.card, trained.result.history)
        run.log_metrics(metrics)
        if trained.result.stopped == "cancelled":
            run.finish(
                "cancelled", error=f"stopped at step {trained.result.steps}; the partial model was saved"
            )
    return LabOutcome(run.id, trained.model, trained.card, metrics, trained.result.history)


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

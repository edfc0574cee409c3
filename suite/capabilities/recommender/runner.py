"""The Recommender as recorded runs (shared by the page and `aigc recs`).

A run's params are the data description and the `CompareSpec`; its metrics the headline figures per
model and protocol; its artifacts ``metrics.csv`` (the comparison table), ``bundle/`` (every trained
model, JSON + safetensors, no pickle) and ``data.json`` (what the loader kept). A stopped run keeps
what finished and ends as cancelled.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace

import pandas as pd

from domains.services.recommend import (
    CompareSpec,
    Comparison,
    Interactions,
    RecommenderBundle,
    compare_models,
    load_bundle,
    load_demo,
    save_bundle,
)
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import RunCancelled, RunRecord, Workspace

__all__ = [
    "BUNDLE_ARTIFACT",
    "CAPABILITY",
    "RecsOutcome",
    "list_recs_runs",
    "metrics_table",
    "open_bundle",
    "train_and_record",
    "train_job",
]

CAPABILITY = "recs.train"
BUNDLE_ARTIFACT = "bundle"


@dataclass
class RecsOutcome:
    """A recorded comparison: its run id, the table and the serving bundle (None when nothing fitted,
    and in a job's result: the models stay in the run's folder, see `train_job`)."""

    run_id: int
    table: pd.DataFrame
    bundle: RecommenderBundle | None
    stopped: bool


def _flat_metrics(comparison: Comparison) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for score in comparison.scores:
        for key, value in {**score.metrics, "train_s": score.train_seconds}.items():
            metrics[f"{score.model}.{score.protocol}.{key}"] = round(float(value), 5)
    return metrics


def train_and_record(
    workspace: Workspace,
    data: Interactions,
    spec: CompareSpec,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> RecsOutcome:
    """Compare models on ``data`` as a workspace run and save everything serving needs."""
    params = {"data": data.name, **data.notes, **asdict(spec)}
    with workspace.start_run(CAPABILITY, params) as run:
        comparison = compare_models(data, spec, on_progress, stop)
        table = comparison.table()
        run.save_text("metrics.csv", table.to_csv(index=False))
        run.log_metrics(_flat_metrics(comparison))
        bundle = None
        if comparison.models and comparison.explainer is not None:
            bundle = RecommenderBundle(data, comparison.models, comparison.explainer)
            save_bundle(run.dir / BUNDLE_ARTIFACT, bundle)
            run.add_artifact(BUNDLE_ARTIFACT)
        outcome = RecsOutcome(run.id, table, bundle, comparison.stopped)
        if comparison.stopped:
            raise RunCancelled(f"stopped early; kept {len(table)} scores and {len(comparison.models)} models")
    return outcome


def train_job(
    workspace: Workspace,
    spec: CompareSpec,
    data: Interactions | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> RecsOutcome:
    """`train_and_record` as a job: ``data`` None loads the MovieLens demo in the worker.

    The result leaves the models out (an EASE on 20,000 items alone is 1.6 GB); the page opens them
    from the run's ``bundle/`` folder, where a reload or another process finds them too.
    """
    if data is None:
        if on_progress is not None:
            on_progress(Progress(0, None, "loading the MovieLens demo"))
        data = load_demo()
    return replace(train_and_record(workspace, data, spec, on_progress, stop), bundle=None)


def list_recs_runs(workspace: Workspace, limit: int = 50) -> list[RunRecord]:
    """Recommender runs that saved models."""
    records = workspace.list_runs(limit=limit, capability=CAPABILITY)
    return [r for r in records if BUNDLE_ARTIFACT in r.artifacts]


def open_bundle(workspace: Workspace, run_id: int) -> RecommenderBundle:
    """The models a run saved (no retraining).

    Raises:
        InputError: The run is not a recommender run or saved no models.
        ModelError: The saved bundle is damaged.
    """
    record = workspace.get_run(run_id)
    if record.capability != CAPABILITY or BUNDLE_ARTIFACT not in record.artifacts:
        raise InputError(f"run {run_id} ({record.capability}, {record.status}) saved no recommender models")
    return load_bundle(workspace.run_dir(run_id) / BUNDLE_ARTIFACT)


def metrics_table(workspace: Workspace, run_id: int) -> pd.DataFrame:
    """The comparison table a run saved (no rows when it was stopped before a model was scored)."""
    return pd.read_csv(workspace.artifact_path(run_id, "metrics.csv"))

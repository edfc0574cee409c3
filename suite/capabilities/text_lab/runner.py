"""Text Lab's recorded operations: train the small GPT as a workspace run (used by the page and the CLI).

The suite, not the domain, opens the run: params before, metrics and the model (store format) after;
a stopped training ends the run as cancelled with its partial model kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shared_models.gpt_train import GPTTrainSpec, TrainedGPT, load_gpt, save_gpt, train_gpt
from shared_models.progress import ProgressCallback
from suite.workspace import RunCancelled, Workspace

__all__ = ["CAPABILITY", "MODEL_ARTIFACT", "GPTOutcome", "load_trained_gpt", "train_gpt_and_record"]

CAPABILITY = "text.train"
MODEL_ARTIFACT = "model"


@dataclass
class GPTOutcome:
    run_id: int
    trained: TrainedGPT


def train_gpt_and_record(
    workspace: Workspace,
    text: str,
    spec: GPTTrainSpec,
    corpus_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> GPTOutcome:
    """Train on ``text`` (already checked with `check_corpus`) inside a workspace run.

    Also the page's job target (the arguments are plain data: the text, a frozen spec, a name).
    """
    params = {"corpus": corpus_name, "corpus_chars": len(text), **spec.__dict__}
    with workspace.start_run(CAPABILITY, params) as run:
        trained = train_gpt(text, spec, on_progress=on_progress, stop=stop)
        save_gpt(trained, run.dir / MODEL_ARTIFACT, dataset=corpus_name)
        run.add_artifact(MODEL_ARTIFACT)
        run.log_metrics(trained.metrics())
        outcome = GPTOutcome(run.id, trained)
        if trained.stopped:
            raise RunCancelled(f"stopped at step {trained.steps}; the partial model is saved")
    return outcome


def load_trained_gpt(workspace: Workspace, job_id: int) -> tuple[int, TrainedGPT] | None:
    """The model a job's run saved, as ``(run id, model)``, or None if it saved none.

    For a page whose job ended without its result in memory (the app restarted, or the worker was
    ended after saving).
    """
    for record in workspace.list_runs(limit=20, capability=CAPABILITY):
        if record.job_id == job_id and MODEL_ARTIFACT in record.artifacts:
            return record.id, load_gpt(workspace.run_dir(record.id) / MODEL_ARTIFACT)
    return None

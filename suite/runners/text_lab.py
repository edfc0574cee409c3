"""Text Lab's recorded operations: train the small GPT as a workspace run (used by the page and the CLI).

The suite, not the domain, opens the run: params before, metrics and the model (store format) after;
a stopped training ends the run as cancelled with its partial model kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shared_models.gpt_train import GPTTrainSpec, TrainedGPT, save_gpt, train_gpt
from shared_models.progress import ProgressCallback
from suite.workspace import RunCancelled, Workspace

__all__ = ["CAPABILITY", "MODEL_ARTIFACT", "GPTOutcome", "train_gpt_and_record"]

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
    """Train on ``text`` (already checked with `check_corpus`) inside a workspace run."""
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

"""Script Writer's recorded operations (used by the page and the CLI).

Every change to a draft that the model makes, and every save of the writer's edits, is one workspace
run of capability ``script.draft`` holding the whole draft (``draft.json``, which reopens it) and its
exports (``draft.fountain``, ``draft.html``, ``draft.pdf``). A stopped generation keeps its partial
draft and ends as cancelled. Trained voices are ``script.voice`` runs holding the model.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from domains.entertainment.scripts import (
    Draft,
    DraftSettings,
    ScriptWriter,
    Step,
    repetition,
    to_html,
    to_pdf,
)
from domains.entertainment.scripts.fountain import validate
from domains.entertainment.scripts.voice import CorpusReport, train_voice
from shared_models.exceptions import InputError
from shared_models.gpt_train import GPTTrainSpec, TrainedGPT, load_gpt, save_gpt
from shared_models.lm import LMConfig, build_text_generator
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import Run, RunCancelled, RunRecord, Workspace

__all__ = [
    "DRAFT_CAPABILITY",
    "DRAFT_FILE",
    "VOICE_CAPABILITY",
    "DraftOutcome",
    "VoiceOutcome",
    "draft_metrics",
    "list_drafts",
    "list_voices",
    "load_draft",
    "load_voice",
    "regenerate_and_record",
    "regenerate_job",
    "save_edits",
    "train_voice_and_record",
    "train_voice_job",
    "write_and_record",
    "write_job",
]

DRAFT_CAPABILITY = "script.draft"
VOICE_CAPABILITY = "script.voice"
DRAFT_FILE = "draft.json"
VOICE_MODEL = "model"


@dataclass
class DraftOutcome:
    run_id: int
    draft: Draft
    stopped: bool = False


def draft_metrics(draft: Draft) -> dict[str, Any]:
    """Figures a run keeps: scenes written and valid, repetition before and after the clean-up pass."""
    written = [s for s in draft.scenes if s is not None]
    valid = sum(
        not validate(draft.replace(outline=(plan,), scenes=(scene,)).to_screenplay())
        for plan, scene in zip(draft.outline, draft.scenes, strict=False)
        if scene is not None
    )
    raw = [line.line for s in written if s.raw is not None for line in s.raw.lines]
    clean = [e.text for s in written if s.raw is not None for e in s.body if e.type == "dialogue"]
    metrics: dict[str, Any] = {"scenes_written": len(written), "scenes_valid": valid}
    if raw:
        before, after = repetition(raw), repetition(clean)
        metrics.update(
            distinct_2_raw=before.distinct_2,
            distinct_2_clean=after.distinct_2,
            repeated_lines_raw=before.repeated_line_share,
            repeated_lines_clean=after.repeated_line_share,
        )
    return metrics


def _save(run: Run, draft: Draft) -> None:
    run.save_json(DRAFT_FILE, draft.to_dict())
    play = draft.to_screenplay()
    run.save_text("draft.fountain", draft.to_fountain())
    run.save_text("draft.html", to_html(play, standalone=True))
    run.save_bytes("draft.pdf", to_pdf(play))
    run.log_metrics(draft_metrics(draft))


def _params(draft: Draft | DraftSettings, action: str, model: str) -> dict[str, Any]:
    settings = draft.settings if isinstance(draft, Draft) else draft
    return {"action": action, "model": model, **asdict(settings)}


def write_and_record(
    workspace: Workspace,
    writer: ScriptWriter,
    draft: Draft | DraftSettings,
    steps: Sequence[Step],
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> DraftOutcome:
    """Write the missing items of ``steps`` as one run; a stop keeps the partial draft (cancelled).

    The draft so far is saved after every item, so a run ended abruptly (a worker terminated because
    the model did not reach a stopping point in time) still holds what was written.
    """
    params = _params(draft, "write " + "+".join(steps), writer.lm.model_name)
    with workspace.start_run(DRAFT_CAPABILITY, params) as run:
        start = time.perf_counter()
        saved: list[Draft] = []

        def keep_each_item(progress: Progress) -> bool | None:
            if isinstance(progress.preview, Draft) and not (saved and saved[-1] is progress.preview):
                run.save_json(DRAFT_FILE, progress.preview.to_dict())
                saved.append(progress.preview)
            return None if on_progress is None else on_progress(progress)

        result = writer.write(draft, steps, on_progress=keep_each_item, stop=stop)
        run.log_metrics({"seconds": time.perf_counter() - start})
        _save(run, result)
        stopped = stop is not None and stop.is_set()
        outcome = DraftOutcome(run.id, result, stopped)
        if stopped:
            raise RunCancelled(
                f"stopped with {result.scenes_written} scenes written; the draft so far is saved"
            )
    return outcome


def regenerate_and_record(
    workspace: Workspace,
    writer: ScriptWriter,
    draft: Draft,
    item: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> DraftOutcome:
    """Regenerate one item (see `ScriptWriter.regenerate`) as one run.

    A stop abandons the item: the draft comes back unchanged, nothing is saved and the run ends as
    cancelled.
    """
    with workspace.start_run(
        DRAFT_CAPABILITY, _params(draft, f"regenerate {item}", writer.lm.model_name)
    ) as run:
        start = time.perf_counter()
        result = writer.regenerate(draft, item, on_progress, stop)
        if stop is not None and stop.is_set():
            outcome = DraftOutcome(run.id, draft, stopped=True)
            raise RunCancelled(f"stopped while rewriting {item}; the draft is unchanged")
        run.log_metrics({"seconds": time.perf_counter() - start})
        _save(run, result)
        outcome = DraftOutcome(run.id, result)
    return outcome


# llama.cpp threads of a job worker when the settings name none. A worker shares the cores with other
# jobs and the app, and llama.cpp's threads wait for each other by spinning: on the 2-core machine
# while other work ran, 96 tokens took 21-23 s with both cores and 3-8 s with one.
JOB_LM_THREADS = 1


def _writer(lm_config: LMConfig, on_progress: ProgressCallback | None) -> ScriptWriter:
    """The writer of a job: its worker loads the model itself (llama.cpp handles cannot be pickled)."""
    if on_progress is not None:
        on_progress(Progress(0, None, "loading the language model"))
    if lm_config.n_threads is None:  # AIGC_LLM_THREADS still decides when it is set
        lm_config = dataclasses.replace(lm_config, n_threads=JOB_LM_THREADS)
    return ScriptWriter(build_text_generator(lm_config))


def write_job(
    workspace: Workspace,
    lm_config: LMConfig,
    draft: Draft | DraftSettings,
    steps: Sequence[Step],
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> DraftOutcome:
    """`write_and_record` as a job of the job service, with the model ``lm_config`` describes."""
    return write_and_record(workspace, _writer(lm_config, on_progress), draft, steps, on_progress, stop)


def regenerate_job(
    workspace: Workspace,
    lm_config: LMConfig,
    draft: Draft,
    item: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> DraftOutcome:
    """`regenerate_and_record` as a job of the job service, with the model ``lm_config`` describes."""
    writer = _writer(lm_config, on_progress)
    return regenerate_and_record(workspace, writer, draft, item, on_progress, stop)


def save_edits(workspace: Workspace, draft: Draft) -> int:
    """Record the writer's hand edits as a new version of the draft; returns the run id."""
    with workspace.start_run(DRAFT_CAPABILITY, _params(draft, "edit", draft.model)) as run:
        _save(run, draft)
    return run.id


def list_drafts(workspace: Workspace, limit: int = 30) -> list[RunRecord]:
    """Recent runs that hold a draft (done or stopped), newest first."""
    records = workspace.list_runs(limit=limit * 2, capability=DRAFT_CAPABILITY)
    return [r for r in records if DRAFT_FILE in r.artifacts][:limit]


def load_draft(workspace: Workspace, run_id: int) -> Draft:
    """Reopen the draft a run saved.

    Raises:
        InputError: The run holds no draft, or its file is not a draft.
    """
    path = workspace.artifact_path(run_id, DRAFT_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"run {run_id}'s draft cannot be read ({exc}); pick another run") from exc
    return Draft.from_dict(data)


@dataclass
class VoiceOutcome:
    run_id: int
    trained: TrainedGPT


def train_voice_and_record(
    workspace: Workspace,
    corpus: CorpusReport,
    spec: GPTTrainSpec,
    corpus_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> VoiceOutcome:
    """Train the small GPT on a checked corpus of scripts as one run (model kept when stopped)."""
    params = {
        "corpus": corpus_name,
        "corpus_chars": corpus.characters,
        "scene_headings": corpus.scene_headings,
        **asdict(spec),
    }
    with workspace.start_run(VOICE_CAPABILITY, params) as run:
        trained = train_voice(corpus.text, spec, on_progress=on_progress, stop=stop)
        save_gpt(trained, run.dir / VOICE_MODEL, dataset=corpus_name)
        run.add_artifact(VOICE_MODEL)
        run.log_metrics(trained.metrics())
        outcome = VoiceOutcome(run.id, trained)
        if trained.stopped:
            raise RunCancelled(f"stopped at step {trained.steps}; the partial model is saved")
    return outcome


def train_voice_job(
    workspace: Workspace,
    corpus: CorpusReport,
    spec: GPTTrainSpec,
    corpus_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> int:
    """`train_voice_and_record` as a job; returns the run id, and the page loads the model from the run
    (a job's result crosses a process pipe, where torch tensors do not survive the worker's exit)."""
    return train_voice_and_record(workspace, corpus, spec, corpus_name, on_progress, stop).run_id


def list_voices(workspace: Workspace, limit: int = 20) -> list[RunRecord]:
    return [
        r for r in workspace.list_runs(limit=limit, capability=VOICE_CAPABILITY) if VOICE_MODEL in r.artifacts
    ]


def load_voice(workspace: Workspace, run_id: int) -> TrainedGPT:
    return load_gpt(workspace.artifact_path(run_id, VOICE_MODEL))

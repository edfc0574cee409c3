"""Character Design as recorded runs: generate (training the generator on first use) and write cards.

The page and `aigc characters` both call these, so runs look the same from either:

- ``characters.generate``: params (attributes chosen, count, seed, generator spec), metrics (timing,
  whether the generator was trained or loaded), artifacts ``sheet.png`` and ``characters.json``
  (attributes and latent codes, enough to redraw every character with the stored generator).
- ``characters.card``: params (attributes, brief), artifacts ``card.json``, ``pitch.html``,
  ``portrait.png``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from domains.entertainment.characters.card import CharacterCard, check_brief, write_card
from domains.entertainment.characters.export import card_json, pitch_sheet_html, png_bytes, sprite_sheet
from domains.entertainment.characters.models import (
    CharacterModel,
    CharacterModelSpec,
    TrainingStoppedError,
    get_character_model,
    has_stored_model,
    partial_steps,
)
from domains.entertainment.characters.operations import Characters, decode, generate
from domains.entertainment.characters.sprites import check_attributes
from shared_models.exceptions import InputError
from shared_models.lm import TextGenerator
from shared_models.progress import Progress, ProgressCallback
from shared_models.store import ModelCard
from suite.workspace import RunCancelled, RunRecord, Workspace

__all__ = [
    "CAPABILITY",
    "CARD_CAPABILITY",
    "CharacterOutcome",
    "card_and_record",
    "generate_and_record",
    "generate_job",
    "list_character_runs",
    "open_characters",
    "run_of_job",
]

CAPABILITY = "characters.generate"
CARD_CAPABILITY = "characters.card"
CHARACTERS_FILE = "characters.json"


@dataclass
class CharacterOutcome:
    """What a recorded generation produced."""

    run_id: int
    characters: Characters
    model: CharacterModel
    card: ModelCard
    spec: CharacterModelSpec


def store_root(workspace: Workspace) -> Path:
    return workspace.root / "models"


def generate_and_record(
    workspace: Workspace,
    spec: CharacterModelSpec,
    chosen: dict[str, str],
    n: int = 16,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> CharacterOutcome:
    """Generate ``n`` characters as a workspace run; the first use of ``spec`` trains the generator.

    Raises:
        TrainingStoppedError: The first-use training was stopped (the run ends as cancelled).
    """
    chosen = check_attributes(chosen)
    params = {"chosen": chosen, "n": n, "seed": seed, "generator": asdict(spec)}
    outcome: CharacterOutcome | None = None
    with workspace.start_run(CAPABILITY, params) as run:
        trained_now = not has_stored_model(spec, store_root(workspace))
        if trained_now and on_progress is not None:
            kept = partial_steps(spec, store_root(workspace))
            message = "first use: training the generator"
            if kept:
                message += f" (continuing from step {kept})"
            on_progress(Progress(step=kept, total=spec.steps, message=message))
        try:
            model, card = get_character_model(spec, store_root(workspace), on_progress, stop)
        except TrainingStoppedError as exc:
            raise RunCancelled(str(exc)) from exc
        if on_progress is not None:
            on_progress(Progress(step=spec.steps, total=spec.steps, message=f"drawing {n} characters"))
        started = time.perf_counter()
        characters = generate(model, n, chosen, seed=seed)
        generate_s = time.perf_counter() - started
        run.save_bytes("sheet.png", sprite_sheet(characters))
        run.save_json(CHARACTERS_FILE, characters.to_json())
        run.log_metrics(
            {
                "characters": n,
                "generate_seconds": round(generate_s, 4),
                "generator_trained_now": trained_now,
                "generator_train_seconds": card.training.get("seconds"),
            }
        )
        outcome = CharacterOutcome(run.id, characters, model, card, spec)
    if outcome is None:
        raise TrainingStoppedError(run.record.error or "training was stopped; nothing was saved")
    return outcome


def generate_job(
    workspace: Workspace,
    spec: CharacterModelSpec,
    chosen: dict[str, str],
    n: int = 16,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> CharacterOutcome | None:
    """`generate_and_record` as a job: a stopped first-use training returns None (the run, cancelled,
    says how far it got; the progress is kept for the next Generate)."""
    try:
        return generate_and_record(workspace, spec, chosen, n, seed, on_progress, stop)
    except TrainingStoppedError:
        if stop is not None and stop.is_set():
            return None
        raise


def run_of_job(workspace: Workspace, job_id: int) -> RunRecord | None:
    """The generation run a job recorded, or None (for a page whose job's result is not in memory)."""
    return next((r for r in workspace.list_runs(limit=20, capability=CAPABILITY) if r.job_id == job_id), None)


def list_character_runs(workspace: Workspace, limit: int = 50) -> list[RunRecord]:
    """Finished generation runs whose characters can be opened again."""
    records = workspace.list_runs(limit=limit, capability=CAPABILITY)
    return [r for r in records if r.status == "done" and CHARACTERS_FILE in r.artifacts]


def open_characters(workspace: Workspace, run_id: int) -> CharacterOutcome:
    """Redraw a run's characters with its stored generator (never retrains).

    Raises:
        InputError: Not a generation run, or its generator is no longer in the store.
    """
    record = workspace.get_run(run_id)
    if record.capability != CAPABILITY or CHARACTERS_FILE not in record.artifacts:
        raise InputError(f"run {run_id} is not a character generation run")
    spec = CharacterModelSpec(**record.params["generator"])
    if not has_stored_model(spec, store_root(workspace)):
        raise InputError(f"the generator of run {run_id} is no longer in the model store; generate again")
    model, card = get_character_model(spec, store_root(workspace))
    rows = json.loads(workspace.artifact_path(run_id, CHARACTERS_FILE).read_text(encoding="utf-8"))
    latents = torch.tensor([row["latent"] for row in rows], dtype=torch.float32)
    characters = decode(model, latents, [check_attributes(row["attributes"], complete=True) for row in rows])
    return CharacterOutcome(run_id, characters, model, card, spec)


def card_and_record(
    workspace: Workspace,
    lm: TextGenerator,
    attributes: dict[str, str],
    portrait: np.ndarray,
    brief: str,
    extras: np.ndarray | None = None,
    seed: int | None = 0,
) -> tuple[int, CharacterCard, str]:
    """Write a character card as a workspace run, with its pitch sheet.

    Returns:
        ``(run id, card, pitch sheet HTML)``.
    """
    attributes = check_attributes(attributes, complete=True)
    brief = check_brief(brief)  # a bad brief is refused before any run is recorded
    params = {"attributes": attributes, "brief": brief, "lm": lm.describe(), "seed": seed}
    with workspace.start_run(CARD_CAPABILITY, params) as run:
        card = write_card(lm, attributes, brief, seed=seed)
        pitch = pitch_sheet_html(card, portrait, extras)
        run.save_text("card.json", card_json(card))
        run.save_text("pitch.html", pitch)
        run.save_bytes("portrait.png", png_bytes(portrait, 8))
        run.log_metrics({"corrections": len(card.corrections)})
    return run.id, card, pitch

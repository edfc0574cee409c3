"""Style Transfer as recorded runs: stylise (any method) and train fast styles.

The page and `aigc style` both call these, so runs look the same from either:

- ``style.apply``: params (content, style, method, every control), metrics (the three measures,
  seconds, whether it was stopped), artifacts ``result.png``, ``before_after.png``, ``measures.json``,
  ``style.png`` (the style as used, small).
- ``style.train``: params (the fast-style spec), metrics (training time, final losses), artifacts
  ``preview.png`` (the trained network on a bundled photo) and ``card.json``; the network itself lives
  in the model store (``<workspace>/models``), where every later session finds it.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from domains.creative import (
    PROCEDURAL_STYLES,
    FastStyle,
    StyleResult,
    StyleSettings,
    TrainingStoppedError,
    apply_fast,
    check_upload,
    content_photo,
    draw_style,
    open_fast_style,
    png_bytes,
    spec_for,
    stylise,
    train_fast_style,
)
from domains.creative.images import fit_size, resize
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback
from suite.workspace import RunCancelled, RunRecord, Workspace

__all__ = [
    "CAPABILITY",
    "RESULT",
    "TRAIN_CAPABILITY",
    "StyleOutcome",
    "TrainOutcome",
    "before_after",
    "list_results",
    "load_style",
    "store_root",
    "stylise_and_record",
    "stylise_job",
    "train_and_record",
    "train_job",
]

CAPABILITY = "style.apply"
TRAIN_CAPABILITY = "style.train"
RESULT = "result.png"
STYLE_SIZE = 512  # built-in styles are drawn at this size


@dataclass
class StyleOutcome:
    """What a recorded stylisation produced."""

    run_id: int
    result: StyleResult
    status: str


@dataclass
class TrainOutcome:
    """What a recorded fast-style training produced."""

    run_id: int
    fast_style: FastStyle
    trained_now: bool


def store_root(workspace: Workspace) -> Path:
    return workspace.root / "models"


def load_style(name_or_path: str) -> tuple[str, np.ndarray]:
    """A style by built-in name or image path (checked like an upload): ``(name, image)``.

    Raises:
        InputError: Neither a built-in style nor a readable image file.
    """
    if name_or_path in PROCEDURAL_STYLES:
        return name_or_path, draw_style(name_or_path, STYLE_SIZE)
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(
            f"style {name_or_path!r} is neither a built-in style ({sorted(PROCEDURAL_STYLES)}) "
            "nor an image file"
        )
    return path.stem, check_upload(path.read_bytes(), path.name)


def before_after(before: np.ndarray, after: np.ndarray, gap: int = 8) -> np.ndarray:
    """The content and the result side by side on a white strip."""
    height = before.shape[0]
    spacer = np.ones((height, gap, 3), np.float32)
    return np.concatenate([before, spacer, resize(after, before.shape[:2])], axis=1)


def _settings_params(settings: StyleSettings) -> dict[str, Any]:
    params = dataclasses.asdict(settings)
    if settings.method != "painterly":  # only the output size and seed of the painterly block apply
        params["painterly"] = {k: params["painterly"][k] for k in ("output_size", "seed")}
    return params


def stylise_and_record(
    workspace: Workspace,
    content: np.ndarray,
    content_name: str,
    style: np.ndarray,
    style_name: str,
    settings: StyleSettings,
    keep_mask: np.ndarray | None = None,
    fast_style: FastStyle | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> StyleOutcome:
    """Stylise as a workspace run and save the result, a before/after image and the measures.

    ``fast_style`` is the trained network for the ``fast`` method, opened once by the caller
    (`open_fast_style`; the page caches it per process). A stopped painterly run keeps its partial
    result (saved, measured) and ends as cancelled.
    """
    fast = fast_style if settings.method == "fast" else None
    params = {"content": content_name, "style": style_name, **_settings_params(settings)}
    if fast is not None:
        params["fast_style"] = {"key": fast.folder.name, "name": fast.name}
    if keep_mask is not None:
        params["keep_mask_share"] = round(float(np.mean(keep_mask > 0.5)), 4)
    with workspace.start_run(CAPABILITY, params) as run:

        def keep(image: np.ndarray, before: np.ndarray) -> None:
            # saved before the measures, so a worker ended while measuring still leaves the image
            run.save_bytes(RESULT, png_bytes(image))
            run.save_bytes("before_after.png", png_bytes(before_after(before, image)))
            run.save_bytes("style.png", png_bytes(resize(style, fit_size(style.shape, 256))))

        result = stylise(content, style, settings, keep_mask, fast, on_progress, stop, on_painted=keep)
        measures = result.measures.as_dict()
        run.save_json("measures.json", {**measures, "seconds": round(result.seconds, 3)})
        run.log_metrics({**measures, "seconds": round(result.seconds, 3), "stopped": result.stopped})
        if result.stopped:
            run.finish("cancelled", error="stopped early; the partial result was saved")
    return StyleOutcome(run.id, result, run.record.status)


def train_and_record(
    workspace: Workspace,
    style: np.ndarray,
    style_name: str,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    **spec_overrides: Any,
) -> TrainOutcome:
    """Train (or find) the fast style for ``style`` as a workspace run.

    Raises:
        TrainingStoppedError: Stopped before the budget ran out (the run ends as cancelled).
    """
    spec = spec_for(style_name, style, **spec_overrides)
    outcome: TrainOutcome | None = None
    with workspace.start_run(TRAIN_CAPABILITY, dataclasses.asdict(spec)) as run:
        try:
            fast, trained_now = train_fast_style(style, spec, store_root(workspace), on_progress, stop)
        except TrainingStoppedError as exc:
            raise RunCancelled(str(exc)) from exc
        run.save_bytes("preview.png", png_bytes(apply_fast(fast, content_photo("astronaut"), 256)))
        run.save_json("card.json", dataclasses.asdict(fast.card))
        run.log_metrics(
            {
                "trained_now": trained_now,
                "store_key": fast.folder.name,
                **{f"train_{k}": v for k, v in fast.card.training.items()},
                **{k: v for k, v in fast.card.metrics.items() if v is not None},
            }
        )
        outcome = TrainOutcome(run.id, fast, trained_now)
    if outcome is None:
        raise TrainingStoppedError(run.record.error or "training was stopped; nothing was stored")
    return outcome


def stylise_job(
    workspace: Workspace,
    content: np.ndarray,
    content_name: str,
    style: np.ndarray,
    style_name: str,
    settings: StyleSettings,
    keep_mask: np.ndarray | None = None,
    fast_key: str | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> StyleOutcome:
    """`stylise_and_record` as a job: the worker opens the trained fast network (``fast_key`` in the
    model store) itself, since a network's tensors are not passed between processes."""
    fast = None
    if settings.method == "fast" and fast_key is not None:
        if on_progress is not None:
            on_progress(Progress(0, None, "loading the fast network"))
        fast = open_fast_style(store_root(workspace), fast_key)
    return stylise_and_record(
        workspace, content, content_name, style, style_name, settings, keep_mask, fast, on_progress, stop
    )


def train_job(
    workspace: Workspace,
    style: np.ndarray,
    style_name: str,
    seconds: float,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> int | None:
    """`train_and_record` as a job: the id of its run (whose card and metrics describe the network),
    or None when stopped (the run ends as cancelled and nothing is stored)."""
    try:
        return train_and_record(workspace, style, style_name, on_progress, stop, seconds=seconds).run_id
    except TrainingStoppedError:
        if stop is not None and stop.is_set():
            return None
        raise


def list_results(workspace: Workspace, limit: int = 24) -> list[RunRecord]:
    """Earlier stylisations with a saved result, newest first (the page's gallery)."""
    records = workspace.list_runs(limit=limit, capability=CAPABILITY)
    return [r for r in records if RESULT in r.artifacts and r.status in ("done", "cancelled")]

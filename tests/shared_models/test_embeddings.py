"""MiniLM embeddings from the packaged wheel: shapes, normalisation, meaning, batching, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from shared_models.embeddings import EMBEDDING_DIM, embed, load_embedder
from shared_models.exceptions import InputError


def test_vectors_are_unit_length_and_capture_meaning() -> None:
    vectors = embed(
        ["A man is playing a guitar.", "Someone strums a guitar.", "The stock market fell today."]
    )
    assert vectors.shape == (3, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.6 and unrelated < 0.2


def test_batching_does_not_change_the_vectors() -> None:
    texts = [f"sentence number {i} about topic {i % 3}" for i in range(10)]
    assert np.allclose(embed(texts, batch_size=3), embed(texts, batch_size=64), atol=1e-5)


def test_model_is_loaded_once() -> None:
    assert load_embedder() is load_embedder()


def test_empty_list_and_bad_inputs() -> None:
    assert embed([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(InputError, match="not one string"):
        embed("hello")
    with pytest.raises(InputError, match="item 1 is a int"):
        embed(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(InputError, match="batch_size"):
        embed(["ok"], batch_size=0)

"""Content-based and hybrid recommenders on MiniLM embeddings of item text (title, categories, text).

The content model needs no interactions for an item, so it can place new or rarely seen items; the
hybrid adds its (standardised) scores to EASE's with a small weight.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from domains.services.recommend.base import Recommender, register, report
from domains.services.recommend.neighbours import EASE, WeightedItemModel
from shared_models.embeddings import EMBEDDING_DIM, embed
from shared_models.exceptions import InputError
from shared_models.progress import ProgressCallback

__all__ = ["ContentModel", "Hybrid"]

EMBED_CHUNK = 256  # item texts per encoder call: a progress report and a stop check between calls


@register
class ContentModel(Recommender):
    """Scores an item by the summed cosine similarity of its text embedding to the user's items."""

    name = "content"
    label = "Content (MiniLM)"
    needs_text = True

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        assert item_texts is not None
        texts = list(item_texts)
        if not any(t.strip() for t in texts):
            raise InputError("the content model needs item titles, categories or text; the items have none")
        # In chunks, so a long encoding reports progress and a stop lands between chunks; items not
        # reached by then keep zero vectors (they score nothing) so the model stays usable.
        self.embeddings_ = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)  # (I, 384), unit rows
        for start in range(0, len(texts), EMBED_CHUNK):
            message = "embedding item texts with MiniLM (loaded on first use)"
            if report(on_progress, stop, start, len(texts), message):
                return
            self.embeddings_[start : start + EMBED_CHUNK] = embed(texts[start : start + EMBED_CHUNK])
        report(on_progress, stop, len(texts), len(texts), "item texts embedded")

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        profiles = sp.csr_matrix(histories) @ self.embeddings_  # (U, 384)
        return profiles @ self.embeddings_.T

    def item_vectors(self) -> np.ndarray:
        return self.embeddings_

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"embeddings": self.embeddings_}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_, self.embeddings_ = train, arrays["embeddings"]


def _standardise(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True) + 1e-9
    return (scores - mean) / std


@register
class Hybrid(WeightedItemModel):
    """EASE plus content: ``z(EASE) + content_weight * z(content)``, each standardised per user.

    Args:
        l2: EASE's ridge weight.
        content_weight: Weight of the content scores.
    """

    name = "hybrid"
    label = "Hybrid (EASE + content)"
    needs_text = True

    def __init__(self, l2: float = 300.0, content_weight: float = 0.3) -> None:
        self.l2 = l2
        self.content_weight = content_weight

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        self.ease_ = EASE(self.l2).fit(matrix, None, on_progress, stop)
        self.content_ = ContentModel().fit(matrix, item_texts, on_progress, stop)

    def weights(self) -> np.ndarray:
        return self.ease_.weights()

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        collaborative = _standardise(self.ease_.score_histories(histories))
        return collaborative + self.content_weight * _standardise(self.content_.score_histories(histories))

    def item_vectors(self) -> np.ndarray:
        return np.hstack([self.ease_.item_vectors(), self.content_.item_vectors()])

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        return self.ease_.similar_items(item, n)

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.ease_.weights_, "embeddings": self.content_.embeddings_}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_ = train
        self.ease_, self.content_ = EASE(self.l2), ContentModel()
        self.ease_.load_state_arrays({"weights": arrays["weights"]}, train)
        self.content_.load_state_arrays({"embeddings": arrays["embeddings"]}, train)

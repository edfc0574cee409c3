"""Item-based recommenders: popularity, item-kNN (cosine) and EASE (Steck 2019).

Item-kNN and EASE score a user as ``x @ W`` for an items x items weight matrix ``W``; the share of
each history item ``j`` in the score of item ``i`` is ``W[j, i]``, which is what explanations show.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from domains.services.recommend.base import Recommender, register, report, top_n
from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.progress import ProgressCallback

__all__ = ["EASE", "ItemKNN", "Popularity", "WeightedItemModel"]

MAX_EASE_ITEMS = 20_000


class WeightedItemModel(Recommender):
    """A recommender whose scores are ``history @ weights`` (item-to-item weights)."""

    def weights(self) -> np.ndarray | sp.csr_matrix:
        """The items x items matrix ``W``: score of item ``i`` = sum over history items ``j`` of W[j, i]."""
        raise NotImplementedError

    def contributions(self, history: np.ndarray, item: int) -> np.ndarray:
        """``W[j, item]`` for each ``j`` in ``history`` (what each owned item adds to the score)."""
        column = self.weights()[:, [item]]
        column = column.toarray() if sp.issparse(column) else np.asarray(column)
        return column[np.asarray(history, dtype=np.int64), 0]


@register
class Popularity(Recommender):
    """The most-interacted items first, the same for everyone: the baseline every model must beat."""

    name = "popularity"
    label = "Popularity"

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        self.counts_ = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.counts_, (histories.shape[0], 1))

    def item_vectors(self) -> np.ndarray:
        # "Similar" for popularity means co-consumed: the item's column of co-occurrence counts
        return (self.train_.T @ self.train_).toarray()

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts_}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_, self.counts_ = train, arrays["counts"]


@register
class ItemKNN(WeightedItemModel):
    """Item-kNN: cosine similarity of item columns, each item keeping its ``neighbours`` nearest.

    Args:
        neighbours: Neighbours kept per item (the rest are zeroed).
        shrink: Added to the cosine's denominator to damp similarities built on few co-occurrences.
    """

    name = "item-knn"
    label = "Item-kNN"

    def __init__(self, neighbours: int = 100, shrink: float = 0.0) -> None:
        self.neighbours = neighbours
        self.shrink = shrink

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        if self.neighbours < 1:
            raise InputError("neighbours must be at least 1")
        co = (matrix.T @ matrix).toarray().astype(np.float64)  # (I, I) co-occurrence counts
        norms = np.sqrt(np.diag(co))
        similarity = co / (np.outer(norms, norms) + self.shrink + 1e-12)
        np.fill_diagonal(similarity, 0.0)
        k = min(self.neighbours, similarity.shape[0] - 1)
        # keep, for each target item (column), its k most similar source items
        cutoff = -np.partition(-similarity, k - 1, axis=0)[k - 1]
        similarity[similarity < cutoff[None, :]] = 0.0
        self.similarity_ = sp.csr_matrix(similarity.astype(np.float32))

    def weights(self) -> sp.csr_matrix:
        return self.similarity_

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.asarray((histories @ self.similarity_).todense())

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        if not 0 <= item < self.n_items:
            raise InputError(f"item index must lie in [0, {self.n_items})")
        row = self.similarity_[:, [item]].toarray().T  # column: the item's own k nearest neighbours
        ranked, scores = top_n(row, n, sp.csr_matrix(([1.0], ([0], [item])), shape=(1, self.n_items)))
        return ranked[0], scores[0]

    def state_arrays(self) -> dict[str, np.ndarray]:
        s = self.similarity_
        return {"data": s.data, "indices": s.indices, "indptr": s.indptr}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_ = train
        shape = (train.shape[1], train.shape[1])
        self.similarity_ = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)


@register
class EASE(WeightedItemModel):
    """Embarrassingly Shallow Autoencoder (Steck 2019): the closed-form item-item ridge regression
    ``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` and a zero diagonal.

    Args:
        l2: The ridge weight lambda (Steck used 500 on ML-20M; smaller data wants less).
    """

    name = "ease"
    label = "EASE"

    def __init__(self, l2: float = 300.0) -> None:
        self.l2 = l2

    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        if self.l2 <= 0:
            raise InputError(f"EASE's l2 must be positive, got {self.l2}")
        if matrix.shape[1] > MAX_EASE_ITEMS:
            raise ResourceLimitError(
                f"EASE inverts an items x items matrix; {matrix.shape[1]:,} items is too many"
            )
        report(on_progress, stop, 0, 1, "solving the closed form")
        self.weights_ = ease_weights(matrix, self.l2)
        report(on_progress, stop, 1, 1, "solved")

    def weights(self) -> np.ndarray:
        return self.weights_

    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.asarray(histories @ self.weights_)

    def item_vectors(self) -> np.ndarray:
        return self.weights_

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights_}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        self.train_, self.weights_ = train, arrays["weights"]


def ease_weights(matrix: sp.csr_matrix, l2: float) -> np.ndarray:
    """EASE's closed-form weight matrix (float32, zero diagonal)."""
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)

"""The one interface every recommender follows, and its registry.

A recommender is fitted on a binary users x items CSR matrix. It scores *histories* (rows over the
same items), so a user unseen in training (a held-out user, or a new one built from a few picked
items) is scored at once without retraining: the fold-in that strong-generalisation evaluation and
the "new user" page both need.
"""

from __future__ import annotations

import abc
import inspect
import threading
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from shared_models.exceptions import InputError, ModelError
from shared_models.progress import Progress, ProgressCallback

__all__ = [
    "MODELS",
    "Recommender",
    "build_model",
    "history_matrix",
    "register",
    "top_n",
]

MODELS: dict[str, type[Recommender]] = {}
SCORE_CHUNK = 2048  # users scored per dense block: bounds memory at chunk x items floats


def register(cls: type[Recommender]) -> type[Recommender]:
    """Class decorator adding a recommender to `MODELS` under its ``name``."""
    MODELS[cls.name] = cls
    return cls


def build_model(name: str, **params: Any) -> Recommender:
    """A fresh recommender by registry name.

    Raises:
        InputError: Unknown name or hyper-parameter.
    """
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; available: {sorted(MODELS)}")
    try:
        return MODELS[name](**params)
    except TypeError as exc:
        raise InputError(f"bad hyper-parameters for {name}: {exc}") from exc


def history_matrix(histories: Sequence[Sequence[int]], n_items: int) -> sp.csr_matrix:
    """A binary CSR matrix with one row per history of item indices."""
    rows, cols = [], []
    for r, items in enumerate(histories):
        items = np.unique(np.asarray(items, dtype=np.int64))
        if items.size and (items.min() < 0 or items.max() >= n_items):
            raise InputError(f"item indices must lie in [0, {n_items}); got {items.min()}..{items.max()}")
        rows.append(np.full(items.size, r))
        cols.append(items)
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    data = np.ones(row.size, dtype=np.float32)
    return sp.csr_matrix((data, (row, col)), shape=(len(histories), n_items))


def top_n(scores: np.ndarray, n: int, exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best ``n`` columns of each row of ``scores`` (highest first), skipping ``exclude``'s nonzeros.

    Returns:
        ``(items, values)``, both ``(rows, n)``; ties break towards the lower item index.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None and exclude.nnz:
        coo = exclude.tocoo()
        scores[coo.row, coo.col] = -np.inf
    n = min(n, scores.shape[1])
    part = (
        np.argpartition(-scores, n - 1, axis=1)[:, :n]
        if n < scores.shape[1]
        else np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    )
    picked = np.take_along_axis(scores, part, axis=1)
    # lexsort: primary key descending score, secondary ascending index, so results are deterministic
    order = np.lexsort((part, -picked), axis=1)
    items = np.take_along_axis(part, order, axis=1)
    return items, np.take_along_axis(picked, order, axis=1)


class Recommender(abc.ABC):
    """Base class: ``fit`` a binary interaction matrix, then ``recommend``, ``score_histories`` and
    ``similar_items``. ``__init__`` stores hyper-parameters only; learned state ends in ``_``.

    Subclasses implement `_fit`, `score_histories`, `item_vectors` (or `similar_items`) and the
    state round-trip (`state_arrays` / `load_state_arrays`) used to save a model without pickle.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    needs_text: ClassVar[bool] = False

    train_: sp.csr_matrix

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the hyper-parameters ``__init__`` takes."""
        if cls.__init__ is object.__init__:
            return []
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters given to ``__init__`` (JSON-able)."""
        return {n: getattr(self, n) for n in self.param_names()}

    def fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None = None,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> Self:
        """Learn from a binary users x items matrix.

        Args:
            matrix: CSR with 1.0 for positive interactions.
            item_texts: One text per item (needed by content-based models).
            on_progress: Progress reports; returning False stops (the model stays usable).
            stop: Set to stop after the current step.

        Returns:
            ``self``.
        """
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        if matrix.shape[0] < 1 or matrix.shape[1] < 2 or matrix.nnz == 0:
            raise InputError("the interaction matrix needs at least one user, two items and one interaction")
        if self.needs_text and (item_texts is None or len(item_texts) != matrix.shape[1]):
            raise InputError(f"the {self.label} model needs one text (title, categories) per item")
        self.train_ = matrix
        self._fit(matrix, item_texts, on_progress, stop)
        return self

    @abc.abstractmethod
    def _fit(
        self,
        matrix: sp.csr_matrix,
        item_texts: Sequence[str] | None,
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None: ...

    @abc.abstractmethod
    def score_histories(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores ``(rows, items)`` for users described only by their histories (fold-in)."""

    def score_users(self, users: np.ndarray) -> np.ndarray:
        """Scores of training users (factor models override this with their learned user vectors)."""
        return self.score_histories(self.train_[users])

    @property
    def n_items(self) -> int:
        self._check_fitted()
        return self.train_.shape[1]

    def _check_fitted(self) -> None:
        if not hasattr(self, "train_"):
            raise ModelError(f"the {self.label or self.name} model is not fitted yet")

    def recommend(
        self, users: Sequence[int] | np.ndarray, n: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` items for training users (row indices), best first.

        Returns:
            ``(items, scores)``, each ``(len(users), n)``.
        """
        self._check_fitted()
        users = np.asarray(users, dtype=np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.train_.shape[0]):
            raise InputError(f"user indices must lie in [0, {self.train_.shape[0]})")
        parts = [
            top_n(
                self.score_users(chunk),
                n,
                self.train_[chunk] if exclude_seen else None,
            )
            for chunk in np.array_split(users, max(1, -(-users.size // SCORE_CHUNK)))
        ]
        return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])

    def recommend_history(
        self, items: Sequence[int], n: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` for a new user who picked ``items`` (no retraining); 1-D ``(items, scores)``."""
        self._check_fitted()
        if len(items) == 0:
            raise InputError("pick at least one item the new user likes")
        row = history_matrix([items], self.n_items)
        ranked, scores = top_n(self.score_histories(row), n, row if exclude_seen else None)
        return ranked[0], scores[0]

    def item_vectors(self) -> np.ndarray:
        """One vector per item whose cosine defines `similar_items`."""
        raise NotImplementedError

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items most similar to ``item`` under this model (itself excluded)."""
        self._check_fitted()
        if not 0 <= item < self.n_items:
            raise InputError(f"item index must lie in [0, {self.n_items})")
        vectors = self.item_vectors()
        norms = np.linalg.norm(vectors, axis=1) + 1e-12
        similarity = vectors @ vectors[item] / (norms * norms[item])
        exclude = sp.csr_matrix(([1.0], ([0], [item])), shape=(1, self.n_items))
        ranked, scores = top_n(similarity[None, :], n, exclude)
        return ranked[0], scores[0]

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (the training matrix is saved once, beside all models)."""
        raise NotImplementedError

    def load_state_arrays(self, arrays: dict[str, np.ndarray], train: sp.csr_matrix) -> None:
        """Restore what `state_arrays` returned, with the training matrix."""
        raise NotImplementedError


def report(
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
    step: int,
    total: int,
    message: str,
    metrics: dict[str, float] | None = None,
) -> bool:
    """Report progress; True when the caller asked to stop."""
    if on_progress is not None and on_progress(Progress(step, total, message, metrics or {})) is False:
        return True
    return stop is not None and stop.is_set()

"""Offline evaluation: two protocols from the literature and beyond-accuracy measures.

- **Strong generalisation** (Liang et al. 2018, Mult-VAE): whole users are held out; models train on
  the other users; each held-out user's items are split 80 % folded in (given to the model as the
  history) and 20 % scored. Recall@k is normalised by ``min(k, |held-out items|)``.
- **Random 8:1:1** (RecBole's default): each user's interactions are shuffled and split 80/10/10
  into train, validation and test; the test items are ranked against every item the user has not
  seen in training or validation (full ranking). Recall@k is ``hits / |test items|``.

Beyond accuracy: catalogue coverage (share of items in any top-k list), novelty (mean self-information
``-log2(popularity)`` of recommended items) and intra-list diversity (mean pairwise cosine distance of
items in a list, on their interaction columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from shared_models.exceptions import InputError

__all__ = [
    "PROTOCOL_METRICS",
    "Protocol",
    "RandomSplit",
    "StrongSplit",
    "catalogue_coverage",
    "intra_list_diversity",
    "ndcg_at_k",
    "novelty",
    "random_split",
    "ranking_metrics",
    "recall_at_k",
    "strong_generalisation_split",
]

Protocol = Literal["strong", "random"]
PROTOCOL_METRICS: dict[str, tuple[str, ...]] = {
    "strong": ("recall@20", "recall@50", "ndcg@100"),
    "random": ("recall@10", "ndcg@10"),
}


@dataclass
class StrongSplit:
    """Training users' full histories, and held-out users' fold-in / scored parts (validation, test)."""

    train: sp.csr_matrix
    valid_in: sp.csr_matrix
    valid_out: sp.csr_matrix
    test_in: sp.csr_matrix
    test_out: sp.csr_matrix
    train_users: np.ndarray
    test_users: np.ndarray


@dataclass
class RandomSplit:
    """Three matrices over all users and items: 80 % train, 10 % validation, 10 % test per user."""

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix


def _rows(matrix: sp.csr_matrix, row: int) -> np.ndarray:
    return matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]


def _build(rows: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    lengths = [r.size for r in rows]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    data = np.ones(indices.size, dtype=np.float32)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_items))
    matrix.sort_indices()
    return matrix


def strong_generalisation_split(
    matrix: sp.csr_matrix,
    test_share: float = 0.2,
    valid_share: float = 0.1,
    fold_in: float = 0.8,
    seed: int = 0,
) -> StrongSplit:
    """Hold out whole users: ``test_share`` of them for testing, ``valid_share`` for tuning.

    Raises:
        InputError: Too few users to hold any out, or shares outside (0, 1).
    """
    n_users, n_items = matrix.shape
    if not (0 < test_share < 1 and 0 <= valid_share < 1 and test_share + valid_share < 1 and 0 < fold_in < 1):
        raise InputError("shares must lie in (0, 1) and leave some users for training")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_users)
    n_test, n_valid = max(1, round(test_share * n_users)), round(valid_share * n_users)
    if n_users - n_test - n_valid < 2:
        raise InputError(f"{n_users} users are too few to hold some out; at least 10 are needed")
    test_users, valid_users = np.sort(order[:n_test]), np.sort(order[n_test : n_test + n_valid])
    train_users = np.sort(order[n_test + n_valid :])

    def fold(users: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        given, scored = [], []
        for user in users:
            items = rng.permutation(_rows(matrix, user))
            cut = max(1, min(items.size - 1, round(fold_in * items.size)))
            given.append(np.sort(items[:cut]))
            scored.append(np.sort(items[cut:]))
        return _build(given, n_items), _build(scored, n_items)

    valid_in, valid_out = fold(valid_users)
    test_in, test_out = fold(test_users)
    return StrongSplit(matrix[train_users], valid_in, valid_out, test_in, test_out, train_users, test_users)


def _split_counts(total: int, ratios: tuple[float, float, float]) -> tuple[int, int, int]:
    """RecBole's rule: floor the smaller parts, give the rest to train, then lend an item to a part
    whose share is a fraction of one, while train keeps at least two."""
    counts = [int(r * total) for r in ratios]
    counts[0] = total - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * total < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts[0], counts[1], counts[2]


def random_split(
    matrix: sp.csr_matrix, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> RandomSplit:
    """Shuffle each user's interactions and split them train/validation/test by ``ratios``."""
    if abs(sum(ratios) - 1) > 1e-9 or min(ratios) < 0:
        raise InputError(f"split ratios must be non-negative and sum to 1, got {ratios}")
    rng = np.random.default_rng(seed)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for user in range(matrix.shape[0]):
        items = rng.permutation(_rows(matrix, user))
        n_train, n_valid, _ = _split_counts(items.size, ratios)
        parts[0].append(items[:n_train])
        parts[1].append(items[n_train : n_train + n_valid])
        parts[2].append(items[n_train + n_valid :])
    train, valid, test = (_build(p, matrix.shape[1]) for p in parts)
    return RandomSplit(train, valid, test)


def _hits(ranked: np.ndarray, relevant: sp.csr_matrix, k: int) -> np.ndarray:
    rows = np.arange(ranked.shape[0])[:, None]
    return np.asarray(relevant[rows, ranked[:, :k]].todense()) > 0  # (U, k) booleans


def recall_at_k(
    ranked: np.ndarray, relevant: sp.csr_matrix, k: int, normalise: Literal["min", "all"] = "min"
) -> np.ndarray:
    """Per-user recall of the top ``k`` of ``ranked`` (item indices, best first).

    Args:
        normalise: ``min`` divides by ``min(k, |relevant|)`` (Mult-VAE paper); ``all`` by
            ``|relevant|`` (RecBole).

    Returns:
        One value per user with at least one relevant item (others are dropped).
    """
    counts = np.diff(relevant.indptr)
    hits = _hits(ranked, relevant, k).sum(axis=1)
    keep = counts > 0
    denominator = np.minimum(k, counts) if normalise == "min" else counts
    return hits[keep] / denominator[keep]


def ndcg_at_k(ranked: np.ndarray, relevant: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-user NDCG@k with binary relevance (users without relevant items are dropped)."""
    counts = np.diff(relevant.indptr)
    hits = _hits(ranked, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    ideal = np.array([discounts[: min(c, k)].sum() for c in counts])
    keep = counts > 0
    return dcg[keep] / ideal[keep]


def catalogue_coverage(ranked: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    return float(np.unique(ranked).size / n_items)


def novelty(ranked: np.ndarray, train: sp.csr_matrix) -> float:
    """Mean self-information ``-log2(share of users who have the item)`` of recommended items (bits)."""
    share = np.asarray(train.sum(axis=0)).ravel() / max(1, train.shape[0])
    info = -np.log2(np.clip(share, 1.0 / max(1, train.shape[0]), 1.0))
    return float(info[ranked].mean())


def intra_list_diversity(ranked: np.ndarray, item_vectors: np.ndarray | sp.spmatrix) -> float:
    """Mean pairwise cosine distance between the items of each list, averaged over lists."""
    k = ranked.shape[1]
    if k < 2 or ranked.shape[0] == 0:
        return 0.0
    vectors = sp.csr_matrix(item_vectors, dtype=np.float64)  # sparse stays sparse: items x users
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()) + 1e-12
    unit = sp.diags(1.0 / norms) @ vectors
    distances = []
    for items in ranked:
        sub = unit[items]
        cosine = (sub @ sub.T).toarray()  # (k, k)
        distances.append(1.0 - (cosine.sum() - np.trace(cosine)) / (k * (k - 1)))
    return float(np.mean(distances))


def ranking_metrics(
    ranked: np.ndarray,
    relevant: sp.csr_matrix,
    protocol: Protocol,
    train: sp.csr_matrix,
) -> dict[str, float]:
    """The protocol's accuracy metrics plus coverage, novelty and diversity of the top-10 lists."""
    metrics: dict[str, float] = {}
    for name in PROTOCOL_METRICS[protocol]:
        kind, k = name.split("@")
        if kind == "recall":
            values = recall_at_k(ranked, relevant, int(k), "min" if protocol == "strong" else "all")
        else:
            values = ndcg_at_k(ranked, relevant, int(k))
        metrics[name] = float(values.mean()) if values.size else float("nan")
    top10 = ranked[:, :10]
    metrics["coverage@10"] = catalogue_coverage(top10, train.shape[1])
    metrics["novelty@10"] = novelty(top10, train)
    metrics["diversity@10"] = intra_list_diversity(top10, train.T.tocsr())
    return metrics

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from domains.services.recommend.base import history_matrix, top_n
from domains.services.recommend.evaluate import (
    _split_counts,
    catalogue_coverage,
    intra_list_diversity,
    ndcg_at_k,
    novelty,
    random_split,
    recall_at_k,
    strong_generalisation_split,
)


def test_recall_and_ndcg_match_hand_computed_values() -> None:
    ranked = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    relevant = history_matrix([[1, 3], [0, 1, 2]], 4)
    # user 0: hits at ranks 2 and 4; user 1: hits at ranks 2, 3, 4
    assert recall_at_k(ranked, relevant, 2, "all").tolist() == [0.5, 1 / 3]
    assert recall_at_k(ranked, relevant, 2, "min").tolist() == [0.5, 0.5]  # min(k, |relevant|) = 2
    ndcg = ndcg_at_k(ranked, relevant, 4)
    dcg0, idcg0 = 1 / math.log2(3) + 1 / math.log2(5), 1 + 1 / math.log2(3)
    dcg1, idcg1 = 1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5), 1 + 1 / math.log2(3) + 0.5
    assert ndcg == pytest.approx([dcg0 / idcg0, dcg1 / idcg1])
    assert ndcg_at_k(np.array([[2, 0]]), history_matrix([[2]], 4), 2).tolist() == [1.0]
    # users without relevant items are left out, not counted as zeros
    assert recall_at_k(ranked, history_matrix([[1], []], 4), 2).tolist() == [1.0]


def test_beyond_accuracy_measures() -> None:
    ranked = np.array([[0, 1], [0, 2]])
    assert catalogue_coverage(ranked, 4) == 0.75
    train = history_matrix([[0, 1], [0, 2], [0], [3]], 4)  # item 0 held by 3 of 4 users, items 1, 2 by 1
    expected = np.mean([-math.log2(0.75), -math.log2(0.25), -math.log2(0.75), -math.log2(0.25)])
    assert novelty(ranked, train) == pytest.approx(expected)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    # list 1: orthogonal (distance 1); list 2: identical (distance 0)
    assert intra_list_diversity(ranked, vectors) == pytest.approx(0.5)


def test_top_n_skips_excluded_items_and_breaks_ties_by_index() -> None:
    scores = np.array([[0.1, 0.9, 0.9, 0.5]])
    items, values = top_n(scores, 3, history_matrix([[3]], 4))
    assert items.tolist() == [[1, 2, 0]] and values.tolist() == [[0.9, 0.9, 0.1]]


def test_random_split_follows_recbole_counts_and_never_leaks() -> None:
    assert _split_counts(5, (0.8, 0.1, 0.1)) == (3, 1, 1)
    assert _split_counts(20, (0.8, 0.1, 0.1)) == (16, 2, 2)
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix((rng.random((40, 50)) < 0.3).astype(np.float32))
    split = random_split(matrix, seed=1)
    assert (split.train.multiply(split.test)).nnz == 0 and (split.train.multiply(split.valid)).nnz == 0
    assert (split.valid.multiply(split.test)).nnz == 0
    assert ((split.train + split.valid + split.test) != matrix).nnz == 0
    again = random_split(matrix, seed=1)
    assert (again.test != split.test).nnz == 0  # deterministic


def test_strong_split_holds_out_whole_users_without_leakage() -> None:
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix((rng.random((50, 40)) < 0.3).astype(np.float32))
    split = strong_generalisation_split(matrix, test_share=0.2, valid_share=0.1, seed=3)
    assert split.train.shape[0] == 35 and split.test_in.shape[0] == 10 and split.valid_in.shape[0] == 5
    assert not set(split.train_users) & set(split.test_users)
    # the training rows are exactly the training users' full histories
    assert (split.train != matrix[split.train_users]).nnz == 0
    # held-out users: fold-in and scored parts are disjoint and together are the whole history
    assert split.test_in.multiply(split.test_out).nnz == 0
    assert ((split.test_in + split.test_out) != matrix[split.test_users]).nnz == 0
    shares = split.test_in.getnnz(axis=1) / matrix[split.test_users].getnnz(axis=1)
    assert np.all((shares > 0.6) & (shares < 0.95))

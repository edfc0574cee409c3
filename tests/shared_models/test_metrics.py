from __future__ import annotations

import numpy as np
import torch

from shared_models.datasets import load_digits
from shared_models.metrics import (
    frechet_distance,
    nearest_neighbour_ratio,
    precision_recall,
    train_classifier,
)


def test_frechet_distance_matches_the_closed_form_for_gaussians() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, size=(4000, 3))
    b = rng.normal(0, 1, size=(4000, 3)) + np.array([2.0, 0, 0])
    assert frechet_distance(a, a) < 1e-6
    assert abs(frechet_distance(a, b) - 4.0) < 0.25  # |mu1 - mu2|^2 with equal covariances
    c = rng.normal(0, 2, size=(4000, 3))  # trace term: 3 * (1 + 4 - 2 * 2) = 3
    assert abs(frechet_distance(a, c) - 3.0) < 0.3


def test_precision_recall_separate_quality_from_coverage() -> None:
    rng = np.random.default_rng(1)
    real = rng.normal(0, 1, size=(600, 2))
    collapsed = rng.normal(0, 0.1, size=(600, 2))  # all samples at the mode: precise, poor coverage
    far = rng.normal(6, 1, size=(600, 2))
    p, r = precision_recall(real, collapsed)
    assert p > 0.95 and r < 0.3
    p_far, r_far = precision_recall(real, far)
    assert p_far < 0.05 and r_far < 0.05
    p_same, r_same = precision_recall(real, rng.normal(0, 1, size=(600, 2)))
    assert p_same > 0.8 and r_same > 0.8


def test_nearest_neighbour_ratio_flags_copies() -> None:
    digits = load_digits()
    train, test = digits.split(0.2, seed=0)
    copies = train.images[:200]
    assert nearest_neighbour_ratio(copies, train.images, test.images[:200]) < 0.05
    assert 0.7 < nearest_neighbour_ratio(test.images[200:], train.images, test.images[:200]) < 1.3


def test_metrics_classifier_learns_digits() -> None:
    train, test = load_digits().split(0.2, seed=0)
    model, accuracy = train_classifier(train, test, steps=150, seed=0)
    assert accuracy >= 0.9
    assert model.features(test.images[:4]).shape == (4, 128)
    assert not model.training and torch.isfinite(model(test.images[:2])).all()

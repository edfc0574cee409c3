"""Inspection metrics against answers known by construction."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from domains.manufacturing.inspection.metrics import (
    image_auroc,
    operating_points,
    pixel_auroc,
    pro_score,
    threshold_metrics,
)
from shared_models.exceptions import InputError


def _masks(count: int = 6, size: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = np.zeros((count, size, size), dtype=bool)
    for mask in masks[: count // 2]:  # half the images hold two square defects, half none
        for _ in range(2):
            y, x = rng.integers(0, size - 8, size=2)
            mask[y : y + rng.integers(3, 8), x : x + rng.integers(3, 8)] = True
    return masks


def test_image_auroc_perfect_inverted_and_random() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert image_auroc(scores, labels) == 1.0
    assert image_auroc(-scores, labels) == 0.0
    rng = np.random.default_rng(0)
    many = rng.random(4000) < 0.5
    assert abs(image_auroc(rng.random(4000), many) - 0.5) < 0.03


def test_one_class_only_gives_nan_and_bad_shapes_raise() -> None:
    assert math.isnan(image_auroc(np.array([0.1, 0.5]), np.array([False, False])))
    assert math.isnan(pixel_auroc(np.zeros((2, 8, 8)), np.zeros((2, 8, 8), dtype=bool)))
    assert math.isnan(pro_score(np.zeros((2, 8, 8)), np.zeros((2, 8, 8), dtype=bool)))
    with pytest.raises(InputError, match="labels"):
        image_auroc(np.zeros(3), np.zeros(4, dtype=bool))
    with pytest.raises(InputError, match="finite"):
        image_auroc(np.array([0.0, np.nan]), np.array([True, False]))
    with pytest.raises(InputError, match=r"\(N, H, W\)"):
        pixel_auroc(np.zeros((2, 8, 8)), np.zeros((2, 8, 9), dtype=bool))


def test_pixel_auroc_and_pro_on_perfect_inverted_and_random_maps() -> None:
    masks = _masks()
    rng = np.random.default_rng(1)
    perfect = masks + 0.1 * rng.random(masks.shape)  # every defect pixel above every normal one
    assert pixel_auroc(perfect, masks) == 1.0
    assert pro_score(perfect, masks) == pytest.approx(1.0)
    assert pixel_auroc(-perfect, masks) == 0.0
    assert pro_score(-perfect, masks) == pytest.approx(0.0, abs=1e-9)
    noise = rng.random(masks.shape)
    assert abs(pixel_auroc(noise, masks) - 0.5) < 0.05
    assert abs(pro_score(noise, masks) - 0.15) < 0.03  # random: PRO(fpr) = fpr, area 0.3^2/2 / 0.3


def test_pixel_auroc_subsample_is_deterministic_and_close() -> None:
    masks = _masks(count=4, size=64)
    maps = masks * 0.3 + np.random.default_rng(2).random(masks.shape)
    full = pixel_auroc(maps, masks)
    sampled = pixel_auroc(maps, masks, max_pixels=5000)
    assert sampled == pixel_auroc(maps, masks, max_pixels=5000)
    assert abs(sampled - full) < 0.03


def test_pro_by_hand_two_regions_one_found_late() -> None:
    # 1400 normal pixels with distinct scores 0 .. 1399/1400; region A (100 px) scores 2, above them all;
    # region B (100 px) scores 0.85, above ~15 % of the normals. So PRO = 0.5 for FPR < 0.15 (A only)
    # and 1 from there on: area (0.5 * 0.15 + 1 * 0.15) / 0.3 = 0.75.
    size = 40
    mask = np.zeros((size, size), dtype=bool)
    mask[:10, :10] = True
    mask[-10:, -10:] = True
    scores = np.zeros((size, size))
    scores[~mask] = np.random.default_rng(3).permutation(1400) / 1400
    scores[:10, :10] = 2.0
    scores[-10:, -10:] = 0.85
    above_b = (scores[~mask] > 0.85).mean()  # the exact FPR at which B is found
    expected = (0.5 * above_b + 1.0 * (0.3 - above_b)) / 0.3
    assert pro_score(scores, mask) == pytest.approx(expected, abs=0.01)
    assert pro_score(scores, mask) == pytest.approx(0.75, abs=0.01)
    # Regions weigh equally whatever their area: a huge found region and a tiny missed one give 0.5.
    big = np.zeros((size, size), dtype=bool)
    big[:30, :30], big[-2:, -2:] = True, True
    skewed = np.where(big, 0.0, 0.5)
    skewed[:30, :30] = 1.0
    assert pro_score(skewed + 1e-3 * np.random.default_rng(4).random(skewed.shape), big) == pytest.approx(
        0.5, abs=0.02
    )


def test_pro_is_fast_on_a_hundred_256px_maps() -> None:
    rng = np.random.default_rng(5)
    masks = np.zeros((100, 256, 256), dtype=bool)
    masks[::2, 100:140, 60:90] = True
    maps = (masks + rng.normal(0, 0.5, masks.shape)).astype(np.float32)
    start = time.perf_counter()
    value = pro_score(maps, masks)
    assert time.perf_counter() - start < 10  # generous: the machine is shared; ~1 s alone
    assert 0.5 < value < 1.0


def test_threshold_metrics_counts() -> None:
    scores = np.array([0.1, 0.4, 0.6, 0.35, 0.8, 0.9])
    labels = np.array([False, False, False, True, True, True])
    result = threshold_metrics(scores, labels, 0.5)
    assert (result.true_positives, result.false_positives, result.false_negatives, result.true_negatives) == (
        2,
        1,
        1,
        2,
    )
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    assert result.false_alarm_rate == pytest.approx(1 / 3)
    nothing = threshold_metrics(scores, labels, 1.0)
    assert math.isnan(nothing.precision) and nothing.recall == 0 and nothing.f1 == 0
    assert threshold_metrics(scores, labels, 0.9).true_positives == 0  # strictly above


def test_operating_points_match_threshold_metrics_everywhere() -> None:
    rng = np.random.default_rng(6)
    labels = rng.random(60) < 0.4
    scores = np.round(rng.random(60) + labels * 0.4, 2)  # ties included
    points = operating_points(scores, labels)
    assert np.all(np.diff(points.thresholds) > 0)
    assert points.recall[0] == 1 and points.false_alarm_rate[0] == 1
    assert points.recall[-1] == 0 and points.false_alarm_rate[-1] == 0 and math.isnan(points.precision[-1])
    for k in range(0, len(points.thresholds), 7):
        single = threshold_metrics(scores, labels, points.thresholds[k])
        assert points.recall[k] == pytest.approx(single.recall)
        assert points.false_alarm_rate[k] == pytest.approx(single.false_alarm_rate)
        assert points.f1[k] == pytest.approx(single.f1)
        assert np.isnan(points.precision[k]) == math.isnan(single.precision)

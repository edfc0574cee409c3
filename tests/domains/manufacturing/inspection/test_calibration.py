"""Threshold calibration meets its false-alarm rate; regions are found where the blobs are."""

from __future__ import annotations

import numpy as np
import pytest

from domains.manufacturing.inspection.calibration import (
    ImageVerdict,
    calibrate_region_threshold,
    calibrate_threshold,
    find_regions,
    minimum_normals,
    region_score,
)
from shared_models.exceptions import InputError


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_calibration_meets_its_rate_on_fresh_normals(rate: float) -> None:
    rng = np.random.default_rng(0)
    threshold = calibrate_threshold(rng.normal(size=2000), rate)
    realised = (rng.normal(size=200_000) > threshold).mean()
    # The rate holds in expectation; one calibration set of 2000 varies by sqrt(rate (1 - rate) / 2000).
    spread = 3 * np.sqrt(rate * (1 - rate) / 2000)
    assert rate - spread <= realised <= rate + spread


def test_calibration_holds_on_average_with_few_normals() -> None:
    # The conformal rule promises the rate in expectation even with the minimum of normals (19 for 5 %).
    rng = np.random.default_rng(1)
    rates = [
        (rng.normal(size=20_000) > calibrate_threshold(rng.normal(size=19), 0.05)).mean() for _ in range(300)
    ]
    assert np.mean(rates) <= 0.05 + 0.006


def test_calibration_on_known_scores_and_too_few_normals() -> None:
    assert calibrate_threshold(np.arange(100.0), 0.05) == 95.0  # 4 of 100 above: (4 + 1) / 101 <= 5 %
    assert minimum_normals(0.05) == 19 and minimum_normals(0.01) == 99
    assert calibrate_threshold(np.arange(19.0), 0.05) == 18.0
    with pytest.raises(InputError, match="at least 99 held-out normal"):
        calibrate_threshold(np.arange(50.0), 0.01)
    with pytest.raises(InputError, match="between 0 and 1"):
        calibrate_threshold(np.arange(50.0), 0.0)
    with pytest.raises(InputError, match="finite"):
        calibrate_threshold(np.array([np.nan] * 30), 0.1)


def test_regions_of_two_blobs_sorted_by_peak() -> None:
    yy, xx = np.mgrid[0:64, 0:64]
    weak = 0.6 * np.exp(-((xx - 15) ** 2 + (yy - 20) ** 2) / 20)
    strong = 1.0 * np.exp(-((xx - 45) ** 2 + (yy - 40) ** 2) / 30)
    speck = np.zeros((64, 64))
    speck[2, 60] = 0.9  # one pixel: dropped as speckle
    regions = find_regions(weak + strong + speck, 0.3, min_area_px=4)
    assert len(regions) == 2
    first, second = regions
    assert first.peak == pytest.approx(1.0, abs=0.01) and second.peak == pytest.approx(0.6, abs=0.01)
    assert first.centroid == pytest.approx((45, 40), abs=0.5)
    assert second.centroid == pytest.approx((15, 20), abs=0.5)
    assert first.x0 <= 45 < first.x1 and first.y0 <= 40 < first.y1
    assert first.area_px == int(((weak + strong + speck) > 0.3)[30:, 30:].sum())
    assert first.area_fraction == pytest.approx(first.area_px / 64**2)
    assert find_regions(np.zeros((8, 8)), 0.5) == []


def test_verdict_passes_at_the_threshold_and_lists_regions() -> None:
    anomaly = np.zeros((32, 32))
    anomaly[4:12, 4:12] = 1.0
    failed = ImageVerdict.judge(0, "a.png", 0.8, anomaly, image_threshold=0.5, pixel_threshold=0.5)
    assert not failed.passed and len(failed.regions) == 1 and failed.regions[0].area_px == 64
    assert ImageVerdict.judge(1, "b.png", 0.5, np.zeros((32, 32)), 0.5, 0.5).passed


def test_region_score_ignores_speckle_and_matches_find_regions() -> None:
    rng = np.random.default_rng(2)
    anomaly = rng.uniform(0, 0.3, (48, 48))
    anomaly[10:15, 20:25] = 1.0  # a 25 px blob
    anomaly[40, 5] = 5.0  # one hot pixel
    score = region_score(anomaly, min_area_px=16)
    assert score == pytest.approx(1.0)
    assert find_regions(anomaly, np.nextafter(score, -1), min_area_px=16)
    assert not find_regions(anomaly, score, min_area_px=16)
    for threshold in rng.uniform(0, 1.2, 20):
        assert bool(find_regions(anomaly, threshold, min_area_px=16)) == (score > threshold)


def test_region_threshold_meets_its_rate_on_fresh_normal_maps() -> None:
    from scipy import ndimage

    rng = np.random.default_rng(3)

    def normal_maps(count: int) -> np.ndarray:  # smooth noise: blobs of every size appear by chance
        return ndimage.gaussian_filter(rng.normal(size=(count, 32, 32)), sigma=(0, 1.5, 1.5))

    threshold = calibrate_region_threshold(normal_maps(199), 0.1, min_area_px=8)
    fresh = normal_maps(400)
    with_regions = np.mean([bool(find_regions(m, threshold, min_area_px=8)) for m in fresh])
    # Sampling spread of the 199 calibration maps plus that of the 400 fresh ones, 3 sigma each.
    spread = 3 * np.sqrt(0.1 * 0.9 / 199) + 3 * np.sqrt(0.1 * 0.9 / 400)
    assert abs(with_regions - 0.1) <= spread

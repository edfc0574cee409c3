"""From scores to decisions: an alarm threshold set by the false-alarm rate one can afford, the defect
regions of an anomaly map, and a per-image pass/fail verdict.

An image (or pixel) alarms when its score is strictly above the threshold, as in `metrics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from shared_models.exceptions import InputError

__all__ = [
    "ImageVerdict",
    "Region",
    "calibrate_region_threshold",
    "calibrate_threshold",
    "find_regions",
    "minimum_normals",
    "region_score",
]


def minimum_normals(false_alarm_rate: float) -> int:
    """Fewest held-out normal scores `calibrate_threshold` accepts for this rate: ``ceil(1 / rate) - 1``."""
    if not 0 < false_alarm_rate < 1:
        raise InputError(f"the false-alarm rate must be between 0 and 1 (exclusive), got {false_alarm_rate}")
    return max(1, math.ceil(1 / false_alarm_rate - 1e-9) - 1)


def calibrate_threshold(normal_scores: np.ndarray, false_alarm_rate: float) -> float:
    """The alarm threshold that keeps false alarms on good parts at or below ``false_alarm_rate``.

    The rule is the conformal quantile: with ``n`` held-out normal scores sorted ascending, the threshold
    is the ``(n - k)``-th of them, with ``k = floor(rate * (n + 1)) - 1`` of the normals above it. For a
    fresh normal image scored by the same model (exchangeable with the held-out ones) the chance of an
    alarm is then ``(k + 1) / (n + 1) <= rate``: the guarantee holds on average, for any score
    distribution, without fitting one.

    It needs ``k >= 0``, i.e. at least ``ceil(1 / rate) - 1`` normals: 19 for a 5 % rate, 99 for 1 %,
    999 for 0.1 %. With fewer, no order statistic can promise the rate, and an error says how many
    are needed. With exactly the minimum, the threshold is the highest normal score.

    Args:
        normal_scores: Scores of held-out good images (not those the detector was fitted on).
        false_alarm_rate: The affordable share of good parts flagged, in (0, 1).

    Returns:
        The threshold.

    Raises:
        InputError: A rate outside (0, 1), non-finite scores, or too few normals for the rate.

    Example:
        >>> calibrate_threshold(np.arange(100.0), 0.05)  # 4 of the 100 normals lie above it
        95.0
    """
    needed = minimum_normals(false_alarm_rate)
    scores = np.sort(np.asarray(normal_scores, dtype=np.float64).ravel())
    if not np.all(np.isfinite(scores)):
        raise InputError("normal scores must be finite numbers (found NaN or infinity)")
    if scores.size == 0:
        raise InputError("there are no held-out normal scores to calibrate on")
    if scores.size < needed:
        raise InputError(
            f"a {false_alarm_rate:.2%} false-alarm rate needs at least {needed} held-out normal images; "
            f"got {scores.size}. Add good images, or accept a rate of {1 / (scores.size + 1):.1%} or more"
        )
    allowed_above = math.floor(false_alarm_rate * (scores.size + 1) + 1e-9) - 1
    return float(scores[scores.size - 1 - allowed_above])


@dataclass(frozen=True)
class Region:
    """One connected defect region of a thresholded anomaly map.

    Attributes:
        label: Component id (1-based, as numbered by the labelling).
        x0, y0, x1, y1: Bounding box in pixels; ``x1``/``y1`` are exclusive (slice ends).
        area_px: Pixels above the threshold in the region.
        area_fraction: ``area_px`` over the image's pixel count.
        peak: Highest anomaly score in the region.
        centroid: ``(x, y)`` of the region's pixels.
    """

    label: int
    x0: int
    y0: int
    x1: int
    y1: int
    area_px: int
    area_fraction: float
    peak: float
    centroid: tuple[float, float]


def find_regions(
    anomaly_map: np.ndarray, threshold: float, min_area_px: int = 16, connectivity: int = 2
) -> list[Region]:
    """Defect regions: connected components of ``anomaly_map > threshold``, highest peak first.

    Args:
        anomaly_map: ``(H, W)`` scores.
        threshold: Pixels strictly above it are defective.
        min_area_px: Smaller components are dropped as speckle.
        connectivity: 1 joins pixels sharing an edge; 2 also those sharing a corner.

    Returns:
        The regions, sorted by descending peak score.
    """
    scores = np.asarray(anomaly_map, dtype=np.float32)
    if scores.ndim != 2:
        raise InputError(f"an anomaly map must be (H, W); got shape {scores.shape}")
    if connectivity not in (1, 2):
        raise InputError(f"connectivity must be 1 or 2, got {connectivity}")
    labelled, count = ndimage.label(
        scores > threshold, structure=ndimage.generate_binary_structure(2, connectivity)
    )
    if count == 0:
        return []
    ids = np.arange(1, count + 1)
    areas = ndimage.sum_labels(np.ones_like(scores), labelled, ids)
    peaks = ndimage.maximum(scores, labelled, ids)
    centroids = ndimage.center_of_mass(np.ones_like(scores), labelled, ids)
    boxes = ndimage.find_objects(labelled)
    regions = [
        Region(
            label=int(label),
            x0=box[1].start,
            y0=box[0].start,
            x1=box[1].stop,
            y1=box[0].stop,
            area_px=int(area),
            area_fraction=float(area / scores.size),
            peak=float(peak),
            centroid=(float(cx), float(cy)),
        )
        for label, area, peak, (cy, cx), box in zip(ids, areas, peaks, centroids, boxes, strict=True)
        if area >= min_area_px
    ]
    return sorted(regions, key=lambda r: -r.peak)


def _largest_component(mask: np.ndarray, structure: np.ndarray) -> int:
    labelled, count = ndimage.label(mask, structure=structure)
    return int(np.bincount(labelled.ravel())[1:].max()) if count else 0


def region_score(anomaly_map: np.ndarray, min_area_px: int = 16, connectivity: int = 2) -> float:
    """How anomalous the map's most anomalous blob is: `find_regions` finds a region at a pixel threshold
    exactly when this score is above it. Roughly the ``min_area_px``-th highest value inside one
    connected blob, so speckle (isolated hot pixels) does not raise it.

    Found by bisection over the map's distinct values (about 17 labellings for a 256x256 map).

    Raises:
        InputError: The map is not 2-D or has fewer than ``min_area_px`` pixels.
    """
    scores = np.asarray(anomaly_map, dtype=np.float32)
    if scores.ndim != 2 or scores.size < min_area_px:
        raise InputError(
            f"an anomaly map must be (H, W) with at least {min_area_px} pixels; got {scores.shape}"
        )
    structure = ndimage.generate_binary_structure(2, connectivity)
    values = np.unique(scores)  # ascending
    # A region exists at threshold values[k] for k below some index; bisect for it. Below values[0]
    # every pixel is above the threshold, one blob of at least min_area_px pixels.
    low, high = 0, len(values) - 1  # nothing lies above the highest value: no region there
    while low < high:
        middle = (low + high) // 2
        if _largest_component(scores > values[middle], structure) >= min_area_px:
            low = middle + 1
        else:
            high = middle
    return float(values[low])  # regions for every threshold below it, none at it or above


def calibrate_region_threshold(
    normal_maps: np.ndarray, false_alarm_rate: float, min_area_px: int = 16, connectivity: int = 2
) -> float:
    """The pixel threshold at which at most ``false_alarm_rate`` of good images show any defect region.

    Each held-out normal map is reduced to its `region_score`; `calibrate_threshold` then picks the
    threshold, so the guarantee and the minimum number of normals are the same as there. Use the
    result as ``pixel_threshold`` of `ImageVerdict.judge` and `find_regions` (with the same
    ``min_area_px``).

    Args:
        normal_maps: ``(N, H, W)`` anomaly maps of held-out good images.
        false_alarm_rate: Affordable share of good images with an outlined region, in (0, 1).
    """
    maps = np.asarray(normal_maps, dtype=np.float32)
    if maps.ndim != 3:
        raise InputError(f"normal maps must be (N, H, W); got shape {maps.shape}")
    if not np.all(np.isfinite(maps)):
        raise InputError("anomaly maps must be finite numbers (found NaN or infinity)")
    scores = np.array([region_score(m, min_area_px, connectivity) for m in maps])
    return calibrate_threshold(scores, false_alarm_rate)


@dataclass
class ImageVerdict:
    """Pass or fail of one inspected image.

    Attributes:
        index: Position of the image in its batch.
        name: File name (or another label) of the image.
        score: The image's anomaly score.
        passed: True when the score is at or below the threshold.
        regions: Defect regions of its anomaly map (empty for most passing images).
    """

    index: int
    name: str
    score: float
    passed: bool
    regions: list[Region] = field(default_factory=list)

    @classmethod
    def judge(
        cls,
        index: int,
        name: str,
        score: float,
        anomaly_map: np.ndarray,
        image_threshold: float,
        pixel_threshold: float,
        min_area_px: int = 16,
    ) -> ImageVerdict:
        """The verdict of one image: pass/fail from its score, regions from its map."""
        regions = find_regions(anomaly_map, pixel_threshold, min_area_px)
        return cls(index, name, float(score), bool(score <= image_threshold), regions)

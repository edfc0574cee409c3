"""How well an inspection separates defects from good parts: image AUROC, pixel AUROC, PRO, and the
precision / recall / false-alarm rate at a threshold.

Conventions: a higher score is more anomalous, and an image (or pixel) *alarms* when its score is
strictly above the threshold. Metrics that need both classes (AUROC, PRO, recall, false-alarm rate)
are NaN when the input holds only one of them, so a page can show "n/a" instead of failing; malformed
input (shapes that do not match, non-finite scores, nothing to score) raises `InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from shared_models.exceptions import InputError

__all__ = [
    "OperatingPoints",
    "ThresholdMetrics",
    "image_auroc",
    "operating_points",
    "pixel_auroc",
    "pro_score",
    "threshold_metrics",
]

MAX_AUROC_PIXELS = 2_000_000  # pixel AUROC on more pixels than this uses a fixed random subsample


def _scores_and_labels(scores: np.ndarray, is_defective: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(is_defective, dtype=bool).ravel()
    if values.size == 0:
        raise InputError("there are no scores to evaluate")
    if values.shape != labels.shape:
        raise InputError(f"{values.size} scores but {labels.size} labels; give one label per score")
    if not np.all(np.isfinite(values)):
        raise InputError("scores must be finite numbers (found NaN or infinity)")
    return values, labels


def _maps_and_masks(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    maps, masks = np.asarray(maps, dtype=np.float32), np.asarray(masks, dtype=bool)
    if maps.ndim == 2:
        maps, masks = maps[None], masks[None]
    if maps.ndim != 3 or maps.shape != masks.shape:
        raise InputError(f"anomaly maps {maps.shape} and masks {masks.shape} must both be (N, H, W)")
    if maps.size == 0:
        raise InputError("there are no anomaly maps to evaluate")
    if not np.all(np.isfinite(maps)):
        raise InputError("anomaly maps must be finite numbers (found NaN or infinity)")
    return maps, masks


def image_auroc(scores: np.ndarray, is_defective: np.ndarray) -> float:
    """Area under the ROC curve of image scores: 1 = every defective image scores above every good one,
    0.5 = chance.

    Returns:
        The AUROC, or NaN when the images are all good or all defective.
    """
    values, labels = _scores_and_labels(scores, is_defective)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, values))


def pixel_auroc(maps: np.ndarray, masks: np.ndarray, max_pixels: int = MAX_AUROC_PIXELS) -> float:
    """Area under the ROC curve of every pixel's anomaly score against the defect masks.

    Above ``max_pixels`` pixels, a fixed random subsample (seed 0, so the result is reproducible) of that
    many is scored, drawn per class: AUROC compares defect pixels with normal ones, so keeping every
    defect pixel (up to half the budget) and sampling the normal ones leaves it unbiased even when
    defects are rare.

    Returns:
        The pixel AUROC, or NaN when no pixel (or every pixel) is a defect.
    """
    maps, masks = _maps_and_masks(maps, masks)
    values, labels = maps.ravel(), masks.ravel()
    if labels.all() or not labels.any():
        return float("nan")
    if values.size > max_pixels:
        rng = np.random.default_rng(0)
        defect, normal = np.flatnonzero(labels), np.flatnonzero(~labels)
        n_defect = min(defect.size, max(max_pixels // 2, max_pixels - normal.size))
        keep = np.concatenate(
            [
                rng.choice(defect, size=n_defect, replace=False),
                rng.choice(normal, size=min(normal.size, max_pixels - n_defect), replace=False),
            ]
        )
        values, labels = values[keep], labels[keep]
    return float(roc_auc_score(labels, values))


def _count_above(values: np.ndarray, thresholds: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """``(n_groups, T)`` counts of values strictly above each ascending threshold, per group id."""
    n = thresholds.size
    # Thresholds below a value: the value is above thresholds[0 .. below-1].
    below = np.searchsorted(thresholds, values, side="left")
    hist = np.bincount(groups * (n + 1) + below, minlength=n_groups * (n + 1)).reshape(n_groups, n + 1)
    suffix = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # suffix[:, k] = values with `below` >= k
    return suffix[:, 1:]  # above threshold k  <=>  below >= k + 1


def pro_score(maps: np.ndarray, masks: np.ndarray, max_fpr: float = 0.3, num_thresholds: int = 200) -> float:
    """Normalised area under the per-region-overlap (PRO) curve up to a false-positive rate, as in the
    MVTec AD paper (Bergmann et al., CVPR 2019 / IJCV 2021).

    Each connected component of a ground-truth mask is one region. At a threshold, a region's overlap
    is the share of its pixels above the threshold; PRO is the mean overlap over all regions of all
    images, plotted against the false-positive rate over all defect-free pixels. The area under that
    curve from FPR 0 to ``max_fpr`` is divided by ``max_fpr``, so 1 is perfect; a random map scores about
    ``max_fpr / 2``. Unlike pixel AUROC, every defect counts the same whatever its size.

    The thresholds are quantiles of the defect-free pixels, so the FPR axis is sampled evenly over
    [0, ``max_fpr``]; counting uses one histogram pass, fast on hundreds of 256x256 maps.

    Args:
        maps: ``(N, H, W)`` anomaly maps (a single ``(H, W)`` map is accepted).
        masks: ``(N, H, W)`` bool ground truth.
        max_fpr: Upper end of the integration, in (0, 1].
        num_thresholds: Points on the curve.

    Returns:
        The normalised PRO area, or NaN when there is no defect region or no defect-free pixel.
    """
    if not 0 < max_fpr <= 1:
        raise InputError(f"max_fpr must be in (0, 1], got {max_fpr}")
    maps, masks = _maps_and_masks(maps, masks)
    labelled = np.zeros(masks.shape, dtype=np.int64)
    n_regions = 0
    for i, mask in enumerate(masks):
        regions, count = ndimage.label(mask)
        labelled[i] = np.where(regions > 0, regions + n_regions, 0)
        n_regions += count
    normal = maps[~masks].astype(np.float64)
    if n_regions == 0 or normal.size == 0:
        return float("nan")
    # A little past max_fpr, so the curve can be interpolated exactly at max_fpr.
    levels = 1.0 - np.linspace(0.0, min(1.0, max_fpr * 1.05), num_thresholds)
    thresholds = np.unique(np.quantile(normal, np.clip(levels, 0.0, 1.0)))
    thresholds = np.append(thresholds, np.nextafter(normal.min(), -np.inf))  # every normal pixel alarms
    thresholds.sort()
    fpr = _count_above(normal, thresholds, np.zeros(normal.size, dtype=np.int64), 1)[0] / normal.size
    in_region = labelled > 0
    region_ids = labelled[in_region] - 1
    hits = _count_above(maps[in_region].astype(np.float64), thresholds, region_ids, n_regions)
    areas = np.bincount(region_ids, minlength=n_regions)[:, None]
    pro = (hits / areas).mean(axis=0)
    order = np.argsort(fpr, kind="stable")  # thresholds ascend, so FPR descends: reverse for the area
    fpr, pro = fpr[order], pro[order]
    fpr_axis = np.concatenate([fpr[fpr < max_fpr], [max_fpr]])
    pro_axis = np.concatenate([pro[fpr < max_fpr], [np.interp(max_fpr, fpr, pro)]])
    return float(np.trapezoid(pro_axis, fpr_axis) / max_fpr)


@dataclass(frozen=True)
class ThresholdMetrics:
    """Image-level outcome at one threshold (an image alarms when its score is above it).

    Attributes:
        threshold: The threshold used.
        precision: Share of alarms that are defects (NaN when nothing alarms).
        recall: Share of defective images that alarm (NaN when there is none).
        f1: Harmonic mean of precision and recall (0 when no defect is caught).
        false_alarm_rate: Share of good images that alarm (NaN when there is none).
        true_positives, false_positives, false_negatives, true_negatives: The confusion counts.
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    false_alarm_rate: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int


def _ratio(numerator: np.ndarray | int, denominator: np.ndarray | int) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def threshold_metrics(scores: np.ndarray, is_defective: np.ndarray, threshold: float) -> ThresholdMetrics:
    """Precision, recall, F1 and false-alarm rate of the rule "score > threshold"."""
    values, labels = _scores_and_labels(scores, is_defective)
    alarms = values > threshold
    tp, fp = int((alarms & labels).sum()), int((alarms & ~labels).sum())
    fn, tn = int((~alarms & labels).sum()), int((~alarms & ~labels).sum())
    return ThresholdMetrics(
        threshold=float(threshold),
        precision=float(_ratio(tp, tp + fp)),
        recall=float(_ratio(tp, tp + fn)),
        f1=float(_ratio(2 * tp, 2 * tp + fp + fn)),
        false_alarm_rate=float(_ratio(fp, fp + tn)),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
    )


@dataclass(frozen=True)
class OperatingPoints:
    """Every distinct outcome of "score > threshold", for a threshold slider or a precision/recall plot.

    Arrays share one length and follow ``thresholds`` ascending: the first threshold lies just below the
    lowest score (everything alarms), the last is the highest score (nothing alarms). Between two listed
    thresholds the outcome equals that at the lower one. NaN rules are those of `ThresholdMetrics`.
    """

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    false_alarm_rate: np.ndarray


def operating_points(scores: np.ndarray, is_defective: np.ndarray) -> OperatingPoints:
    """Precision, recall, F1 and false-alarm rate at every threshold where they change."""
    values, labels = _scores_and_labels(scores, is_defective)
    distinct = np.unique(values)
    thresholds = np.concatenate([[np.nextafter(distinct[0], -np.inf)], distinct])

    # Images above threshold k: those whose score sorts after it.
    def above(selected: np.ndarray) -> np.ndarray:
        ordered = np.sort(selected)
        return selected.size - np.searchsorted(ordered, thresholds, side="right")

    tp, fp = above(values[labels]), above(values[~labels])
    positives, negatives = int(labels.sum()), int((~labels).sum())
    return OperatingPoints(
        thresholds=thresholds,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, np.full_like(tp, positives)),
        f1=_ratio(2 * tp, 2 * tp + fp + (positives - tp)),
        false_alarm_rate=_ratio(fp, np.full_like(fp, negatives)),
    )

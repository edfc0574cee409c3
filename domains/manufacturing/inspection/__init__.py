"""Visual inspection trained on good parts only: a built-in surface benchmark, unsupervised detectors
(patch statistics, SSIM autoencoder, DRAEM-style), threshold calibration, defect regions and metrics;
plus a supervised defect-type classifier for labelled defect folders.

Example:
    >>> data = make_benchmark(BenchmarkSpec(surface="circuit", image_size=128))
    >>> inspector = train_inspector(data.train, data.calibration, InspectorSpec("patch_stats"))
    >>> evaluate(inspector, data).image_auroc
"""

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from domains.manufacturing.inspection.detectors import DETECTORS, build_detector, load_detector
from domains.manufacturing.inspection.pipeline import (
    Evaluation,
    InspectionReport,
    Inspector,
    InspectorSpec,
    evaluate,
    inspect_images,
    load_inspector,
    train_inspector,
)

__all__ = [
    "DETECTORS",
    "GOOD",
    "BenchmarkSpec",
    "Evaluation",
    "InspectionReport",
    "InspectionSet",
    "Inspector",
    "InspectorSpec",
    "build_detector",
    "evaluate",
    "inspect_images",
    "load_detector",
    "load_inspector",
    "make_benchmark",
    "train_inspector",
]

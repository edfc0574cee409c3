"""The data every inspection step shares: an `InspectionSet` of normal and test images with pixel masks.

Conventions, used by the generator, the upload loaders, the detectors and the metrics alike:
images are ``(N, H, W, 3)`` float32 in [0, 1]; masks are ``(N, H, W)`` bool (True = defect pixel);
anomaly maps are ``(N, H, W)`` float32 (higher = more anomalous); a label is a defect type, or
``"good"`` for a normal image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared_models.exceptions import InputError

__all__ = ["GOOD", "InspectionSet"]

GOOD = "good"


@dataclass
class InspectionSet:
    """Normal images to learn from, and test images to score, as one category.

    Attributes:
        name: Category name (a built-in surface, an upload, a folder).
        train: Normal images only, to fit a detector on.
        calibration: Held-out normal images, to set the alarm threshold on.
        test: Images to score; normal and defective mixed.
        test_masks: Defect pixels of each test image (all False for a good one).
        test_labels: ``GOOD`` or the defect type of each test image.
        info: Free-form provenance (seed, source folder, skipped files).
    """

    name: str
    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    test_masks: np.ndarray
    test_labels: list[str]
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for part in ("train", "calibration", "test"):
            images = getattr(self, part)
            if images.ndim != 4 or images.shape[-1] != 3:
                raise InputError(f"{part} images must be (N, H, W, 3); got shape {images.shape}")
        if self.test_masks.shape != self.test.shape[:3]:
            raise InputError(f"test masks {self.test_masks.shape} do not match test images {self.test.shape}")
        if len(self.test_labels) != len(self.test):
            raise InputError(f"{len(self.test_labels)} labels for {len(self.test)} test images")

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of every image."""
        return self.train.shape[1], self.train.shape[2]

    @property
    def is_defective(self) -> np.ndarray:
        """``(N,)`` bool: which test images hold a defect."""
        return np.array([label != GOOD for label in self.test_labels])

    @property
    def defect_types(self) -> list[str]:
        """Defect types present in the test set, sorted."""
        return sorted({label for label in self.test_labels if label != GOOD})

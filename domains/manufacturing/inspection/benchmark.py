"""The built-in inspection benchmark: one seeded `InspectionSet` per surface.

Train and calibration sets hold normal tiles only; the test set mixes good tiles with tiles carrying one
synthetic defect each, with its pixel mask. Everything follows from (surface, sizes, seed), so two runs
build identical sets and figures can be compared across detectors and machines.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from domains.manufacturing.inspection.dataset import GOOD, InspectionSet
from domains.manufacturing.inspection.defects import DEFECT_TYPES, add_defect
from domains.manufacturing.inspection.surfaces import SURFACES, make_tiles
from shared_models.exceptions import InputError

__all__ = ["BenchmarkSpec", "make_benchmark"]


@dataclass(frozen=True)
class BenchmarkSpec:
    """How big one category of the built-in benchmark is.

    Attributes:
        surface: A key of `SURFACES`.
        image_size: Tile side in pixels.
        n_train: Normal tiles to fit on.
        n_calibration: Held-out normal tiles to set the threshold on.
        n_test_good: Good tiles in the test set.
        n_per_defect: Defective tiles per defect type in the test set.
        defect_types: Which defects to synthesise (default: all).
        seed: Seeds every tile and defect.
    """

    surface: str = "brick"
    image_size: int = 256
    n_train: int = 120
    n_calibration: int = 40
    n_test_good: int = 40
    n_per_defect: int = 10
    defect_types: tuple[str, ...] = field(default_factory=lambda: tuple(DEFECT_TYPES))
    seed: int = 0

    def validate(self) -> BenchmarkSpec:
        """Check names and counts; return self."""
        if self.surface not in SURFACES:
            raise InputError(f"unknown surface {self.surface!r}; built-in surfaces: {', '.join(SURFACES)}")
        unknown = [d for d in self.defect_types if d not in DEFECT_TYPES]
        if unknown or not self.defect_types:
            raise InputError(f"defect types must be among {', '.join(DEFECT_TYPES)}; got {unknown or 'none'}")
        if min(self.n_train, self.n_calibration, self.n_test_good, self.n_per_defect) < 1:
            raise InputError("every part of the benchmark needs at least one image")
        return self


def make_benchmark(spec: BenchmarkSpec | None = None) -> InspectionSet:
    """Build one category of the benchmark (see `BenchmarkSpec`)."""
    spec = (spec or BenchmarkSpec()).validate()
    n_defective = spec.n_per_defect * len(spec.defect_types)
    total = spec.n_train + spec.n_calibration + spec.n_test_good + n_defective
    tiles = make_tiles(spec.surface, total, spec.image_size, seed=spec.seed)
    train = tiles[: spec.n_train]
    calibration = tiles[spec.n_train : spec.n_train + spec.n_calibration]
    test = tiles[spec.n_train + spec.n_calibration :].copy()
    masks = np.zeros(test.shape[:3], dtype=bool)
    labels = [GOOD] * spec.n_test_good
    rng = np.random.default_rng([spec.seed, 15485863, zlib.crc32(spec.surface.encode())])
    for k, kind in enumerate(spec.defect_types):
        for j in range(spec.n_per_defect):
            index = spec.n_test_good + k * spec.n_per_defect + j
            test[index], masks[index] = add_defect(test[index], kind, rng)
            labels.append(kind)
    return InspectionSet(
        name=spec.surface,
        train=train,
        calibration=calibration,
        test=test,
        test_masks=masks,
        test_labels=labels,
        info={"source": "built-in benchmark", "seed": spec.seed, "surface": SURFACES[spec.surface].title},
    )

"""The built-in benchmark: deterministic, masks that cover exactly what the defects changed."""

from __future__ import annotations

import numpy as np
import pytest

from domains.manufacturing.inspection.benchmark import BenchmarkSpec, make_benchmark
from domains.manufacturing.inspection.dataset import GOOD
from domains.manufacturing.inspection.defects import DEFECT_TYPES, add_defect
from domains.manufacturing.inspection.surfaces import SURFACES, make_tiles
from shared_models.exceptions import InputError

SMALL = {"image_size": 64, "n_train": 3, "n_calibration": 2, "n_test_good": 2, "n_per_defect": 1}


def test_same_seed_same_set_and_different_seed_different_set():
    first = make_benchmark(BenchmarkSpec(surface="gravel", **SMALL))
    again = make_benchmark(BenchmarkSpec(surface="gravel", **SMALL))
    other = make_benchmark(BenchmarkSpec(surface="gravel", seed=1, **SMALL))
    assert np.array_equal(first.test, again.test) and np.array_equal(first.test_masks, again.test_masks)
    assert not np.allclose(first.train, other.train)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_surface_makes_varied_tiles_in_range(surface):
    tiles = make_tiles(surface, 3, size=64, seed=0)
    assert tiles.shape == (3, 64, 64, 3) and tiles.dtype == np.float32
    assert tiles.min() >= 0.0 and tiles.max() <= 1.0
    assert tiles.std() > 0.01, "a surface must not be flat"
    assert not np.allclose(tiles[0], tiles[1]), "tiles differ in position and lighting"


@pytest.mark.parametrize("kind", list(DEFECT_TYPES))
def test_mask_covers_the_change_and_only_it(kind):
    tile = make_tiles("woven_fabric", 1, size=128, seed=3)[0]  # a strong pattern: missing print shows
    rng = np.random.default_rng(5)
    damaged, mask = add_defect(tile, kind, rng)
    changed = np.abs(damaged - tile).max(-1)
    assert mask.dtype == bool and 0.0005 < mask.mean() < 0.2, f"{kind} covers {mask.mean():.4f}"
    # Inside the mask the defect shows; outside it, almost nothing changed.
    assert changed[mask].mean() > 0.04
    assert np.quantile(changed[~mask], 0.999) < 0.12


def test_test_set_labels_masks_and_train_set_is_clean():
    data = make_benchmark(BenchmarkSpec(surface="brick", **SMALL))
    assert data.test_labels[:2] == [GOOD, GOOD] and data.defect_types == sorted(DEFECT_TYPES)
    assert not data.test_masks[:2].any() and all(m.any() for m in data.test_masks[2:])
    assert data.is_defective.sum() == len(DEFECT_TYPES)


def test_unknown_names_are_clear_errors():
    with pytest.raises(InputError, match="unknown surface"):
        make_benchmark(BenchmarkSpec(surface="marble"))
    with pytest.raises(InputError, match="defect types"):
        make_benchmark(BenchmarkSpec(defect_types=("dent",)))

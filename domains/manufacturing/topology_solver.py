"""Finite elements and the linear solver behind topology optimisation.

* `QuadModel`: bilinear plane-stress quads on a structured grid with the element stiffness of
  Andreassen et al. (2011, the "88-line" code), so the published compliances are reproduced. Like
  the part-design `HexModel` (reused as is for 3-D) it precomputes where each element-matrix entry
  lands in the CSC matrix of the free DOFs: each iteration only rebuilds the data array.
* `SpdSolver`: a sparse Cholesky factorisation through CHOLMOD (scikit-sparse) that analyses the
  sparsity pattern once (METIS ordering) and only refactorises numerically afterwards; where
  scikit-sparse is not installed it falls back to SuperLU in symmetric mode and says so in
  `SpdSolver.note`.
* `DensityFilter`: the cone-weighted filter of the 88-line code as a convolution with zero padding,
  exactly ``H x`` on a structured grid, without the sparse matrix.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.linalg import splu

from domains.manufacturing.fea import HexModel, VoxelGrid

__all__ = [
    "DensityFilter",
    "QuadModel",
    "SolverBackend",
    "SpdSolver",
    "csc_assembly_map",
    "fast_solver_available",
    "q4_stiffness",
]

SolverBackend = Literal["auto", "cholmod", "superlu"]


def q4_stiffness(nu: float) -> np.ndarray:
    """The 88-line code's 8x8 plane-stress stiffness of a unit square element with E = 1."""
    a11 = np.array([[12, 3, -6, -3], [3, 12, 3, 0], [-6, 3, 12, -3], [-3, 0, -3, 12]], float)
    a12 = np.array([[-6, -3, 0, 3], [-3, -6, -3, -6], [0, -3, -6, 3], [3, -6, 3, -6]], float)
    b11 = np.array([[-4, 3, -2, 9], [3, -4, -9, 4], [-2, -9, -4, -3], [9, 4, -3, -4]], float)
    b12 = np.array([[2, -3, 4, -9], [-3, 2, 9, -2], [4, 9, 2, 3], [-9, -2, 3, 2]], float)
    a = np.block([[a11, a12], [a12.T, a11]])
    b = np.block([[b11, b12], [b12.T, b11]])
    return 1 / (1 - nu**2) / 24 * (a + nu * b)


def csc_assembly_map(
    element_dofs: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slots of every element-matrix entry between free DOFs in the CSC matrix of the free DOFs.

    Returns:
        ``(entry_element, entry_local, slot, indices, indptr)``: entry ``e`` adds
        ``ke.ravel()[entry_local[e]] * E[entry_element[e]]`` to ``data[slot[e]]``.
    """
    n_el, size = element_dofs.shape
    reduced = np.full(free.size, -1, dtype=np.int64)
    reduced[free] = np.arange(int(free.sum()))
    local = reduced[element_dofs]
    rows = np.repeat(local, size, axis=1).ravel()
    cols = np.tile(local, (1, size)).ravel()
    keep = (rows >= 0) & (cols >= 0)
    entry_element = np.repeat(np.arange(n_el), size * size)[keep]
    entry_local = np.tile(np.arange(size * size), n_el)[keep]
    n = int(free.sum())
    keys = cols[keep] * n + rows[keep]  # column-major order gives CSC directly
    unique, slot = np.unique(keys, return_inverse=True)
    indices = (unique % n).astype(np.int32)
    indptr = np.searchsorted(unique // n, np.arange(n + 1)).astype(np.int32)
    return entry_element, entry_local, slot, indices, indptr


class QuadModel:
    """Plane-stress Q4 elements on an (nelx, nely) grid, unit squares, y up.

    Node (i, j) has id ``i * (nely + 1) + j``; element (i, j) id ``i * nely + j`` (C order of the
    (nelx, nely) density array). DOF ``2 * node + axis``.

    Args:
        nelx, nely: Elements along x and y.
        fixed: Boolean (n_nodes, 2) of held components.
        poisson_ratio: nu.
    """

    def __init__(self, nelx: int, nely: int, fixed: np.ndarray, poisson_ratio: float = 0.3) -> None:
        self.shape = (nelx, nely)
        self.ke = q4_stiffness(poisson_ratio)
        i, j = np.meshgrid(np.arange(nelx), np.arange(nely), indexing="ij")
        ll = (i * (nely + 1) + j).ravel()  # lower-left node; then counter-clockwise
        nodes = np.stack([ll, ll + nely + 1, ll + nely + 2, ll + 1], axis=1)
        self.element_dofs = (2 * nodes[:, :, None] + np.arange(2)).reshape(-1, 8)
        free = ~np.asarray(fixed, dtype=bool).ravel()
        self.free_dofs = np.flatnonzero(free)
        self._element, self._local, self._slot, self._indices, self._indptr = csc_assembly_map(
            self.element_dofs, free
        )
        self._ke_values = self.ke.ravel()[self._local]

    @property
    def n_dofs(self) -> int:
        return len(self.free_dofs)

    def stiffness(self, youngs: np.ndarray) -> sp.csc_matrix:
        """Free-DOF stiffness for E per element; only the data array is computed."""
        data = np.bincount(
            self._slot, weights=self._ke_values * youngs[self._element], minlength=len(self._indices)
        )
        n = self.n_dofs
        return sp.csc_matrix((data, self._indices, self._indptr), shape=(n, n))


def hex_model(shape: tuple[int, int, int], fixed: np.ndarray, poisson_ratio: float = 0.3) -> HexModel:
    """The part-design hex model over every voxel of a unit-cube grid (topology optimisation in 3-D)."""
    grid = VoxelGrid(np.ones(shape, dtype=bool), spacing=(1.0, 1.0, 1.0))
    return HexModel(grid, fixed, poisson_ratio, elements=np.arange(int(np.prod(shape))))


def fast_solver_available() -> bool:
    """True when CHOLMOD (scikit-sparse) can be imported."""
    try:
        import sksparse.cholmod  # noqa: F401
    except ImportError:
        return False
    return True


class SpdSolver:
    """Repeated solves with symmetric positive-definite matrices of one sparsity pattern.

    Args:
        backend: "cholmod" (needs scikit-sparse), "superlu", or "auto" (CHOLMOD when importable).
    """

    def __init__(self, backend: SolverBackend = "auto") -> None:
        if backend == "auto":
            backend = "cholmod" if fast_solver_available() else "superlu"
        self.backend = backend
        self._factor = None
        self.note = (
            "sparse Cholesky (CHOLMOD, METIS ordering analysed once)"
            if backend == "cholmod"
            else "SuperLU fallback: scikit-sparse (CHOLMOD) is not installed, so each solve is several "
            "times slower; install libsuitesparse-dev and scikit-sparse for the fast path"
        )

    def solve(self, matrix: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
        """``matrix^-1 rhs`` (rhs (n,) or (n, k))."""
        if self.backend == "cholmod":
            from sksparse.cholmod import analyze

            if self._factor is None:
                self._factor = analyze(matrix, ordering_method="metis")
            self._factor.cholesky_inplace(matrix)
            return self._factor(rhs)
        factor = splu(
            matrix, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
        return factor.solve(np.asarray(rhs))


class DensityFilter:
    """The cone filter ``H`` (weights ``max(0, rmin - distance)``) on a structured grid.

    ``apply(x) = (H x) / Hs`` and the chain rules of the sensitivity and density filters of the
    88-line code, computed with ``ndimage.correlate`` (zero padding), which equals ``H x`` exactly.
    """

    def __init__(self, shape: tuple[int, ...], rmin: float) -> None:
        reach = max(math.ceil(rmin) - 1, 0)
        offsets = np.meshgrid(*[np.arange(-reach, reach + 1)] * len(shape), indexing="ij")
        distance = np.sqrt(sum(o.astype(float) ** 2 for o in offsets))
        self.kernel = np.maximum(0.0, rmin - distance)
        if not self.kernel.any():  # rmin <= 1 with reach 0 would zero the centre: no filtering
            self.kernel = np.ones([1] * len(shape))
        self.shape = shape
        self.hs = self.convolve(np.ones(shape))
        # sum(H x / Hs) = (H^T (1 / Hs)) . x: the volume of a filtered design without filtering it
        self.volume_weights = self.convolve(1.0 / self.hs)

    def convolve(self, field: np.ndarray) -> np.ndarray:
        return ndimage.correlate(field.reshape(self.shape), self.kernel, mode="constant", cval=0.0)

    def apply(self, x: np.ndarray) -> np.ndarray:
        return self.convolve(x) / self.hs

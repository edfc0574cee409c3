"""Linear-elastic finite elements on a structured voxel grid (8-node hexahedra).

Built once for two users: part design (a voxelised part, only its solid voxels active) and topology
optimisation (every voxel active, its stiffness scaled by a density). So the expensive bookkeeping is
done once per grid and support set in `HexModel`, and each solve only rebuilds the stiffness values:

* one element stiffness for E = 1 (all voxels are the same box), with three incompatible (bubble)
  modes per direction condensed out (Wilson-Taylor). Plain trilinear hexes lock in bending: a
  cantilever two elements deep comes out 12 % too stiff with cubes and over twice too stiff with
  4:1 elements; the bubble modes represent pure bending exactly, so it is right within 1 %;
* an element-to-DOF map, and a map from every element-matrix entry to its slot in the CSC matrix of
  the free DOFs, so assembly is a single weighted ``bincount``;
* supports as a boolean (nodes, 3) mask, loads as a (nodes, 3) force array, element stiffness
  scaling (E per element) as an input to `HexModel.solve`.

Units are the caller's; the suite uses millimetres, newtons and MPa (so stresses are in MPa).
Stresses are evaluated at element centroids, where the bubble modes contribute nothing.

Example:
    >>> grid = VoxelGrid(np.ones((20, 2, 4), bool), spacing=(5.0, 5.0, 5.0))
    >>> fixed = np.zeros((grid.n_nodes, 3), bool)
    >>> fixed[grid.node_coordinates()[:, 0] == 0] = True
    >>> model = HexModel(grid, fixed, poisson_ratio=0.3)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.linalg import splu

from shared_models.exceptions import InputError

__all__ = [
    "DEFAULT_VOXELS_PER_WALL",
    "Analysis",
    "Box",
    "CantileverCheck",
    "HexModel",
    "LoadCase",
    "Solution",
    "VoxelGrid",
    "analyze",
    "box_mesh",
    "cantilever_check",
    "hex8_stiffness",
    "keep_supported",
    "von_mises",
    "voxel_surface",
    "voxelize",
]

# Local node order of a hexahedron in natural coordinates (xi, eta, zeta).
_CORNERS = np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]],
    dtype=float,
)
_GAUSS = 1.0 / np.sqrt(3.0)
DEFAULT_VOXELS_PER_WALL = 2  # the suite's default FE resolution: two voxels through the thinnest wall
MAX_ELEMENTS = 200_000  # ~ 700k DOFs: beyond this a direct solve on one machine runs out of memory


def _elasticity(nu: float) -> np.ndarray:
    """Isotropic elasticity matrix for E = 1, Voigt order (xx, yy, zz, xy, yz, zx)."""
    lam = nu / ((1 + nu) * (1 - 2 * nu))
    mu = 1 / (2 * (1 + nu))
    d = np.zeros((6, 6))
    d[:3, :3] = lam
    d[np.arange(3), np.arange(3)] += 2 * mu
    d[np.arange(3, 6), np.arange(3, 6)] = mu
    return d


def _strain_matrix(grads: np.ndarray) -> np.ndarray:
    """B (6, 3n) from shape-function gradients (n, 3) in physical coordinates."""
    n = grads.shape[0]
    b = np.zeros((6, 3 * n))
    gx, gy, gz = grads[:, 0], grads[:, 1], grads[:, 2]
    b[0, 0::3], b[1, 1::3], b[2, 2::3] = gx, gy, gz
    b[3, 0::3], b[3, 1::3] = gy, gx
    b[4, 1::3], b[4, 2::3] = gz, gy
    b[5, 0::3], b[5, 2::3] = gz, gx
    return b


def _gradients(point: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Physical gradients of the 8 trilinear and the 3 bubble functions at a natural point."""
    xi = point
    factors = 1 + _CORNERS * xi  # (8, 3)
    dn = np.empty((8, 3))
    dn[:, 0] = _CORNERS[:, 0] * factors[:, 1] * factors[:, 2] / 8
    dn[:, 1] = _CORNERS[:, 1] * factors[:, 0] * factors[:, 2] / 8
    dn[:, 2] = _CORNERS[:, 2] * factors[:, 0] * factors[:, 1] / 8
    bubbles = np.diag(-2 * xi)  # d(1 - xi_i^2)/d xi_j
    return dn / half, bubbles / half


@lru_cache(maxsize=32)
def hex8_stiffness(
    spacing: tuple[float, float, float], poisson_ratio: float, incompatible: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Stiffness of one box element for E = 1, and its centroid stress operator.

    Args:
        spacing: Edge lengths (dx, dy, dz).
        poisson_ratio: nu.
        incompatible: Add and condense the 9 incompatible bending modes (recommended).

    Returns:
        ``(ke, stress)``: ``ke`` (24, 24) symmetric; ``stress`` (9, 6, 24) gives the stress (Voigt
        order) of an element with E = 1 from its 24 nodal displacements at the centroid (index 0)
        and at the 8 corners, including the condensed bubble modes (they make the bending stress
        linear through an element, so corner values reach the surface of a bent plate).
    """
    half = np.asarray(spacing, dtype=float) / 2
    d = _elasticity(poisson_ratio)
    det_j = float(np.prod(half))
    kuu, kua, kaa = np.zeros((24, 24)), np.zeros((24, 9)), np.zeros((9, 9))
    for point in _CORNERS * _GAUSS:  # 2x2x2 Gauss points, unit weights
        dn, db = _gradients(point, half)
        bu, ba = _strain_matrix(dn), _strain_matrix(db)
        kuu += bu.T @ d @ bu * det_j
        kua += bu.T @ d @ ba * det_j
        kaa += ba.T @ d @ ba * det_j
    condense = np.linalg.solve(kaa, kua.T) if incompatible else np.zeros((9, 24))  # alpha = -condense u
    ke = kuu - kua @ condense
    points = np.vstack([np.zeros(3), _CORNERS])  # the centroid, then the 8 corners
    stress = np.empty((9, 6, 24))
    for p, point in enumerate(points):
        dn, db = _gradients(point, half)
        stress[p] = d @ (_strain_matrix(dn) - _strain_matrix(db) @ condense)
    return 0.5 * (ke + ke.T), stress


def von_mises(stress: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress of (n, 6) Voigt stresses."""
    sx, sy, sz, txy, tyz, tzx = stress.T
    return np.sqrt(0.5 * ((sx - sy) ** 2 + (sy - sz) ** 2 + (sz - sx) ** 2) + 3 * (txy**2 + tyz**2 + tzx**2))


@dataclass(frozen=True)
class VoxelGrid:
    """A box of voxels, some solid: the FE mesh of a part or a design domain.

    Attributes:
        solid: Boolean (nx, ny, nz); ``solid[i, j, k]`` is the voxel at ``origin + (i, j, k) * spacing``.
        spacing: Voxel edge lengths (dx, dy, dz).
        origin: Coordinates of the grid's minimum corner.
    """

    solid: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.solid.ndim != 3 or self.solid.dtype != bool:
            raise InputError("a voxel grid needs a 3-D boolean array")
        if min(self.spacing) <= 0:
            raise InputError(f"voxel spacing must be positive, got {self.spacing}")

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.solid.shape)  # type: ignore[return-value]

    @property
    def node_shape(self) -> tuple[int, int, int]:
        nx, ny, nz = self.shape
        return nx + 1, ny + 1, nz + 1

    @property
    def n_nodes(self) -> int:
        return int(np.prod(self.node_shape))

    @property
    def voxel_volume(self) -> float:
        return float(np.prod(self.spacing))

    def node_coordinates(self) -> np.ndarray:
        """(n_nodes, 3) coordinates, node id = ``(i * (ny+1) + j) * (nz+1) + k``."""
        axes = [
            o + s * np.arange(n) for o, s, n in zip(self.origin, self.spacing, self.node_shape, strict=True)
        ]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)

    def element_nodes(self, elements: np.ndarray | None = None) -> np.ndarray:
        """(n, 8) node ids of the given flat voxel indices (all voxels if None), in `_CORNERS` order."""
        nx, ny, nz = self.shape
        flat = np.arange(nx * ny * nz) if elements is None else np.asarray(elements)
        i, j, k = np.unravel_index(flat, self.shape)
        _, my, mz = self.node_shape
        corners = _CORNERS.astype(int).clip(0, 1)  # -1 -> 0, 1 -> 1
        return ((i[:, None] + corners[:, 0]) * my + (j[:, None] + corners[:, 1])) * mz + (
            k[:, None] + corners[:, 2]
        )

    def centroids(self, elements: np.ndarray | None = None) -> np.ndarray:
        """(n, 3) centres of the given flat voxel indices."""
        flat = np.arange(self.solid.size) if elements is None else np.asarray(elements)
        idx = np.stack(np.unravel_index(flat, self.shape), axis=-1)
        return np.asarray(self.origin) + (idx + 0.5) * np.asarray(self.spacing)


@dataclass
class Solution:
    """One static solve.

    Attributes:
        displacement: (n_nodes, 3); zero at fixed and unused nodes.
        stress: (n_elements, 6) centroid stresses of the model's elements (Voigt order).
        von_mises: (n_elements,) equivalent stress at the centroids.
        peak_von_mises: (n_elements,) largest equivalent stress at any of an element's corners.
        element_energy: (n_elements,) ``u_e^T K_e u_e`` for each element (twice its strain energy).
        compliance: ``f . u`` (twice the strain energy; work of the loads).
        dofs: Number of free degrees of freedom solved for.
        seconds: Assembly plus solve time.
    """

    displacement: np.ndarray
    stress: np.ndarray
    von_mises: np.ndarray
    peak_von_mises: np.ndarray
    element_energy: np.ndarray
    compliance: float
    dofs: int
    seconds: float


class HexModel:
    """A voxel grid with its supports, prepared for repeated solves.

    Args:
        grid: The voxels; solid ones become elements unless ``elements`` is given.
        fixed: Boolean (n_nodes, 3): which displacement components are held at zero.
        poisson_ratio: nu, the same for all elements.
        elements: Flat voxel indices to use as elements (default: the solid voxels). Topology
            optimisation passes every voxel and scales each one's E in `solve`.

    Raises:
        InputError: No elements, too many, or no support at all (the model could move freely).
    """

    def __init__(
        self,
        grid: VoxelGrid,
        fixed: np.ndarray,
        poisson_ratio: float,
        elements: np.ndarray | None = None,
    ) -> None:
        self.grid = grid
        self.elements = np.flatnonzero(grid.solid.ravel()) if elements is None else np.asarray(elements)
        if self.elements.size == 0:
            raise InputError("the model has no solid voxels; increase the resolution or the part size")
        if self.elements.size > MAX_ELEMENTS:
            raise InputError(
                f"{self.elements.size:,} elements exceed the limit of {MAX_ELEMENTS:,}; lower the resolution"
            )
        fixed = np.asarray(fixed, dtype=bool)
        if fixed.shape != (grid.n_nodes, 3):
            raise InputError(f"supports must be a ({grid.n_nodes}, 3) mask, got {fixed.shape}")
        self.fixed = fixed
        self.ke, self.stress_operator = hex8_stiffness(tuple(grid.spacing), float(poisson_ratio))
        self.element_dofs = (3 * grid.element_nodes(self.elements)[:, :, None] + np.arange(3)).reshape(-1, 24)
        used = np.zeros(grid.n_nodes * 3, dtype=bool)
        used[self.element_dofs.ravel()] = True
        if not (used & fixed.ravel()).any():
            raise InputError("no support touches the part: it would move freely. Check the load case")
        free = used & ~fixed.ravel()
        self.free_dofs = np.flatnonzero(free)
        self._build_assembly_map(free)

    def _build_assembly_map(self, free: np.ndarray) -> None:
        """Map each (element, local row, local col) entry between free DOFs to its CSC data slot."""
        n_dofs = free.size
        reduced = np.full(n_dofs, -1, dtype=np.int64)
        reduced[free] = np.arange(int(free.sum()))
        local = reduced[self.element_dofs]  # (n_el, 24), -1 at fixed DOFs
        rows = np.repeat(local, 24, axis=1).ravel()
        cols = np.tile(local, (1, 24)).ravel()
        keep = (rows >= 0) & (cols >= 0)
        self._entry_element = np.repeat(np.arange(len(self.elements)), 576)[keep]
        self._entry_local = np.tile(np.arange(576), len(self.elements))[keep]
        n = len(self.free_dofs)
        keys = cols[keep].astype(np.int64) * n + rows[keep]  # column-major order gives CSC directly
        unique, self._slot = np.unique(keys, return_inverse=True)
        self._indices = (unique % n).astype(np.int32)
        self._indptr = np.searchsorted(unique // n, np.arange(n + 1)).astype(np.int32)
        self._n = n

    @property
    def n_dofs(self) -> int:
        return self._n

    def stiffness(self, youngs: float | np.ndarray) -> sp.csc_matrix:
        """The free-DOF stiffness matrix for E per element (scalar or (n_elements,) array)."""
        scale = np.broadcast_to(np.asarray(youngs, dtype=float), (len(self.elements),))
        values = self.ke.ravel()[self._entry_local] * scale[self._entry_element]
        data = np.bincount(self._slot, weights=values, minlength=len(self._indices))
        return sp.csc_matrix((data, self._indices, self._indptr), shape=(self._n, self._n))

    def solve(self, loads: np.ndarray, youngs: float | np.ndarray) -> Solution:
        """Static displacement and centroid stresses under nodal ``loads`` (n_nodes, 3).

        Args:
            loads: Nodal forces; components at fixed DOFs are carried by the supports.
            youngs: E, one value or one per element (e.g. ``E * density**p`` in topology optimisation).
        """
        start = time.perf_counter()
        force = np.asarray(loads, dtype=float).reshape(-1)
        # SuperLU told the matrix is symmetric positive definite (symmetric ordering, diagonal
        # pivots): a third faster than its general mode for the few 10k DOFs of a voxelised part.
        factor = splu(
            self.stiffness(youngs),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        u = np.zeros_like(force)
        u[self.free_dofs] = factor.solve(force[self.free_dofs])
        if not np.all(np.isfinite(u)):
            raise InputError("the model is unstable (a part is not held by a support); check the load case")
        scale = np.broadcast_to(np.asarray(youngs, dtype=float), (len(self.elements),))
        ue = u[self.element_dofs]  # (n_el, 24)
        stress = (ue @ self.stress_operator[0].T) * scale[:, None]
        corners = (ue @ self.stress_operator[1:].reshape(-1, 24).T).reshape(len(ue), 8, 6) * scale[
            :, None, None
        ]
        peak = von_mises(corners.reshape(-1, 6)).reshape(-1, 8).max(axis=1)
        energy = np.einsum("ij,jk,ik->i", ue, self.ke, ue)  # for E = 1
        return Solution(
            displacement=u.reshape(-1, 3),
            stress=stress,
            von_mises=von_mises(stress),
            peak_von_mises=peak,
            element_energy=energy,
            compliance=float(force @ u),
            dofs=self._n,
            seconds=time.perf_counter() - start,
        )


# Corner indices (into `_CORNERS`) of each element face, outward normal -x, +x, -y, +y, -z, +z.
_FACES = np.array([[0, 4, 7, 3], [1, 2, 6, 5], [0, 1, 5, 4], [3, 7, 6, 2], [0, 3, 2, 1], [4, 5, 6, 7]])
_NEIGHBOURS = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]])


def voxel_surface(grid: VoxelGrid, elements: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The outer faces of a set of voxels, as triangles: what the FE model looks like.

    Returns:
        ``(vertices (n, 3), triangles (m, 3), owner (m,))`` where ``owner`` is the position in
        ``elements`` of the voxel each triangle bounds (to colour faces by element results).
    """
    active = np.zeros(grid.solid.size, dtype=bool)
    active[elements] = True
    active = active.reshape(grid.shape)
    position = np.full(grid.solid.size, -1)
    position[elements] = np.arange(len(elements))
    ijk = np.stack(np.unravel_index(elements, grid.shape), axis=-1)
    nodes = grid.element_nodes(elements)
    quads, owners = [], []
    for face, step in zip(_FACES, _NEIGHBOURS, strict=True):
        other = ijk + step
        inside = np.all((other >= 0) & (other < np.asarray(grid.shape)), axis=1)
        exposed = ~inside
        exposed[inside] = ~active[tuple(other[inside].T)]
        quads.append(nodes[exposed][:, face])
        owners.append(np.flatnonzero(exposed))
    quad, owner = np.concatenate(quads), np.concatenate(owners)
    used, compact = np.unique(quad, return_inverse=True)
    compact = compact.reshape(quad.shape)
    triangles = np.concatenate([compact[:, [0, 1, 2]], compact[:, [0, 2, 3]]])
    return grid.node_coordinates()[used], triangles, np.concatenate([owner, owner])


# -- voxelising a mesh ----------------------------------------------------------------------------


def voxelize(vertices: np.ndarray, faces: np.ndarray, pitch: float | tuple[float, float, float]) -> VoxelGrid:
    """Solid voxels of a closed triangle mesh: a voxel is solid when its centre is inside.

    Casts one ray per (x, y) column along +z and accumulates the signed crossings (outward normals
    down = entering), so it needs no ray-tracing library and handles any watertight mesh.

    Args:
        vertices: (n, 3) float.
        faces: (m, 3) int, outward-oriented.
        pitch: Voxel edge length, or (dx, dy, dz) for box-shaped voxels.
    """
    pitch = np.broadcast_to(np.asarray(pitch, dtype=float), (3,)).copy()
    if not np.all(pitch > 0):
        raise InputError(f"voxel pitch must be positive, got {pitch}")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    # Meshes from manifold3d carry float32 coordinates: a plate exactly one pitch thick can measure
    # a hair over it, which must not add a second (half-empty) layer of voxels.
    shape = np.maximum(np.ceil((hi - lo) / pitch - 1e-3).astype(int), 1)
    if int(np.prod(shape)) > 50 * MAX_ELEMENTS:
        raise InputError(f"a {tuple(shape)} voxel grid is too fine; lower the resolution")
    origin = lo - (shape * pitch - (hi - lo)) / 2  # centre the part in the grid
    # A tiny irrational offset keeps rays off the diagonals of triangulated rectangles.
    jitter = np.array([np.sqrt(2) - 1, np.sqrt(3) - 1.5]) * 1e-6 * pitch[:2]
    tri = vertices[faces]  # (m, 3, 3)
    e1, e2 = tri[:, 1, :2] - tri[:, 0, :2], tri[:, 2, :2] - tri[:, 0, :2]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]  # twice the projected signed area
    upright = np.abs(area) > 1e-12 * pitch[0] * pitch[1]  # walls parallel to z cross no ray
    count = np.zeros((shape[0], shape[1], shape[2] + 1), dtype=np.int32)
    for chunk in np.array_split(np.flatnonzero(upright), max(1, int(upright.sum()) // 2000)):
        _add_crossings(count, tri[chunk], area[chunk], origin, pitch, jitter, shape)
    solid = np.cumsum(count, axis=2)[:, :, :-1] > 0
    return VoxelGrid(solid, tuple(float(v) for v in pitch), tuple(float(v) for v in origin))


def _add_crossings(
    count: np.ndarray,
    tri: np.ndarray,
    area: np.ndarray,
    origin: np.ndarray,
    pitch: np.ndarray,
    jitter: np.ndarray,
    shape: np.ndarray,
) -> None:
    """Add +1 where a column's ray enters the mesh and -1 where it leaves, for a batch of triangles."""
    xy_lo, xy_hi = tri[:, :, :2].min(axis=1), tri[:, :, :2].max(axis=1)
    first = np.maximum(np.floor((xy_lo - origin[:2] - jitter) / pitch[:2] - 0.5).astype(int), 0)
    last = np.minimum(np.ceil((xy_hi - origin[:2] - jitter) / pitch[:2] - 0.5).astype(int), shape[:2] - 1)
    spans = np.maximum(last - first + 1, 0)  # (m, 2) columns covered by each bounding box
    per_tri = spans[:, 0] * spans[:, 1]
    owner = np.repeat(np.arange(len(tri)), per_tri)  # one entry per (triangle, candidate column)
    offset = np.arange(per_tri.sum()) - np.repeat(np.cumsum(per_tri) - per_tri, per_tri)
    ii = first[owner, 0] + offset // spans[owner, 1]
    jj = first[owner, 1] + offset % spans[owner, 1]
    px = origin[0] + (ii + 0.5) * pitch[0] + jitter[0]
    py = origin[1] + (jj + 0.5) * pitch[1] + jitter[1]
    a, b, c = tri[owner, 0], tri[owner, 1], tri[owner, 2]
    # Barycentric coordinates of the ray's (x, y) in the projected triangle.
    w0 = ((b[:, 0] - px) * (c[:, 1] - py) - (b[:, 1] - py) * (c[:, 0] - px)) / area[owner]
    w1 = ((c[:, 0] - px) * (a[:, 1] - py) - (c[:, 1] - py) * (a[:, 0] - px)) / area[owner]
    w2 = 1 - w0 - w1
    hit = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
    z = w0[hit] * a[hit, 2] + w1[hit] * b[hit, 2] + w2[hit] * c[hit, 2]
    # First voxel centre above the crossing; +1 entering (normal points down), -1 leaving.
    k = np.clip(np.ceil((z - origin[2]) / pitch[2] - 0.5).astype(int), 0, count.shape[2] - 1)
    np.add.at(count, (ii[hit], jj[hit], k), np.where(area[owner][hit] > 0, -1, 1))


# -- load cases on voxelised parts ----------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """An axis-aligned region ``lo <= x <= hi`` selecting nodes (a tolerance is added by users)."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]

    def contains(self, points: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
        lo, hi = np.asarray(self.lo) - tolerance, np.asarray(self.hi) + tolerance
        return np.all((points >= lo) & (points <= hi), axis=1)


@dataclass(frozen=True)
class LoadCase:
    """Where a part is held and pushed, in the part's own coordinates (mm, N).

    Attributes:
        supports: Regions whose nodes are held; ``support_dofs`` says which components ("xyz").
        support_dofs: One string per support, e.g. ``"xyz"`` (clamped) or ``"z"`` (roller).
        load_region: Region whose nodes share the load.
        force: Total force vector (N), split over the load nodes by their tributary volume.
        description: One line for people.
    """

    supports: tuple[Box, ...]
    support_dofs: tuple[str, ...]
    load_region: Box
    force: tuple[float, float, float]
    description: str = ""


@dataclass
class Analysis:
    """A part checked by the FE core.

    Attributes:
        max_von_mises: Peak element-centroid von Mises stress (MPa).
        max_displacement: Largest nodal displacement magnitude (mm).
        compliance: Work of the load (N mm).
        safety_factor: Yield strength / peak von Mises.
        solution: The raw solve; ``grid``/``model`` for plotting.
    """

    max_von_mises: float
    max_displacement: float
    compliance: float
    safety_factor: float
    elements: int
    dofs: int
    seconds: float
    solution: Solution = field(repr=False)
    model: HexModel = field(repr=False)
    load_nodes: int = 0
    dropped_voxels: int = 0


def _tributary_weights(model: HexModel) -> np.ndarray:
    """How many elements touch each node: the share of a uniform traction or body load it carries."""
    counts = np.bincount(model.grid.element_nodes(model.elements).ravel(), minlength=model.grid.n_nodes)
    return counts.astype(float)


def keep_supported(grid: VoxelGrid, supported_nodes: np.ndarray) -> tuple[VoxelGrid, int]:
    """Drop voxel islands (face-connected) that touch no support: they would float freely."""
    labels, count = ndimage.label(grid.solid)
    if count <= 1:
        return grid, 0
    node_of = grid.element_nodes(np.flatnonzero(grid.solid.ravel()))
    touches = supported_nodes[node_of].any(axis=1)
    keep_labels = np.unique(labels.ravel()[np.flatnonzero(grid.solid.ravel())][touches])
    solid = np.isin(labels, keep_labels) & grid.solid
    return VoxelGrid(solid, grid.spacing, grid.origin), int(grid.solid.sum() - solid.sum())


def analyze(
    grid: VoxelGrid, load_case: LoadCase, youngs_mpa: float, poisson: float, yield_mpa: float
) -> Analysis:
    """Place supports and loads on a voxelised part and solve.

    Nodes are selected by the load case's boxes with a tolerance of half a voxel, so a face that
    falls between voxel layers still catches the nearest layer of nodes.

    Raises:
        InputError: A support or the load catches no node of the part.
    """
    coords = grid.node_coordinates()
    tolerance = 0.5 * max(grid.spacing)
    all_elements = np.flatnonzero(grid.solid.ravel())
    in_part = np.zeros(grid.n_nodes, dtype=bool)
    in_part[grid.element_nodes(all_elements).ravel()] = True
    fixed = np.zeros((grid.n_nodes, 3), dtype=bool)
    for box, dofs in zip(load_case.supports, load_case.support_dofs, strict=True):
        nodes = box.contains(coords, tolerance) & in_part
        if not nodes.any():
            raise InputError(f"a support region {box} touches no part of the voxelised geometry")
        for axis, name in enumerate("xyz"):
            if name in dofs:
                fixed[nodes, axis] = True
    grid, dropped = keep_supported(grid, fixed.any(axis=1))
    model = HexModel(grid, fixed, poisson)
    weights = _tributary_weights(model)
    load_nodes = load_case.load_region.contains(coords, tolerance) & (weights > 0)
    if not load_nodes.any():
        raise InputError("the load region touches no part of the voxelised geometry")
    share = np.where(load_nodes, weights, 0.0)
    loads = share[:, None] / share.sum() * np.asarray(load_case.force)[None, :]
    solution = model.solve(loads, youngs_mpa)
    peak = float(solution.von_mises.max())
    return Analysis(
        max_von_mises=peak,
        max_displacement=float(np.linalg.norm(solution.displacement, axis=1).max()),
        compliance=solution.compliance,
        safety_factor=yield_mpa / peak if peak > 0 else float("inf"),
        elements=len(model.elements),
        dofs=solution.dofs,
        seconds=solution.seconds,
        solution=solution,
        model=model,
        load_nodes=int(load_nodes.sum()),
        dropped_voxels=dropped,
    )


# -- verification against beam theory -------------------------------------------------------------


@dataclass(frozen=True)
class CantileverCheck:
    """FE against Euler-Bernoulli for an end-loaded cantilever of rectangular section.

    Attributes:
        tip_deflection_fe / tip_deflection_beam: Mean vertical displacement of the loaded end face
            vs ``P L^3 / 3 E I`` (mm).
        root_stress_fe / root_stress_beam: Bending stress at the clamped root's surface vs
            ``M c / I`` with ``M = P L``, ``c = h / 2`` (MPa). The FE value is read the way a strain
            gauge survey would be: at every element column between one depth (``h``) and half the
            span from the clamp (outside the clamp's local 3-D disturbance), the centroid stresses
            ``sigma_xx`` are fitted linearly through the depth and taken at the surface; those
            surface stresses are fitted linearly along the span and extrapolated to ``x = 0``.
        elements_through_depth: Voxels across the section height.
    """

    tip_deflection_fe: float
    tip_deflection_beam: float
    root_stress_fe: float
    root_stress_beam: float
    elements_through_depth: int
    elements: int
    dofs: int
    seconds: float

    @property
    def deflection_error(self) -> float:
        return abs(self.tip_deflection_fe / self.tip_deflection_beam - 1)

    @property
    def stress_error(self) -> float:
        return abs(self.root_stress_fe / self.root_stress_beam - 1)


def box_mesh(size: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and outward faces of the box ``[0, size]``."""
    vertices = (_CORNERS.clip(0, 1)) * np.asarray(size)
    faces = np.array(
        [
            [0, 3, 2],
            [0, 2, 1],
            [4, 5, 6],
            [4, 6, 7],
            [0, 1, 5],
            [0, 5, 4],
            [1, 2, 6],
            [1, 6, 5],
            [2, 3, 7],
            [2, 7, 6],
            [3, 0, 4],
            [3, 4, 7],
        ]
    )
    return vertices, faces


def cantilever_check(
    voxels_through_depth: int = DEFAULT_VOXELS_PER_WALL,
    length: float = 200.0,
    width: float = 20.0,
    height: float = 20.0,
    force: float = 1000.0,
    youngs_mpa: float = 210_000.0,
    poisson: float = 0.3,
) -> CantileverCheck:
    """Voxelise a rectangular bar in cubes, clamp one end, load the other, compare with beam theory.

    The bar goes through the same voxeliser and load-case placement as every part; at the default
    resolution (two voxels through the depth) it is a 20 x 2 x 2 grid.
    """
    vertices, faces = box_mesh((length, width, height))
    grid = voxelize(vertices, faces, pitch=height / voxels_through_depth)
    load_case = LoadCase(
        supports=(Box((0, 0, 0), (0, width, height)),),
        support_dofs=("xyz",),
        load_region=Box((length, 0, 0), (length, width, height)),
        force=(0.0, 0.0, -force),
        description="cantilever, clamped at x = 0, end load -z",
    )
    result = analyze(grid, load_case, youngs_mpa, poisson, yield_mpa=1.0)
    inertia = width * height**3 / 12
    coords = grid.node_coordinates()
    tip = np.isclose(coords[:, 0], coords[:, 0].max()) & (_tributary_weights(result.model) > 0)
    tip_fe = -float(result.solution.displacement[tip, 2].mean())
    centres = grid.centroids(result.model.elements) - np.asarray([0.0, 0.0, height / 2])
    sigma = result.solution.stress[:, 0]
    sections = np.unique(centres[:, 0])
    sections = sections[(sections >= height) & (sections <= length / 2)]
    surface = [
        np.polyval(np.polyfit(centres[on, 2], sigma[on], 1), height / 2)
        for on in (np.isclose(centres[:, 0], x) for x in sections)
    ]
    root_fe = float(np.polyval(np.polyfit(sections, surface, 1), 0.0))
    return CantileverCheck(
        tip_deflection_fe=tip_fe,
        tip_deflection_beam=force * length**3 / (3 * youngs_mpa * inertia),
        root_stress_fe=root_fe,
        root_stress_beam=force * length * (height / 2) / inertia,
        elements_through_depth=grid.shape[2],
        elements=result.elements,
        dofs=result.dofs,
        seconds=result.seconds,
    )

"""From an optimised density field to a printable part, and its check with the part-design FE core.

* `design_mesh`: the 0.5 level of the physical density as a watertight triangle mesh. In 2-D its
  contour (marching squares on element centres, the grid padded with void so every loop closes)
  is extruded to the plate thickness; in 3-D marching cubes runs on the padded grid and the
  winding is made outward (positive volume).
* `check_design`: the thresholded design (density > 0.5) voxelised onto the part-design `HexModel`
  with a real material, supports and a real load: stress, deflection and safety factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import manifold3d as m3d
import numpy as np
import trimesh
from skimage.measure import find_contours, marching_cubes

from domains.manufacturing.fea import HexModel, VoxelGrid, keep_supported, von_mises
from domains.manufacturing.materials import Material
from domains.manufacturing.topology import TopologyResult
from shared_models.exceptions import InputError

__all__ = ["DesignCheck", "check_design", "design_mesh", "design_voxels"]

ISO_LEVEL = 0.5


def _physical_field(result: TopologyResult) -> np.ndarray:
    """(x, y, z) densities: a 2-D design becomes one layer deep."""
    density = result.density
    return density[:, :, None] if density.ndim == 2 else density


def design_mesh(
    result: TopologyResult, element_size_mm: float, thickness_mm: float | None = None
) -> trimesh.Trimesh:
    """The optimised part as a watertight mesh in millimetres.

    Args:
        result: An optimised design.
        element_size_mm: Edge of one element.
        thickness_mm: Plate thickness of a 2-D design (default: 10 elements); ignored in 3-D.

    Raises:
        InputError: Non-positive sizes, or a design with no material above the 0.5 level.
    """
    if element_size_mm <= 0 or (thickness_mm is not None and thickness_mm <= 0):
        raise InputError("the element size and the thickness must be positive")
    if result.density.max() <= ISO_LEVEL:
        raise InputError("the design has no element above density 0.5: nothing to mesh")
    if result.density.ndim == 2:
        return _extruded_contour(result.density, element_size_mm, thickness_mm or 10 * element_size_mm)
    padded = np.pad(result.density, 1, mode="constant", constant_values=0.0)
    spacing = (element_size_mm,) * 3
    vertices, faces, _, _ = marching_cubes(padded, level=ISO_LEVEL, spacing=spacing)
    # padded index p sits at the centre of element p - 1, i.e. at (p - 0.5) * h
    mesh = trimesh.Trimesh(vertices - 0.5 * element_size_mm, faces, process=True)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.remove_unreferenced_vertices()
    if mesh.volume < 0:  # marching cubes orients normals up the density gradient, i.e. inwards
        mesh.invert()
    return mesh


def _extruded_contour(density: np.ndarray, h: float, thickness: float) -> trimesh.Trimesh:
    """The 0.5 contour of a 2-D density (marching squares on the padded grid) extruded to a plate.

    Even-odd filling turns nested contours into holes; manifold3d's extrusion is closed by
    construction, so the plate is watertight with straight side walls and flat faces.
    """
    padded = np.pad(density, 1, mode="constant", constant_values=0.0)
    loops = [(loop - 0.5) * h for loop in find_contours(padded, ISO_LEVEL) if len(loop) >= 4]
    section = m3d.CrossSection([loop[:-1].tolist() for loop in loops], m3d.FillRule.EvenOdd)
    solid = m3d.Manifold.extrude(section, thickness)
    raw = solid.to_mesh()
    mesh = trimesh.Trimesh(
        np.asarray(raw.vert_properties[:, :3], dtype=float),
        np.asarray(raw.tri_verts, dtype=np.int64),
        process=True,
    )
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def design_voxels(
    result: TopologyResult, element_size_mm: float, thickness_mm: float | None = None
) -> VoxelGrid:
    """The thresholded design (density > 0.5) as a part-design voxel grid."""
    dz = element_size_mm if result.density.ndim == 3 else (thickness_mm or 10 * element_size_mm)
    solid = _physical_field(result) > ISO_LEVEL
    return VoxelGrid(solid, spacing=(element_size_mm, element_size_mm, dz))


@dataclass
class DesignCheck:
    """The design checked with the part-design FE core under a real load.

    Attributes:
        max_von_mises_mpa: Largest element-centroid von Mises stress.
        max_displacement_mm: Largest nodal displacement.
        safety_factor: Yield strength over the largest stress.
        mass_kg: Mass of the thresholded voxels.
        elements: Solid voxels analysed; ``dropped`` islands that touched no support were removed;
            ``pads`` voxels were added under the loads (a grey, sub-threshold load point still
            needs material to push on).
    """

    max_von_mises_mpa: float
    max_displacement_mm: float
    safety_factor: float
    mass_kg: float
    volume_mm3: float
    elements: int
    dropped: int
    pads: int
    load_n: float
    material: str

    def as_dict(self) -> dict[str, float | int | str]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _lift_to_3d(result: TopologyResult, grid: VoxelGrid) -> tuple[np.ndarray, np.ndarray]:
    """Supports (n_nodes, 3) and the nodal load pattern (n_nodes, 3, cases) on the voxel grid."""
    problem = result.problem
    fixed = problem.fixed_dofs()
    forces = problem.force_matrix().reshape(-1, problem.dim, problem.n_cases)
    if problem.dim == 3:
        return fixed, forces
    # a 2-D design is one voxel deep: both node layers take the 2-D supports and half the load;
    # supported nodes also hold z so the plate cannot drift out of its plane
    n2 = fixed.shape[0]
    fixed3 = np.zeros((n2, 2, 3), dtype=bool)
    fixed3[:, :, :2] = fixed[:, None, :]
    fixed3[:, :, 2] = fixed.any(axis=1)[:, None]
    forces3 = np.zeros((n2, 2, 3, problem.n_cases))
    forces3[:, :, :2, :] = forces[:, None, :, :] / 2
    assert grid.n_nodes == 2 * n2
    return fixed3.reshape(-1, 3), forces3.reshape(-1, 3, problem.n_cases)


def _load_pads(result: TopologyResult, grid: VoxelGrid, loaded_nodes: np.ndarray) -> tuple[VoxelGrid, int]:
    """Make every non-keep-out voxel touching a loaded node solid."""
    void, _ = result.problem.passive_masks()
    void = void[:, :, None] if void.ndim == 2 else void
    every = np.arange(grid.solid.size)
    touching = loaded_nodes[grid.element_nodes(every)].any(axis=1).reshape(grid.shape) & ~void
    solid = grid.solid | touching
    return VoxelGrid(solid, grid.spacing, grid.origin), int(solid.sum() - grid.solid.sum())


def check_design(
    result: TopologyResult,
    material: Material,
    load_n: float,
    element_size_mm: float,
    thickness_mm: float | None = None,
) -> DesignCheck:
    """Stress and deflection of the optimised part in a real material (checked with the part-design FE core).

    Each load case is scaled so its loads add up to ``load_n`` newtons (by magnitude); the worst
    case is reported.

    Raises:
        InputError: Non-positive load, or loads that no longer touch the part after thresholding.
    """
    if not load_n > 0:
        raise InputError(f"the load must be positive, got {load_n}")
    grid = design_voxels(result, element_size_mm, thickness_mm)
    fixed, forces = _lift_to_3d(result, grid)
    grid, pads = _load_pads(result, grid, np.any(forces != 0, axis=(1, 2)))
    grid, dropped = keep_supported(grid, fixed.any(axis=1))
    if not grid.solid.any():
        raise InputError("no material of the design touches a support")
    model = HexModel(grid, fixed, material.poisson_ratio)
    used = np.zeros(grid.n_nodes, dtype=bool)
    used[grid.element_nodes(model.elements).ravel()] = True
    worst: tuple[float, float] | None = None
    for case in range(forces.shape[2]):
        pattern = forces[:, :, case]
        loaded = np.any(pattern != 0, axis=1)
        if not loaded.any():
            continue
        if not used[loaded].any():
            raise InputError(f"load case {case}: the load acts where the optimised part has no material")
        magnitude = sum(
            np.linalg.norm(load.force[: result.problem.dim])
            for load in result.problem.loads
            if load.case == case
        )
        solution = model.solve(pattern * (load_n / magnitude), material.youngs_modulus_mpa)
        stress = float(von_mises(solution.stress).max())
        deflection = float(np.linalg.norm(solution.displacement, axis=1).max())
        if worst is None or stress > worst[0]:
            worst = (stress, deflection)
    assert worst is not None  # validate() guarantees a non-zero load
    volume = float(grid.solid.sum()) * grid.voxel_volume
    return DesignCheck(
        max_von_mises_mpa=worst[0],
        max_displacement_mm=worst[1],
        safety_factor=material.yield_strength_mpa / max(worst[0], 1e-12),
        mass_kg=volume * 1e-9 * material.density,
        volume_mm3=volume,
        elements=int(grid.solid.sum()),
        dropped=dropped,
        pads=pads,
        load_n=float(load_n),
        material=material.name,
    )

"""The FE core against closed forms: uniform tension (exact), cantilever bending (beam theory)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from domains.manufacturing.fea import (
    DEFAULT_VOXELS_PER_WALL,
    Box,
    HexModel,
    LoadCase,
    VoxelGrid,
    analyze,
    box_mesh,
    cantilever_check,
    hex8_stiffness,
    voxel_surface,
    voxelize,
)
from shared_models.exceptions import InputError


def test_element_stiffness_is_symmetric_with_six_rigid_body_modes() -> None:
    ke, stress = hex8_stiffness((2.0, 1.0, 0.5), 0.3)
    assert np.allclose(ke, ke.T)
    eigenvalues = np.linalg.eigvalsh(ke)
    assert np.sum(np.abs(eigenvalues) < 1e-9 * eigenvalues.max()) == 6
    assert eigenvalues.min() > -1e-9 * eigenvalues.max()
    translation = np.tile([1.0, 0.0, 0.0], 8)  # a rigid translation strains nothing
    assert np.allclose(stress @ translation, 0)


def test_cantilever_matches_beam_theory_at_the_default_resolution() -> None:
    check = cantilever_check(DEFAULT_VOXELS_PER_WALL)
    assert check.elements_through_depth == DEFAULT_VOXELS_PER_WALL
    assert check.deflection_error < 0.03, check
    assert check.stress_error < 0.05, check


def test_cantilever_converges_when_refined() -> None:
    coarse, fine = cantilever_check(2), cantilever_check(4)
    assert fine.deflection_error < coarse.deflection_error < 0.03
    assert fine.stress_error < 0.01


def test_plain_trilinear_hexes_lock_which_is_why_bubble_modes_are_used() -> None:
    # A 2-element-deep cantilever of 4:1 elements with the textbook element: far too stiff in bending.
    grid = VoxelGrid(np.ones((5, 2, 2), bool), (40.0, 10.0, 10.0))
    fixed = np.zeros((grid.n_nodes, 3), bool)
    fixed[grid.node_coordinates()[:, 0] == 0] = True
    loads = np.zeros((grid.n_nodes, 3))
    tip = grid.node_coordinates()[:, 0] == 200
    loads[tip, 2] = -1000 / tip.sum()
    model = HexModel(grid, fixed, 0.3)
    exact = 1000 * 200**3 / (3 * 210_000 * 20**4 / 12)
    bubble = -model.solve(loads, 210_000).displacement[tip, 2].mean()
    model.ke, _ = hex8_stiffness((40.0, 10.0, 10.0), 0.3, incompatible=False)
    plain = -model.solve(loads, 210_000).displacement[tip, 2].mean()
    assert abs(bubble / exact - 1) < 0.05  # five elements along the span: the shear field is coarse
    assert plain / exact < 0.5


def test_uniform_tension_is_exact() -> None:
    """Symmetry-plane supports and an end traction: uniform stress F/A and end displacement FL/EA."""
    length, side, force, youngs = 60.0, 10.0, 500.0, 70_000.0
    grid = VoxelGrid(np.ones((6, 2, 2), bool), (10.0, 5.0, 5.0))
    coords = grid.node_coordinates()
    fixed = np.zeros((grid.n_nodes, 3), bool)
    fixed[:, 0] = coords[:, 0] == 0
    fixed[:, 1] = coords[:, 1] == 0
    fixed[:, 2] = coords[:, 2] == 0
    model = HexModel(grid, fixed, 0.3)
    weights = np.bincount(grid.element_nodes(model.elements).ravel(), minlength=grid.n_nodes).astype(float)
    loads = np.zeros((grid.n_nodes, 3))
    end = Box((length, 0, 0), (length, side, side)).contains(coords)
    loads[end, 0] = force * weights[end] / weights[end].sum()
    solution = model.solve(loads, youngs)
    assert np.allclose(solution.stress[:, 0], force / side**2, rtol=1e-9)
    assert np.allclose(solution.stress[:, 1:], 0, atol=1e-9)
    assert np.allclose(solution.displacement[end, 0], force * length / (youngs * side**2), rtol=1e-9)


def test_assembly_map_matches_a_plain_coo_assembly() -> None:
    rng = np.random.default_rng(0)
    solid = rng.random((4, 3, 3)) > 0.2
    solid[0] = True
    grid = VoxelGrid(solid, (1.0, 2.0, 1.5))
    fixed = np.zeros((grid.n_nodes, 3), bool)
    fixed[grid.node_coordinates()[:, 0] == 0] = True
    model = HexModel(grid, fixed, 0.25)
    youngs = rng.uniform(0.1, 2.0, len(model.elements))
    rows = np.repeat(model.element_dofs, 24, axis=1).ravel()
    cols = np.tile(model.element_dofs, (1, 24)).ravel()
    values = (model.ke.ravel()[None, :] * youngs[:, None]).ravel()
    full = sp.coo_matrix((values, (rows, cols)), shape=(3 * grid.n_nodes,) * 2).tocsc()
    expected = full[model.free_dofs][:, model.free_dofs]
    assert abs(model.stiffness(youngs) - expected).max() < 1e-9


def test_voxelizer_fills_closed_meshes() -> None:
    vertices, faces = box_mesh((30.0, 20.0, 10.0))
    grid = voxelize(vertices, faces, 2.0)
    assert grid.shape == (15, 10, 5) and grid.solid.all()
    thickness = 3.015492340313225  # float32 coordinates put the top a hair above one pitch
    vertices, faces = box_mesh((30.0, 20.0, thickness))
    grid = voxelize(vertices.astype(np.float32).astype(float), faces, thickness)
    assert grid.shape[2] == 1 and grid.solid.all()
    import trimesh

    cylinder = trimesh.creation.cylinder(radius=10.0, height=20.0, sections=64)
    grid = voxelize(cylinder.vertices, cylinder.faces, (1.0, 1.0, 2.0))
    assert grid.solid.sum() * grid.voxel_volume == pytest.approx(cylinder.volume, rel=0.03)


def test_voxel_surface_is_the_closed_outer_skin() -> None:
    import trimesh

    solid = np.ones((3, 2, 2), bool)
    solid[1, 1, 1] = False  # a notch: its faces become outer faces
    grid = VoxelGrid(solid, (1.0, 2.0, 1.0))
    elements = np.flatnonzero(solid.ravel())
    vertices, triangles, owner = voxel_surface(grid, elements)
    skin = trimesh.Trimesh(vertices, triangles)
    assert skin.is_watertight and skin.volume == pytest.approx(11 * 2.0)
    assert owner.max() == len(elements) - 1


def test_bad_models_are_refused_with_reasons() -> None:
    grid = VoxelGrid(np.ones((4, 2, 2), bool), (1.0, 1.0, 1.0))
    with pytest.raises(InputError, match="no support"):
        HexModel(grid, np.zeros((grid.n_nodes, 3), bool), 0.3)
    case = LoadCase((Box((0, 0, 0), (0, 2, 2)),), ("xyz",), Box((50, 50, 50), (60, 60, 60)), (0, 0, -1))
    with pytest.raises(InputError, match="load region"):
        analyze(grid, case, 1000.0, 0.3, 10.0)
    with pytest.raises(InputError, match="positive"):
        voxelize(*box_mesh((1.0, 1.0, 1.0)), pitch=0.0)


def test_islands_without_support_are_dropped_not_solved() -> None:
    solid = np.zeros((6, 2, 2), bool)
    solid[:3] = True
    solid[5] = True  # a loose voxel slab, not face-connected to the supported part
    grid = VoxelGrid(solid, (1.0, 1.0, 1.0))
    case = LoadCase((Box((0, 0, 0), (0, 2, 2)),), ("xyz",), Box((3, 0, 0), (3, 2, 2)), (0, 0, -1))
    result = analyze(grid, case, 1000.0, 0.3, 10.0)
    assert result.dropped_voxels == 4 and result.elements == 12
    assert np.isfinite(result.max_displacement)

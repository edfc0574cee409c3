"""From density to part: watertight meshes in 2-D and 3-D, exports, and the FE-core check."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh

from domains.manufacturing.export import export_mesh
from domains.manufacturing.materials import get_material
from domains.manufacturing.topology import TopologySettings, optimize_topology
from domains.manufacturing.topology_part import check_design, design_mesh
from domains.manufacturing.topology_problems import builtin_problem
from shared_models.exceptions import InputError


@pytest.fixture(scope="module")
def mbb_result():
    return optimize_topology(
        builtin_problem("mbb", 40, 14), TopologySettings(volfrac=0.45, rmin=1.6, max_iter=40)
    )


@pytest.fixture(scope="module")
def cantilever_3d():
    return optimize_topology(
        builtin_problem("cantilever", 14, 6, nelz=4), TopologySettings(volfrac=0.35, rmin=1.5, max_iter=20)
    )


def test_2d_design_extrudes_to_a_watertight_outward_part(mbb_result) -> None:
    mesh = design_mesh(mbb_result, element_size_mm=2.0, thickness_mm=6.0)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    lo, hi = mesh.bounds
    np.testing.assert_allclose(lo[2], 0.0, atol=1e-9)
    np.testing.assert_allclose(hi[2], 6.0, atol=1e-9)  # the plate thickness
    assert hi[0] <= 80.0 + 1e-9 and hi[1] <= 28.0 + 1e-9
    solid_area = (mbb_result.density > 0.5).sum() * 4.0
    assert mesh.volume == pytest.approx(solid_area * 6.0, rel=0.15)  # iso-contour ~ thresholded voxels


def test_3d_design_is_watertight_and_exports(cantilever_3d) -> None:
    mesh = design_mesh(cantilever_3d, element_size_mm=1.5)
    assert mesh.is_watertight and mesh.volume > 0
    for fmt in ("stl", "glb", "3mf"):
        assert len(export_mesh(mesh, fmt)) > 100
    again = trimesh.load(io.BytesIO(export_mesh(mesh, "stl")), file_type="stl")
    assert again.is_watertight and again.volume == pytest.approx(mesh.volume, rel=1e-5)


def test_fe_core_check_scales_with_the_material(mbb_result) -> None:
    steel = check_design(mbb_result, get_material("s355"), 500.0, 2.0, 6.0)
    alu = check_design(mbb_result, get_material("al6061-t6"), 500.0, 2.0, 6.0)
    assert steel.max_von_mises_mpa > 0 and steel.elements == int((mbb_result.density > 0.5).sum())
    # linear elasticity: deflection ~ 1/E (Poisson differs slightly), the mass follows the density
    assert alu.max_displacement_mm / steel.max_displacement_mm == pytest.approx(210 / 68.9, rel=0.05)
    assert steel.mass_kg / alu.mass_kg == pytest.approx(7850 / 2700, rel=1e-9)
    doubled = check_design(mbb_result, get_material("s355"), 1000.0, 2.0, 6.0)
    assert doubled.max_von_mises_mpa == pytest.approx(2 * steel.max_von_mises_mpa, rel=1e-9)


def test_part_inputs_are_checked(mbb_result) -> None:
    with pytest.raises(InputError, match="positive"):
        design_mesh(mbb_result, element_size_mm=0.0)
    with pytest.raises(InputError, match="load must be positive"):
        check_design(mbb_result, get_material("s355"), 0.0, 1.0, 1.0)

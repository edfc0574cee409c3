"""Part families: watertight meshes with the right mass, clear errors, exports that round-trip."""

from __future__ import annotations

import io
import json
import math
import zipfile
from xml.etree import ElementTree

import manifold3d as m3d
import numpy as np
import pytest
import trimesh

from domains.manufacturing.export import design_spec, export_mesh, rebuild, trials_csv
from domains.manufacturing.materials import MATERIALS, Material, get_material
from domains.manufacturing.parts import (
    FAMILIES,
    Beam,
    MountingPlate,
    _to_trimesh,
    get_family,
    mesh_properties,
)
from shared_models.exceptions import InputError

STEEL = get_material("s355")
POLYGON_AREA = 32 / (2 * math.pi) * math.sin(2 * math.pi / 32)  # 32-gon area / circle area


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_builds_a_watertight_single_body_with_consistent_mass(name: str) -> None:
    family = FAMILIES[name]
    mesh = family.build(family.defaults())
    props = mesh_properties(mesh, STEEL)
    assert props.watertight and mesh.body_count == 1
    assert props.mass_kg == pytest.approx(mesh.volume * 7850e-9)
    assert props.cost == pytest.approx(props.mass_kg * STEEL.cost_per_kg)
    inertia = np.asarray(props.inertia)
    assert np.allclose(inertia, inertia.T) and np.all(np.linalg.eigvalsh(inertia) > 0)
    lo, hi = mesh.bounds
    assert np.all(props.centre_of_mass > lo) and np.all(props.centre_of_mass < hi)
    for case in family.load_cases:
        assert family.load_case(family.defaults(), 100.0, case).force[2] == -100.0


def test_plate_volume_and_inertia_match_hand_calculation() -> None:
    p = MountingPlate.resolve({"hole_rows": 2, "hole_columns": 3})
    mesh = MountingPlate.build(p)
    hole_area = math.pi * (p["hole_diameter"] / 2) ** 2 * POLYGON_AREA
    expected = (p["length"] * p["width"] - 6 * hole_area) * p["thickness"]
    assert mesh.volume == pytest.approx(expected, rel=1e-6)
    solid_plate = p["length"] * p["width"] * p["thickness"] * 7850e-9
    izz = mesh_properties(mesh, STEEL).inertia[2][2]
    assert izz == pytest.approx(solid_plate * (p["length"] ** 2 + p["width"] ** 2) / 12, rel=0.05)


def test_beam_volume_matches_its_section() -> None:
    p = Beam.resolve({"hole_count": 0})
    area = 2 * p["width"] * p["flange_thickness"] + p["web_thickness"] * (
        p["height"] - 2 * p["flange_thickness"]
    )
    assert Beam.build(p).volume == pytest.approx(area * p["length"], rel=1e-6)
    box = Beam.resolve({"hole_count": 0, "section": "box"})
    inner = (box["width"] - 2 * box["web_thickness"]) * (box["height"] - 2 * box["flange_thickness"])
    assert Beam.build(box).volume == pytest.approx((box["width"] * box["height"] - inner) * box["length"])


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("plate", {"thickness": -2}, "must be positive"),
        ("plate", {"thickness": 500}, "outside"),
        ("plate", {"hole_diameter": 30, "hole_columns": 10}, "overlap"),
        ("beam", {"section": "T"}, "not one of"),
        ("beam", {"flange_thickness": 25, "height": 40}, "no web"),
        ("l-bracket", {"hole_diameter": 20, "width": 40}, "overlap"),
        ("l-bracket", {"colour": "red"}, "no parameter"),
    ],
)
def test_bad_dimensions_get_clear_errors(family: str, params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        get_family(family).build(params)


def test_geometry_that_falls_apart_is_refused() -> None:
    apart = m3d.Manifold.cube([1, 1, 1]) + m3d.Manifold.cube([1, 1, 1]).translate([5, 0, 0])
    with pytest.raises(InputError, match="falls apart into 2 pieces"):
        _to_trimesh(apart, "test part")
    with pytest.raises(InputError, match="empty"):
        _to_trimesh(m3d.Manifold.cube([1, 1, 1]) - m3d.Manifold.cube([2, 2, 2]), "test part")
    with pytest.raises(InputError, match="unknown part family"):
        get_family("gear")
    with pytest.raises(InputError, match="positive force"):
        Beam.load_case(Beam.defaults(), 0.0)


def test_materials_are_in_si_units_and_validated() -> None:
    assert set(MATERIALS) == {"s355", "al6061-t6", "ti6al4v", "abs", "pla", "pa12"}
    assert MATERIALS["s355"].yield_strength == 355e6 and MATERIALS["al6061-t6"].density == 2700
    own = Material("my-alloy", "My alloy", 100e9, 0.3, 300e6, 5000, 8.0)
    assert Material.from_dict(own.to_dict()) == own
    with pytest.raises(InputError, match="Poisson"):
        Material("x", "X", 1e9, 0.6, 1e6, 1000, 1)
    with pytest.raises(InputError, match="density"):
        Material("x", "X", 1e9, 0.3, 1e6, -1, 1)
    with pytest.raises(InputError, match="unknown material"):
        get_material("unobtainium")


def test_exports_round_trip() -> None:
    params = Beam.resolve({"section": "box"})
    mesh = Beam.build(params)
    for fmt in ("stl", "glb"):
        back = trimesh.load(io.BytesIO(export_mesh(mesh, fmt)), file_type=fmt, force="mesh")
        assert back.volume == pytest.approx(mesh.volume, rel=1e-4)
    with zipfile.ZipFile(io.BytesIO(export_mesh(mesh, "3mf", name="beam"))) as archive:
        assert {"[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"} <= set(archive.namelist())
        model = ElementTree.fromstring(archive.read("3D/3dmodel.model"))
    ns = {"m": "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"}
    assert len(model.findall(".//m:vertex", ns)) == len(mesh.vertices)
    assert len(model.findall(".//m:triangle", ns)) == len(mesh.faces)
    spec = design_spec("beam", params, STEEL, load_n=500.0, load_case="cantilever")
    assert json.loads(spec)["params"]["section"] == "box"
    assert rebuild(spec).volume == pytest.approx(mesh.volume)
    with pytest.raises(InputError, match="not a part-design spec"):
        rebuild('{"family": "beam"}')
    with pytest.raises(InputError, match="unknown mesh format"):
        export_mesh(mesh, "obj")
    import pandas as pd

    assert trials_csv(pd.DataFrame({"number": [0, 1]})).decode().splitlines() == ["number", "0", "1"]

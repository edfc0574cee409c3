"""Parametric part families: typed parameters with bounds, a watertight mesh, a load case.

Each family builds its solid with manifold3d booleans (guaranteed-manifold CSG) and hands back a
`trimesh.Trimesh` for properties and export. Dimensions are millimetres, forces newtons. A family
also says how it is held and loaded (`LoadCase`) and how fine to voxelise it for the FE core
(`voxel_spacing`: a number of voxels through the thinnest wall).

Example:
    >>> family = get_family("l-bracket")
    >>> params = family.resolve({"thickness": 5.0})
    >>> mesh = family.build(params)
    >>> mesh_properties(mesh, get_material("al6061-t6")).mass_kg
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import manifold3d as m3d
import numpy as np
import trimesh

from domains.manufacturing.fea import Box, LoadCase
from domains.manufacturing.materials import Material
from shared_models.exceptions import InputError

__all__ = [
    "FAMILIES",
    "Beam",
    "LBracket",
    "MeshProperties",
    "MountingPlate",
    "Parameter",
    "PartFamily",
    "get_family",
    "mesh_properties",
]

Params = dict[str, Any]
CIRCLE_SEGMENTS = 32
MAX_GRID_CELLS = 160_000  # voxel budget per analysis: keeps a solve near a second on a laptop core


@dataclass(frozen=True)
class Parameter:
    """One design parameter of a family.

    Attributes:
        name: Key in the params dict.
        label: What people read.
        low / high: Hard bounds (what the family can build); user ranges must lie inside.
        default: The family's default design value.
        unit: "mm", "-" or "" for categories.
        integer: Counted quantity (holes).
        choices: For a categorical parameter, its options (then low/high are unused).
    """

    name: str
    label: str
    low: float
    high: float
    default: Any
    unit: str = "mm"
    integer: bool = False
    choices: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return bool(self.choices)

    def check(self, value: Any) -> Any:
        """The value coerced to this parameter's type, or an `InputError` saying why not."""
        if self.categorical:
            if value not in self.choices:
                raise InputError(f"{self.label}: {value!r} is not one of {list(self.choices)}")
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{self.label} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(f"{self.label} must be finite, got {value!r}")
        if self.unit == "mm" and self.low > 0 and number <= 0:
            raise InputError(f"{self.label} must be positive, got {number:g} mm")
        if not self.low - 1e-9 <= number <= self.high + 1e-9:
            raise InputError(
                f"{self.label} = {number:g} lies outside [{self.low:g}, {self.high:g}] {self.unit}"
            )
        return round(number) if self.integer else number


@dataclass(frozen=True)
class MeshProperties:
    """Mass properties of a watertight part (mm, kg).

    Attributes:
        inertia: 3x3 inertia tensor about the centre of mass, kg mm^2.
    """

    volume_mm3: float
    mass_kg: float
    cost: float
    centre_of_mass: tuple[float, float, float]
    inertia: tuple[tuple[float, float, float], ...]
    bounding_box: tuple[float, float, float]
    triangles: int
    watertight: bool


def mesh_properties(mesh: trimesh.Trimesh, material: Material) -> MeshProperties:
    """Volume, mass, cost, centre of mass and inertia of a part made of ``material``."""
    density_kg_mm3 = material.density * 1e-9
    inertia = np.asarray(mesh.moment_inertia) * density_kg_mm3  # trimesh: unit density, about the COM
    mass = float(mesh.volume) * density_kg_mm3
    return MeshProperties(
        volume_mm3=float(mesh.volume),
        mass_kg=mass,
        cost=mass * material.cost_per_kg,
        centre_of_mass=tuple(float(v) for v in mesh.center_mass),  # type: ignore[arg-type]
        inertia=tuple(tuple(float(v) for v in row) for row in inertia),  # type: ignore[arg-type]
        bounding_box=tuple(float(v) for v in mesh.extents),  # type: ignore[arg-type]
        triangles=len(mesh.faces),
        watertight=bool(mesh.is_watertight),
    )


def _box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> m3d.Manifold:
    size = [h - low for low, h in zip(lo, hi, strict=True)]
    return m3d.Manifold.cube(size).translate(list(lo))


def _cylinder(radius: float, length: float, axis: str, centre: tuple[float, float, float]) -> m3d.Manifold:
    """A cylinder of ``length`` along ``axis`` centred on ``centre``."""
    cyl = m3d.Manifold.cylinder(length, radius, circular_segments=CIRCLE_SEGMENTS, center=True)
    rotation = {"x": [0, 90, 0], "y": [90, 0, 0], "z": [0, 0, 0]}[axis]
    return cyl.rotate(rotation).translate(list(centre))


def _to_trimesh(solid: m3d.Manifold, what: str) -> trimesh.Trimesh:
    """The solid as a trimesh, refusing anything that is not one closed, non-empty body."""
    if solid.status() != m3d.Error.NoError or solid.is_empty():
        raise InputError(f"the {what} geometry is empty or invalid ({solid.status()}); check the dimensions")
    pieces = solid.decompose()
    if len(pieces) != 1:
        raise InputError(
            f"the {what} falls apart into {len(pieces)} pieces (holes or cut-outs sever it); "
            "use smaller holes or thicker walls"
        )
    raw = solid.to_mesh()
    mesh = trimesh.Trimesh(
        vertices=np.asarray(raw.vert_properties[:, :3], dtype=float),
        faces=np.asarray(raw.tri_verts, dtype=np.int64),
        process=True,
    )
    if not mesh.is_watertight or mesh.volume <= 0:
        raise InputError(f"the {what} mesh is not watertight after the booleans; check the dimensions")
    return mesh


class PartFamily(abc.ABC):
    """A parametric part: parameters, geometry, load cases and FE resolution."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]]
    load_cases: ClassVar[tuple[str, ...]]
    # A sensible first study: which parameters to search, the load and the deflection limit under
    # which the default design holds and lighter ones exist (aluminium 6061-T6, safety factor 2).
    default_search: ClassVar[tuple[str, ...]]
    default_load_n: ClassVar[float]
    default_max_deflection_mm: ClassVar[float]

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        for p in cls.parameters:
            if p.name == name:
                return p
        raise InputError(f"{cls.label} has no parameter {name!r}; it has {[p.name for p in cls.parameters]}")

    @classmethod
    def defaults(cls) -> Params:
        return {p.name: p.default for p in cls.parameters}

    @classmethod
    def resolve(cls, params: Params | None = None) -> Params:
        """Defaults overlaid with ``params``, each checked against its bounds."""
        params = dict(params or {})
        unknown = sorted(set(params) - {p.name for p in cls.parameters})
        if unknown:
            raise InputError(
                f"{cls.label} has no parameter(s) {unknown}; it has {[p.name for p in cls.parameters]}"
            )
        return {p.name: p.check(params.get(p.name, p.default)) for p in cls.parameters}

    @classmethod
    def build(cls, params: Params) -> trimesh.Trimesh:
        """The watertight mesh of a design (params are resolved and checked first).

        Raises:
            InputError: A value is out of bounds, dimensions contradict each other, or the booleans
                do not leave one closed solid.
        """
        resolved = cls.resolve(params)
        cls._check(resolved)
        return _to_trimesh(cls._solid(resolved), cls.label.lower())

    @classmethod
    def _check(cls, params: Params) -> None:
        """Cross-parameter checks (e.g. holes fit between walls); raise `InputError`."""
        return  # an optional hook: families with interacting dimensions override it

    @classmethod
    @abc.abstractmethod
    def _solid(cls, params: Params) -> m3d.Manifold: ...

    @classmethod
    @abc.abstractmethod
    def load_case(cls, params: Params, force: float, case: str | None = None) -> LoadCase:
        """Supports and the load (``force`` N, positive) for a design."""

    @classmethod
    @abc.abstractmethod
    def thinnest_wall(cls, params: Params) -> float:
        """The smallest wall the FE grid must resolve (mm)."""

    @classmethod
    def voxel_spacing(cls, params: Params, voxels_per_wall: int) -> tuple[float, float, float]:
        """Cubic voxels with ``voxels_per_wall`` across the thinnest wall, within the cell budget."""
        pitch = cls.thinnest_wall(params) / voxels_per_wall
        extents = np.asarray(cls._extents(params))
        cells = float(np.prod(np.ceil(extents / pitch)))
        if cells > MAX_GRID_CELLS:
            pitch *= (cells / MAX_GRID_CELLS) ** (1 / 3)
        return (pitch, pitch, pitch)

    @classmethod
    @abc.abstractmethod
    def _extents(cls, params: Params) -> tuple[float, float, float]: ...

    @staticmethod
    def _positive_force(force: float) -> float:
        if not isinstance(force, int | float) or not math.isfinite(force) or force <= 0:
            raise InputError(f"the load must be a positive force in N, got {force!r}")
        return float(force)

    @classmethod
    def _case(cls, case: str | None) -> str:
        case = case or cls.load_cases[0]
        if case not in cls.load_cases:
            raise InputError(f"{cls.label} has load cases {list(cls.load_cases)}, not {case!r}")
        return case


class LBracket(PartFamily):
    """A shelf bracket: upright bolted to a wall, a base carrying the load, a central gusset."""

    name = "l-bracket"
    label = "L-bracket"
    description = "Upright bolted to a wall, load on the far end of the base; two bolt holes per leg."
    load_cases = ("shelf",)
    default_search = ("thickness", "gusset_thickness", "width")
    default_load_n, default_max_deflection_mm = 500.0, 0.5
    parameters = (
        Parameter("base_length", "Base length", 30, 200, 80.0),
        Parameter("height", "Upright height", 30, 200, 80.0),
        Parameter("width", "Width", 20, 120, 50.0),
        Parameter("thickness", "Plate thickness", 2, 20, 6.0),
        Parameter("hole_diameter", "Bolt hole diameter", 3, 20, 8.0),
        Parameter("gusset_thickness", "Gusset thickness", 2, 20, 6.0),
        Parameter("gusset_size", "Gusset size (share of the legs)", 0.2, 0.95, 0.6, unit="-"),
    )

    @classmethod
    def _check(cls, p: Params) -> None:
        w, d, g, t = p["width"], p["hole_diameter"], p["gusset_thickness"], p["thickness"]
        if w / 4 + d / 2 >= w / 2 - g / 2:
            raise InputError(
                f"bolt holes ({d:g} mm) and gusset ({g:g} mm) overlap across a {w:g} mm width; "
                "make the part wider or the holes or gusset smaller"
            )
        for leg, length in (("base", p["base_length"]), ("upright", p["height"])):
            if length - t < 2 * d:
                raise InputError(
                    f"the {leg} ({length:g} mm) is too short for {d:g} mm holes beside a {t:g} mm wall"
                )

    @classmethod
    def _hole_station(cls, p: Params, length: float) -> float:
        """Holes sit beyond the gusset's reach, at 80 % of the free leg."""
        return p["thickness"] + 0.8 * (length - p["thickness"])

    @classmethod
    def _solid(cls, p: Params) -> m3d.Manifold:
        a, h, w, t = p["base_length"], p["height"], p["width"], p["thickness"]
        g, s, r = p["gusset_thickness"], p["gusset_size"], p["hole_diameter"] / 2
        solid = _box((0, 0, 0), (a, w, t)) + _box((0, 0, 0), (t, w, h))
        # The triangle starts inside both legs so the union fuses volumes rather than touching faces.
        triangle = m3d.CrossSection([[(t / 2, t / 2), (t + s * (a - t), t / 2), (t / 2, t + s * (h - t))]])
        gusset = m3d.Manifold.extrude(triangle, g).rotate([90, 0, 0]).translate([0, w / 2 + g / 2, 0])
        solid = solid + gusset
        xb, zu = cls._hole_station(p, a), cls._hole_station(p, h)
        for y in (w / 4, 3 * w / 4):
            solid = (
                solid - _cylinder(r, 3 * t, "z", (xb, y, t / 2)) - _cylinder(r, 3 * t, "x", (t / 2, y, zu))
            )
        return solid

    @classmethod
    def load_case(cls, params: Params, force: float, case: str | None = None) -> LoadCase:
        cls._case(case)
        a, h, w, t = params["base_length"], params["height"], params["width"], params["thickness"]
        return LoadCase(
            supports=(Box((0, 0, 0), (0, w, h)),),
            support_dofs=("xyz",),
            load_region=Box((a - 0.2 * (a - t), 0, t), (a, w, t)),
            force=(0.0, 0.0, -cls._positive_force(force)),
            description="back of the upright held against the wall; load down on the far 20 % of the base",
        )

    @classmethod
    def thinnest_wall(cls, p: Params) -> float:
        return min(p["thickness"], p["gusset_thickness"])

    @classmethod
    def _extents(cls, p: Params) -> tuple[float, float, float]:
        return (p["base_length"], p["width"], p["height"])


class Beam(PartFamily):
    """A straight beam of I or box section with round lightening holes through the web(s)."""

    name = "beam"
    label = "Beam"
    description = (
        "I or box section along x, lightening holes through the web; cantilever or simply supported."
    )
    load_cases = ("cantilever", "simply-supported")
    default_search = ("height", "flange_thickness", "web_thickness", "hole_ratio")
    default_load_n, default_max_deflection_mm = 500.0, 2.0
    parameters = (
        Parameter("length", "Length", 60, 1000, 300.0),
        Parameter("height", "Section height", 10, 150, 40.0),
        Parameter("width", "Flange width", 8, 150, 30.0),
        Parameter("flange_thickness", "Flange thickness", 1, 30, 4.0),
        Parameter("web_thickness", "Web thickness", 1, 30, 4.0),
        Parameter("section", "Section", 0, 0, "I", unit="", choices=("I", "box")),
        Parameter("hole_count", "Lightening holes", 0, 12, 3, unit="-", integer=True),
        Parameter("hole_ratio", "Hole size (share of the clear web)", 0.0, 0.85, 0.5, unit="-"),
    )

    @classmethod
    def _check(cls, p: Params) -> None:
        h, b, tf, tw = p["height"], p["width"], p["flange_thickness"], p["web_thickness"]
        if 2 * tf >= h - 1:
            raise InputError(f"flanges ({tf:g} mm each) leave no web in a {h:g} mm section")
        webs = 2 * tw if p["section"] == "box" else tw
        if webs >= b - (1 if p["section"] == "box" else 0):
            raise InputError(f"web thickness {tw:g} mm does not fit a {b:g} mm wide {p['section']} section")
        if p["hole_count"] and p["hole_ratio"] > 0:
            pitch = 0.7 * p["length"] / p["hole_count"]
            if p["hole_ratio"] * (h - 2 * tf) > 0.9 * pitch:
                raise InputError("lightening holes overlap each other; use fewer or smaller holes")

    @classmethod
    def _solid(cls, p: Params) -> m3d.Manifold:
        length, h, b = p["length"], p["height"], p["width"]
        tf, tw = p["flange_thickness"], p["web_thickness"]
        if p["section"] == "I":
            solid = (
                _box((0, 0, 0), (length, b, tf))
                + _box((0, 0, h - tf), (length, b, h))
                + _box((0, (b - tw) / 2, tf - 0.01), (length, (b + tw) / 2, h - tf + 0.01))
            )
        else:
            solid = _box((0, 0, 0), (length, b, h)) - _box((-1, tw, tf), (length + 1, b - tw, h - tf))
        radius = p["hole_ratio"] * (h - 2 * tf) / 2
        if p["hole_count"] and radius > 0.25:
            for i in range(p["hole_count"]):
                x = length * (0.15 + 0.7 * (i + 0.5) / p["hole_count"])
                solid = solid - _cylinder(radius, 2 * b + 2, "y", (x, b / 2, h / 2))
        return solid

    @classmethod
    def load_case(cls, params: Params, force: float, case: str | None = None) -> LoadCase:
        case = cls._case(case)
        length, b, h = params["length"], params["width"], params["height"]
        push = (0.0, 0.0, -cls._positive_force(force))
        if case == "cantilever":
            return LoadCase(
                supports=(Box((0, 0, 0), (0, b, h)),),
                support_dofs=("xyz",),
                load_region=Box((length, 0, 0), (length, b, h)),
                force=push,
                description="clamped at x = 0, load down on the free end",
            )
        span_end = 0.02 * length
        return LoadCase(
            supports=(Box((0, 0, 0), (span_end, b, 0)), Box((length - span_end, 0, 0), (length, b, 0))),
            support_dofs=("xyz", "yz"),  # pin at one end, roller (free along x) at the other
            load_region=Box((0.48 * length, 0, h), (0.52 * length, b, h)),
            force=push,
            description="pinned and roller-supported under the ends, load down at mid-span",
        )

    @classmethod
    def thinnest_wall(cls, p: Params) -> float:
        return min(p["flange_thickness"], p["web_thickness"])

    @classmethod
    def voxel_spacing(cls, params: Params, voxels_per_wall: int) -> tuple[float, float, float]:
        """Fine across the section, up to 4x longer along the span (bending is captured exactly)."""
        dy, _, dz = super().voxel_spacing(params, voxels_per_wall)
        dx = min(4 * dz, params["length"] / 24)
        if params["hole_count"] and params["hole_ratio"] > 0:
            dx = min(dx, params["hole_ratio"] * (params["height"] - 2 * params["flange_thickness"]) / 4)
        return (max(dx, dz), dy, dz)

    @classmethod
    def _extents(cls, p: Params) -> tuple[float, float, float]:
        return (p["length"], p["width"], p["height"])

    @classmethod
    def second_moment(cls, p: Params) -> float:
        """I about the horizontal axis of the gross section (mm^4), holes ignored."""
        h, b, tf, tw = p["height"], p["width"], p["flange_thickness"], p["web_thickness"]
        inner_width = b - (2 * tw if p["section"] == "box" else tw)
        return (b * h**3 - inner_width * (h - 2 * tf) ** 3) / 12


class MountingPlate(PartFamily):
    """A flat plate with a rectangular pattern of holes, clamped along its short edges."""

    name = "plate"
    label = "Mounting plate"
    description = "Clamped along both short edges, load down on a central patch; a grid of holes."
    load_cases = ("centre-load",)
    default_search = ("thickness", "hole_diameter")
    default_load_n, default_max_deflection_mm = 300.0, 0.1
    parameters = (
        Parameter("length", "Length", 40, 400, 160.0),
        Parameter("width", "Width", 30, 300, 100.0),
        Parameter("thickness", "Thickness", 1, 25, 5.0),
        Parameter("hole_diameter", "Hole diameter", 2, 30, 8.0),
        Parameter("hole_rows", "Hole rows", 1, 8, 2, unit="-", integer=True),
        Parameter("hole_columns", "Hole columns", 1, 10, 4, unit="-", integer=True),
        Parameter("margin", "Clamped edge width", 5, 60, 15.0),
    )

    @classmethod
    def _hole_centres(cls, p: Params) -> list[tuple[float, float]]:
        x0, x1 = 2 * p["margin"], p["length"] - 2 * p["margin"]
        y0, y1 = 0.2 * p["width"], 0.8 * p["width"]
        xs = np.linspace(x0, x1, p["hole_columns"]) if p["hole_columns"] > 1 else [p["length"] / 2]
        ys = np.linspace(y0, y1, p["hole_rows"]) if p["hole_rows"] > 1 else [p["width"] / 2]
        return [(float(x), float(y)) for x in xs for y in ys]

    @classmethod
    def _check(cls, p: Params) -> None:
        if p["length"] <= 4 * p["margin"] + p["hole_diameter"]:
            raise InputError(f"a {p['length']:g} mm plate is too short for {p['margin']:g} mm clamped edges")
        centres = np.asarray(cls._hole_centres(p))
        if len(centres) > 1:
            gaps = np.linalg.norm(centres[:, None] - centres[None, :], axis=-1) + np.eye(len(centres)) * 1e9
            if gaps.min() <= 1.2 * p["hole_diameter"]:
                raise InputError("holes overlap or nearly touch; use fewer or smaller holes")

    @classmethod
    def _solid(cls, p: Params) -> m3d.Manifold:
        t, r = p["thickness"], p["hole_diameter"] / 2
        solid = _box((0, 0, 0), (p["length"], p["width"], t))
        for x, y in cls._hole_centres(p):
            solid = solid - _cylinder(r, 3 * t, "z", (x, y, t / 2))
        return solid

    @classmethod
    def load_case(cls, params: Params, force: float, case: str | None = None) -> LoadCase:
        cls._case(case)
        length, w, t, m = params["length"], params["width"], params["thickness"], params["margin"]
        return LoadCase(
            supports=(Box((0, 0, 0), (m, w, 0)), Box((length - m, 0, 0), (length, w, 0))),
            support_dofs=("xyz", "xyz"),
            load_region=Box((0.4 * length, 0.35 * w, t), (0.6 * length, 0.65 * w, t)),
            force=(0.0, 0.0, -cls._positive_force(force)),
            description="undersides of both short edges clamped; load down on a central patch",
        )

    @classmethod
    def thinnest_wall(cls, p: Params) -> float:
        return p["thickness"]

    @classmethod
    def voxel_spacing(cls, params: Params, voxels_per_wall: int) -> tuple[float, float, float]:
        """Thin through the thickness, coarser in plane (still a third of a hole)."""
        _, _, dz = super().voxel_spacing(params, voxels_per_wall)
        d = min(4 * dz, params["hole_diameter"] / 3, params["length"] / 30)
        return (max(d, dz), max(d, dz), dz)

    @classmethod
    def _extents(cls, p: Params) -> tuple[float, float, float]:
        return (p["length"], p["width"], p["thickness"])


FAMILIES: dict[str, type[PartFamily]] = {f.name: f for f in (LBracket, Beam, MountingPlate)}


def get_family(name: str) -> type[PartFamily]:
    """A part family by name.

    Raises:
        InputError: Unknown name; the message lists the families.
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise InputError(f"unknown part family {name!r}; available: {sorted(FAMILIES)}") from None

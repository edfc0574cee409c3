"""Design problems for topology optimisation: a grid, loads, supports and passive (keep-out) regions.

Coordinates are in element units with the origin at the design domain's lower-left(-front) corner:
x to the right (0..nelx), y up (0..nely), z towards the viewer (0..nelz; ``nelz == 0`` is a 2-D
plane-stress problem). Nodes sit at integer coordinates, element centres at half-integers.

A load or support acts on the nodes inside a `Region` (a point when its corners coincide: the
nearest node); a load's force is shared equally by its nodes, so a line region is a distributed
load. Loads carry a load-case index; several cases are optimised for their weighted compliance.

Example:
    >>> problem = builtin_problem("mbb", nelx=60, nely=20)
    >>> problem.validate()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "MAX_ELEMENTS_2D",
    "MAX_ELEMENTS_3D",
    "PROBLEMS",
    "Load",
    "Passive",
    "PassiveKind",
    "Problem",
    "Region",
    "Support",
    "SupportKind",
    "builtin_problem",
    "problem_from_rows",
]

# Memory and time limits: a 2-D grid of 200k elements is ~400k DOFs (a few hundred MB with its
# Cholesky factor); 3-D fill-in is far heavier, so 3-D stops at 60k hexes (~190k DOFs).
MAX_ELEMENTS_2D = 200_000
MAX_ELEMENTS_3D = 60_000

SupportKind = Literal["fixed", "hold-x", "hold-y", "hold-z"]
PassiveKind = Literal["void", "solid"]
SUPPORT_KINDS: tuple[str, ...] = get_args(SupportKind)
PASSIVE_KINDS: tuple[str, ...] = get_args(PassiveKind)


@dataclass(frozen=True)
class Region:
    """An axis-aligned box in element units; ``z0``/``z1`` None means the whole depth."""

    x0: float
    y0: float
    x1: float
    y1: float
    z0: float | None = None
    z1: float | None = None

    def bounds(self, axis: int, size: int) -> tuple[float, float]:
        lo, hi = [(self.x0, self.x1), (self.y0, self.y1), (self.z0, self.z1)][axis]
        if lo is None or hi is None:
            return 0.0, float(size)
        return float(min(lo, hi)), float(max(lo, hi))

    def node_ranges(self, sizes: tuple[int, ...]) -> list[np.ndarray]:
        """Integer node indices per axis inside the box (the nearest node if it holds none)."""
        ranges = []
        for axis, size in enumerate(sizes):
            lo, hi = self.bounds(axis, size)
            idx = np.arange(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)
            idx = idx[(idx >= 0) & (idx <= size)]
            if idx.size == 0:
                idx = np.array([min(max(round((lo + hi) / 2), 0), size)])
            ranges.append(idx)
        return ranges

    def element_mask(self, sizes: tuple[int, ...]) -> np.ndarray:
        """Boolean grid (sizes) of the elements whose centres lie inside the box."""
        masks = []
        for axis, size in enumerate(sizes):
            lo, hi = self.bounds(axis, size)
            centres = np.arange(size) + 0.5
            masks.append((centres >= lo) & (centres <= hi))
        grids = np.meshgrid(*masks, indexing="ij")
        return np.logical_and.reduce(grids)


@dataclass(frozen=True)
class Load:
    """A force (fx, fy, fz) shared by the nodes of ``region``, in load case ``case``."""

    region: Region
    force: tuple[float, float, float]
    case: int = 0


@dataclass(frozen=True)
class Support:
    """Nodes of ``region`` held: all components ("fixed") or one ("hold-y" is a roller on y)."""

    region: Region
    kind: SupportKind = "fixed"

    def held_axes(self, dim: int) -> list[int]:
        if self.kind == "fixed":
            return list(range(dim))
        axis = "xyz".index(self.kind[-1])
        if axis >= dim:
            raise InputError(f"support {self.kind!r} needs a 3-D problem (set a depth)")
        return [axis]


@dataclass(frozen=True)
class Passive:
    """Elements forced void (a keep-out) or solid (a mounting pad, a deck)."""

    region: Region
    kind: PassiveKind = "void"


@dataclass(frozen=True)
class Problem:
    """A topology-optimisation design problem on a structured grid.

    Attributes:
        name: Short label.
        nelx, nely, nelz: Elements along x, y and z (``nelz == 0``: 2-D plane stress).
        loads: Forces; at least one non-zero.
        supports: Held nodes; together they must stop every rigid-body motion.
        passive: Keep-out (void) and forced-solid regions.
        case_weights: Weight of each load case in the objective (default: equal).
    """

    name: str
    nelx: int
    nely: int
    loads: tuple[Load, ...]
    supports: tuple[Support, ...]
    passive: tuple[Passive, ...] = ()
    nelz: int = 0
    case_weights: tuple[float, ...] = field(default=())

    @property
    def dim(self) -> int:
        return 3 if self.nelz > 0 else 2

    @property
    def shape(self) -> tuple[int, ...]:
        """Element grid shape: (nelx, nely) or (nelx, nely, nelz)."""
        return (self.nelx, self.nely, self.nelz) if self.nelz > 0 else (self.nelx, self.nely)

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_cases(self) -> int:
        return 1 + max((load.case for load in self.loads), default=0)

    def weights(self) -> np.ndarray:
        """Normalised load-case weights (sum 1)."""
        w = np.asarray(self.case_weights or [1.0] * self.n_cases, dtype=float)
        return w / w.sum()

    def node_id(self, *idx: np.ndarray) -> np.ndarray:
        """Flat node ids of integer node coordinates (x, y[, z]); y up, C order over (x, y, z)."""
        node_shape = tuple(s + 1 for s in self.shape)
        return np.ravel_multi_index(tuple(np.asarray(i) for i in idx), node_shape)

    def region_nodes(self, region: Region) -> np.ndarray:
        grids = np.meshgrid(*region.node_ranges(self.shape), indexing="ij")
        return np.unique(self.node_id(*[g.ravel() for g in grids]))

    def passive_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """(void, solid) boolean element grids; a later region wins where they overlap."""
        void = np.zeros(self.shape, dtype=bool)
        solid = np.zeros(self.shape, dtype=bool)
        for item in self.passive:
            mask = item.region.element_mask(self.shape)
            (void if item.kind == "void" else solid)[mask] = True
            (solid if item.kind == "void" else void)[mask] = False
        return void, solid

    def fixed_dofs(self) -> np.ndarray:
        """Boolean (n_nodes, dim) mask of held displacement components."""
        n_nodes = int(np.prod([s + 1 for s in self.shape]))
        fixed = np.zeros((n_nodes, self.dim), dtype=bool)
        for support in self.supports:
            fixed[np.ix_(self.region_nodes(support.region), support.held_axes(self.dim))] = True
        return fixed

    def force_matrix(self) -> np.ndarray:
        """Nodal forces, (n_nodes * dim, n_cases); DOF ``dim * node + axis``."""
        n_nodes = int(np.prod([s + 1 for s in self.shape]))
        forces = np.zeros((n_nodes, self.dim, self.n_cases))
        for load in self.loads:
            nodes = self.region_nodes(load.region)
            force = np.asarray(load.force[: self.dim], dtype=float)
            np.add.at(forces[:, :, load.case], nodes, force / len(nodes))
        return forces.reshape(n_nodes * self.dim, self.n_cases)

    def validate(self, volfrac: float | None = None) -> Problem:
        """Check the problem before any solve.

        Raises:
            InputError: Bad sizes, no load, no supports or supports that let it move, a load that
                acts only on keep-out elements, or a volume fraction the passive regions rule out.
            ResourceLimitError: The grid is too large for memory.
        """
        sizes = self.shape
        if any(int(s) != s or s < 2 for s in sizes) or self.nelz < 0:
            raise InputError(f"the grid needs at least 2 elements along each axis, got {sizes}")
        limit = MAX_ELEMENTS_3D if self.dim == 3 else MAX_ELEMENTS_2D
        if self.n_elements > limit:
            raise ResourceLimitError(
                f"{self.n_elements:,} elements exceed the {self.dim}-D limit of {limit:,} "
                "(memory for the stiffness factor); use a coarser grid"
            )
        if volfrac is not None and not 0.0 < volfrac < 1.0:
            raise InputError(f"the volume fraction must lie strictly between 0 and 1, got {volfrac}")
        if self.case_weights and (
            len(self.case_weights) != self.n_cases
            or min(self.case_weights) < 0
            or sum(self.case_weights) <= 0
        ):
            raise InputError(f"give {self.n_cases} non-negative load-case weights, got {self.case_weights}")
        forces = self.force_matrix()
        if not np.any(forces):
            raise InputError("the problem has no load: add at least one non-zero force")
        if not self.supports:
            raise InputError("the problem has no supports: the stiffness matrix would be singular")
        self._check_rigid_body(self.fixed_dofs())
        self._check_loads_on_material(forces)
        void, solid = self.passive_masks()
        if volfrac is not None and solid.mean() >= volfrac:
            raise InputError(
                f"forced-solid regions already fill {solid.mean():.0%} of the domain, at or above "
                f"the volume fraction {volfrac:.0%}; raise the volume fraction"
            )
        if volfrac is not None and volfrac >= 1.0 - void.mean():
            raise InputError(
                f"keep-outs leave {1 - void.mean():.0%} of the domain; the volume fraction must be below that"
            )
        return self

    def _check_rigid_body(self, fixed: np.ndarray) -> None:
        """Supports must stop every rigid-body motion (else K is singular)."""
        coords = np.stack(
            np.meshgrid(*[np.arange(s + 1, dtype=float) for s in self.shape], indexing="ij"), axis=-1
        ).reshape(-1, self.dim)
        rows = []
        for node, axis in zip(*np.nonzero(fixed), strict=True):
            x = coords[node]
            if self.dim == 2:  # translations x, y and the rotation (-y, x)
                rows.append([axis == 0, axis == 1, (-x[1], x[0])[axis]])
            else:  # three translations and three rotations (w x r)
                rot = np.cross(np.eye(3), x)[:, axis]
                rows.append([axis == 0, axis == 1, axis == 2, *rot])
        modes = 3 if self.dim == 2 else 6
        if not rows or np.linalg.matrix_rank(np.asarray(rows, dtype=float)) < modes:
            raise InputError(
                "the supports do not hold the part: it could slide or rotate freely (singular "
                "stiffness). Fix more nodes, e.g. add a support that holds the other direction"
            )

    def _check_loads_on_material(self, forces: np.ndarray) -> None:
        void, _ = self.passive_masks()
        if not void.any():
            return
        node_shape = tuple(s + 1 for s in self.shape)
        touches_design = np.zeros(node_shape, dtype=bool)
        design = ~void
        for offset in np.ndindex(*(2,) * self.dim):  # every corner of every non-void element
            slices = tuple(slice(o, o + s) for o, s in zip(offset, self.shape, strict=True))
            touches_design[slices] |= design
        loaded = np.any(forces.reshape(-1, self.dim, self.n_cases) != 0, axis=(1, 2))
        if np.any(loaded & ~touches_design.ravel()):
            raise InputError("a load acts on a keep-out (void) region: move it onto the design domain")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the suite stores it with each run)."""
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """The problem `to_dict` described (as read back from a run's ``problem.json``).

        Raises:
            InputError: A description that is not a problem (missing or mistyped fields).
        """
        try:
            return cls(
                name=str(data["name"]),
                nelx=int(data["nelx"]),
                nely=int(data["nely"]),
                nelz=int(data.get("nelz", 0)),
                loads=tuple(
                    Load(Region(**item["region"]), tuple(map(float, item["force"])), int(item.get("case", 0)))
                    for item in data["loads"]
                ),
                supports=tuple(Support(Region(**item["region"]), item["kind"]) for item in data["supports"]),
                passive=tuple(
                    Passive(Region(**item["region"]), item["kind"]) for item in data.get("passive", ())
                ),
                case_weights=tuple(float(w) for w in data.get("case_weights", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a topology problem description: {exc}") from exc


# -- built-in problems ------------------------------------------------------------------------------


def _mbb(nelx: int, nely: int, nelz: int) -> Problem:
    """Half MBB beam (Andreassen et al. 2011): symmetry on the left edge, a roller bottom right."""
    return Problem(
        "mbb",
        nelx,
        nely,
        nelz=nelz,
        loads=(Load(Region(0, nely, 0, nely), (0.0, -1.0, 0.0)),),
        supports=(
            Support(Region(0, 0, 0, nely), "hold-x"),
            Support(Region(nelx, 0, nelx, 0), "hold-y"),
            *((Support(Region(0, 0, nelx, nely, 0, 0), "hold-z"),) if nelz else ()),
        ),
    )


def _cantilever(nelx: int, nely: int, nelz: int) -> Problem:
    """Clamped on the left edge, pulled down at the middle of the right edge."""
    return Problem(
        "cantilever",
        nelx,
        nely,
        nelz=nelz,
        loads=(Load(Region(nelx, nely / 2, nelx, nely / 2), (0.0, -1.0, 0.0)),),
        supports=(Support(Region(0, 0, 0, nely), "fixed"),),
    )


def _lbracket(nelx: int, nely: int, nelz: int) -> Problem:
    """An L: the top-right corner is a keep-out; clamped on top, loaded down at the arm's tip."""
    arm = round(0.4 * nely)
    return Problem(
        "lbracket",
        nelx,
        nely,
        nelz=nelz,
        loads=(Load(Region(nelx, arm * 0.8, nelx, arm), (0.0, -1.0, 0.0)),),
        supports=(Support(Region(0, nely, round(0.4 * nelx), nely), "fixed"),),
        passive=(Passive(Region(round(0.4 * nelx), arm, nelx, nely), "void"),),
    )


def _bridge(nelx: int, nely: int, nelz: int) -> Problem:
    """A deck (forced solid top row) under a distributed load, pinned at both bottom corners."""
    return Problem(
        "bridge",
        nelx,
        nely,
        nelz=nelz,
        loads=(Load(Region(0, nely, nelx, nely), (0.0, -1.0, 0.0)),),
        supports=(Support(Region(0, 0, 0, 0), "fixed"), Support(Region(nelx, 0, nelx, 0), "fixed")),
        passive=(Passive(Region(0, nely - 1, nelx, nely), "solid"),),
    )


PROBLEMS: Mapping[str, Callable[[int, int, int], Problem]] = {
    "mbb": _mbb,
    "cantilever": _cantilever,
    "lbracket": _lbracket,
    "bridge": _bridge,
}


def builtin_problem(name: str, nelx: int, nely: int, nelz: int = 0) -> Problem:
    """One of the built-in problems on a given grid.

    Raises:
        InputError: Unknown name (the message lists the available ones).
    """
    try:
        factory = PROBLEMS[name]
    except KeyError:
        raise InputError(f"unknown problem {name!r}; available: {sorted(PROBLEMS)}") from None
    return factory(int(nelx), int(nely), int(nelz))


ROW_KINDS = ("load", *SUPPORT_KINDS, *(f"{k}-region" for k in PASSIVE_KINDS))


def _number(row: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = row.get(key, default)
    try:
        number = float(default if value is None or value == "" else value)
    except (TypeError, ValueError):
        raise InputError(f"{key!r} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{key!r} must be finite, got {value!r}")
    return number


def problem_from_rows(
    nelx: int, nely: int, rows: Iterable[Mapping[str, Any]], nelz: int = 0, name: str = "custom"
) -> Problem:
    """A custom problem from a table (the page's editor): one row per load, support or region.

    Each row has ``kind`` (one of "load", "fixed", "hold-x", "hold-y", "hold-z", "void-region",
    "solid-region"), a box ``x0, y0, x1, y1`` as fractions (0..1) of the domain's width and height
    (equal corners: a point), and for loads ``fx, fy`` (total force) and ``case`` (load case, from 0).

    Raises:
        InputError: An unknown kind, a coordinate outside [0, 1] or a non-number.
    """
    loads, supports, passive = [], [], []
    for number, row in enumerate(rows, start=1):
        kind = str(row.get("kind") or "").strip()
        if not kind:
            continue  # an empty editor row
        if kind not in ROW_KINDS:
            raise InputError(f"row {number}: unknown kind {kind!r}; use one of {list(ROW_KINDS)}")
        fractions = [_number(row, key) for key in ("x0", "y0", "x1", "y1")]
        if any(not 0.0 <= f <= 1.0 for f in fractions):
            raise InputError(f"row {number}: x0, y0, x1, y1 are fractions of the domain, in [0, 1]")
        x0, y0, x1, y1 = fractions
        region = Region(x0 * nelx, y0 * nely, x1 * nelx, y1 * nely)
        if kind == "load":
            case = _number(row, "case")
            if case < 0 or case != int(case) or case > 9:
                raise InputError(f"row {number}: the load case is a whole number from 0 to 9")
            loads.append(Load(region, (_number(row, "fx"), _number(row, "fy"), 0.0), int(case)))
        elif kind.endswith("-region"):
            passive.append(Passive(region, kind.removesuffix("-region")))  # type: ignore[arg-type]
        else:
            supports.append(Support(region, kind))  # type: ignore[arg-type]
    return Problem(name, int(nelx), int(nely), tuple(loads), tuple(supports), tuple(passive), nelz=int(nelz))

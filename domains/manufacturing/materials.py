"""Engineering materials in SI units: stiffness, strength, density and price.

The built-in values are typical handbook figures (room temperature, isotropic, as-supplied): S355 from
EN 10025-2 (yield for thickness <= 16 mm), 6061-T6 and Ti-6Al-4V (annealed) from ASM data sheets, and
the polymers from common injection-moulding (ABS, PLA) and laser-sintering (PA12) data sheets. Prices
are indicative raw-material prices in USD per kg (PA12 as sintering powder); edit them for a supplier.
A user's own material is a `Material` like any other and travels inside a design spec.

Example:
    >>> steel = get_material("s355")
    >>> steel.youngs_modulus_mpa
    210000.0
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from shared_models.exceptions import InputError

__all__ = ["MATERIALS", "Material", "get_material"]


@dataclass(frozen=True)
class Material:
    """An isotropic linear-elastic material.

    Attributes:
        name: Short identifier, e.g. ``"s355"``.
        label: Display name.
        youngs_modulus: E in Pa.
        poisson_ratio: nu, dimensionless, in (-1, 0.5).
        yield_strength: Yield (or 0.2 % proof) strength in Pa.
        density: kg/m^3.
        cost_per_kg: Price in USD per kg.
    """

    name: str
    label: str
    youngs_modulus: float
    poisson_ratio: float
    yield_strength: float
    density: float
    cost_per_kg: float

    def __post_init__(self) -> None:
        checks = {
            "youngs_modulus": self.youngs_modulus > 0,
            "yield_strength": self.yield_strength > 0,
            "density": self.density > 0,
            "cost_per_kg": self.cost_per_kg >= 0,
        }
        for field_name, ok in checks.items():
            value = getattr(self, field_name)
            if not isinstance(value, int | float) or not math.isfinite(value) or not ok:
                raise InputError(
                    f"material {self.name!r}: {field_name} must be a positive number, got {value!r}"
                )
        if not -1.0 < self.poisson_ratio < 0.5:
            raise InputError(
                f"material {self.name!r}: Poisson ratio must lie in (-1, 0.5), got {self.poisson_ratio}"
            )
        if not self.name.strip():
            raise InputError("a material needs a name")

    # The finite-element core works in millimetres and newtons, so stresses come out in MPa.
    @property
    def youngs_modulus_mpa(self) -> float:
        return self.youngs_modulus / 1e6

    @property
    def yield_strength_mpa(self) -> float:
        return self.yield_strength / 1e6

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Material:
        """Rebuild a material from `to_dict` output (validated)."""
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except KeyError as exc:
            raise InputError(f"material spec is missing {exc.args[0]!r}") from exc


MATERIALS: dict[str, Material] = {
    m.name: m
    for m in (
        Material("s355", "Structural steel S355", 210e9, 0.30, 355e6, 7850.0, 1.0),
        Material("al6061-t6", "Aluminium 6061-T6", 68.9e9, 0.33, 276e6, 2700.0, 4.5),
        Material("ti6al4v", "Titanium Ti-6Al-4V (annealed)", 113.8e9, 0.342, 880e6, 4430.0, 30.0),
        Material("abs", "ABS (moulded)", 2.3e9, 0.35, 40e6, 1040.0, 2.5),
        Material("pla", "PLA (moulded)", 3.5e9, 0.36, 60e6, 1240.0, 3.0),
        Material("pa12", "PA12 (laser sintered)", 1.7e9, 0.39, 48e6, 1010.0, 60.0),
    )
}


def get_material(name: str) -> Material:
    """A built-in material by name.

    Raises:
        InputError: Unknown name; the message lists the available ones.
    """
    try:
        return MATERIALS[name]
    except KeyError:
        raise InputError(f"unknown material {name!r}; available: {sorted(MATERIALS)}") from None

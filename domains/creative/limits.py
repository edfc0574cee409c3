"""The allowed range of a control, defined once: the config checks it, the page's widget and the CLI's
argument check read the same object, so the three can never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from shared_models.exceptions import InputError

__all__ = ["Limit"]


@dataclass(frozen=True)
class Limit:
    """A closed range ``[low, high]`` for one control.

    Attributes:
        low: Smallest allowed value.
        high: Largest allowed value.
        unit: Appended to the range in messages, e.g. ``" px"``.
    """

    low: int | float
    high: int | float
    unit: str = ""

    def __post_init__(self) -> None:
        assert self.low <= self.high, f"empty range {self.low}-{self.high}"

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}-{self.high}{self.unit}"

    def check(self, what: str, value: int | float) -> None:
        """Raise `InputError` naming ``what`` and the range when ``value`` is outside it."""
        if value not in self:
            raise InputError(f"{what} must be {self}, got {value}")

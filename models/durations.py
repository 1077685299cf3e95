"""Typed durations: working days, calendar days and calendar months can't be confused.

A policy file writes a duration as text ("5 working days", "28 calendar days", "3 calendar months");
`parse_duration` turns it into one of these types or says how to write it.
"""

import re
from dataclasses import dataclass
from typing import Final

from models.errors import InputError


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """A count of working days (RPR 2006 reg 2): not weekends, bank holidays or local closures."""

    n: int

    def __post_init__(self) -> None:
        _check_count(self.n, "working days")

    def __str__(self) -> str:
        return f"{self.n} working day{'s' if self.n != 1 else ''}"


@dataclass(frozen=True, slots=True)
class CalendarDays:
    """A count of calendar days ("28 days" in FSR 2011 reg 28)."""

    n: int

    def __post_init__(self) -> None:
        _check_count(self.n, "calendar days")

    def __str__(self) -> str:
        return f"{self.n} calendar day{'s' if self.n != 1 else ''}"


@dataclass(frozen=True, slots=True)
class CalendarMonths:
    """A count of calendar months (Interpretation Act 1978 Sch 1: "month" means calendar month)."""

    n: int

    def __post_init__(self) -> None:
        _check_count(self.n, "calendar months")

    def __str__(self) -> str:
        return f"{self.n} calendar month{'s' if self.n != 1 else ''}"


Duration = WorkingDays | CalendarDays | CalendarMonths

# A generous bound: the longest statutory period we model is 12 months; this only stops nonsense.
MAX_COUNT: Final = 10_000

_UNITS: Final[dict[str, type[WorkingDays] | type[CalendarDays] | type[CalendarMonths]]] = {
    "working day": WorkingDays,
    "working days": WorkingDays,
    "calendar day": CalendarDays,
    "calendar days": CalendarDays,
    "calendar month": CalendarMonths,
    "calendar months": CalendarMonths,
}
_PATTERN: Final = re.compile(r"^\s*(-?\d+)\s+([a-z ]+?)\s*$")
HOW_TO_WRITE: Final = "write e.g. '5 working days', '28 calendar days' or '3 calendar months'"


def _check_count(n: int, unit: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputError(f"a count of {unit} must be a whole number, not {n!r}")
    if n < 0:
        raise InputError(f"a count of {unit} cannot be negative ({n}); give 0 or more")
    if n > MAX_COUNT:
        raise InputError(f"{n} {unit} is more than the {MAX_COUNT} this system accepts")


def parse_duration(text: str) -> Duration:
    """Return the typed duration written as '<count> <unit>', or raise InputError saying how."""
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a duration: {HOW_TO_WRITE}")
    match = _PATTERN.match(text.lower())
    if not match or match.group(2) not in _UNITS:
        raise InputError(f"{text!r} is not a duration: {HOW_TO_WRITE}")
    return _UNITS[match.group(2)](int(match.group(1)))

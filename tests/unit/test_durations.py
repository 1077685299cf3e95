"""Typed durations as a policy file writes them."""

import pytest

from models.durations import CalendarDays, CalendarMonths, WorkingDays, parse_duration
from models.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 working days", WorkingDays(5)),
        ("1 working day", WorkingDays(1)),
        ("0 working days", WorkingDays(0)),
        ("28 calendar days", CalendarDays(28)),
        ("3 calendar months", CalendarMonths(3)),
        ("  12 Calendar Months ", CalendarMonths(12)),
    ],
)
def test_durations_parse(text: str, expected: object) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["5 wd", "5", "working days", "five working days", "5 weeks", "-2 working days"]
)
def test_a_bad_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert "working days" in str(caught.value) or "negative" in str(caught.value)


def test_kinds_cannot_be_confused() -> None:
    assert WorkingDays(5) != CalendarDays(5)
    assert str(WorkingDays(1)) == "1 working day"
    assert str(CalendarMonths(3)) == "3 calendar months"

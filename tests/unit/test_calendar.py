"""The working-day calendar, as tables of explicit dates (each worked out by hand)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.calendar import WorkingCalendar, add_months
from models.durations import CalendarDays, CalendarMonths, WorkingDays
from models.errors import InputError

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar()


@pytest.mark.parametrize(
    ("trigger", "n", "due", "why"),
    [
        (
            date(2026, 12, 24),
            1,
            date(2026, 12, 29),
            "Christmas Fri, weekend, Boxing Day substitute Mon",
        ),
        (date(2026, 12, 30), 1, date(2026, 12, 31), "an ordinary working day"),
        (date(2026, 12, 31), 1, date(2027, 1, 4), "New Year's Day Fri, then the weekend"),
        (
            date(2027, 12, 24),
            1,
            date(2027, 12, 29),
            "2027: both Christmas substitutes, Mon 27 and Tue 28",
        ),
        (
            date(2021, 12, 24),
            1,
            date(2021, 12, 29),
            "2021: Christmas Sat, Boxing Sun, substitutes Mon and Tue",
        ),
        (
            date(2022, 12, 30),
            1,
            date(2023, 1, 3),
            "New Year's Day 2023 on a Sunday: substitute Mon 2 Jan",
        ),
        (
            date(2026, 4, 2),
            1,
            date(2026, 4, 7),
            "Easter 2026: Good Friday 3 Apr, Easter Monday 6 Apr",
        ),
        (
            date(2027, 3, 25),
            2,
            date(2027, 3, 31),
            "Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar",
        ),
        (
            date(2022, 6, 1),
            1,
            date(2022, 6, 6),
            "2022: Spring bank holiday Thu 2 Jun, Platinum Jubilee Fri 3 Jun",
        ),
        (date(2022, 9, 16), 1, date(2022, 9, 20), "2022: state funeral Mon 19 Sep"),
        (date(2026, 5, 1), 1, date(2026, 5, 5), "early May bank holiday Mon 4 May 2026"),
        (date(2026, 5, 22), 1, date(2026, 5, 26), "Spring bank holiday Mon 25 May 2026"),
        (date(2026, 11, 28), 1, date(2026, 11, 30), "trigger on a Saturday: Monday is day 1"),
        (date(2026, 11, 29), 1, date(2026, 11, 30), "trigger on a Sunday: Monday is day 1"),
        (
            date(2026, 8, 31),
            1,
            date(2026, 9, 1),
            "trigger on a bank holiday (Late Summer, Mon 31 Aug)",
        ),
        (
            date(2026, 4, 3),
            1,
            date(2026, 4, 7),
            "trigger on Good Friday: Easter Monday skipped too",
        ),
        (date(2026, 11, 26), 0, date(2026, 11, 26), "0 working days: due the same day"),
        (date(2026, 11, 2), 5, date(2026, 11, 9), "5 working days over a weekend"),
        (date(2026, 11, 2), 25, date(2026, 12, 7), "stage 2 complaint: 25 working days"),
        (
            date(2026, 11, 2),
            65,
            date(2027, 2, 4),
            "stage 2 extended to 65 working days over Christmas",
        ),
    ],
)
def test_working_days_from_a_trigger(trigger: date, n: int, due: date, why: str) -> None:
    assert ENGLAND.due(trigger, WorkingDays(n)).due == due, why


def test_a_local_closure_day_is_not_a_working_day() -> None:
    eve = date(2026, 12, 24)
    closed = WorkingCalendar({eve: "Christmas Eve closure"})
    assert ENGLAND.due(date(2026, 12, 23), WorkingDays(1)).due == eve
    assert closed.due(date(2026, 12, 23), WorkingDays(1)).due == date(2026, 12, 29)
    assert closed.closed_because(eve) == "local closure: Christmas Eve closure"


def test_every_day_explains_itself() -> None:
    result = ENGLAND.due(date(2026, 12, 24), WorkingDays(1))
    assert [(d.day, d.counted, d.reason) for d in result.explain()] == [
        (date(2026, 12, 25), None, "Christmas Day"),
        (date(2026, 12, 26), None, "Saturday; Boxing Day"),
        (date(2026, 12, 27), None, "Sunday"),
        (date(2026, 12, 28), None, "Boxing Day (substitute day)"),
        (date(2026, 12, 29), 1, ""),
    ]


@pytest.mark.parametrize(
    ("trigger", "duration", "due"),
    [
        (date(2026, 11, 2), CalendarDays(28), date(2026, 11, 30)),
        (
            date(2026, 12, 20),
            CalendarDays(7),
            date(2026, 12, 27),
        ),  # calendar days count holidays too
        (date(2026, 1, 31), CalendarMonths(1), date(2026, 2, 28)),
        (date(2028, 1, 31), CalendarMonths(1), date(2028, 2, 29)),
        (date(2028, 2, 29), CalendarMonths(12), date(2029, 2, 28)),
        (date(2026, 11, 15), CalendarMonths(3), date(2027, 2, 15)),
    ],
)
def test_calendar_days_and_months(
    trigger: date, duration: CalendarDays | CalendarMonths, due: date
) -> None:
    assert ENGLAND.due(trigger, duration).due == due


@pytest.mark.parametrize(
    ("moment", "due", "deadline_utc"),
    [
        # Winter (GMT): the deadline is midnight ending the due day, London = UTC.
        (
            datetime(2026, 12, 24, 16, 30, tzinfo=UTC),
            date(2026, 12, 29),
            datetime(2026, 12, 30, 0, 0, tzinfo=UTC),
        ),
        # Summer (BST): 23:30 UTC on 30 June is already 1 July in London, so 1 July is day 0,
        # and the deadline is 23:00 UTC, midnight London time.
        (
            datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
            date(2026, 7, 2),
            datetime(2026, 7, 2, 23, 0, tzinfo=UTC),
        ),
        # A naive time is read as London time.
        (datetime(2026, 6, 30, 23, 30), date(2026, 7, 1), datetime(2026, 7, 1, 23, 0, tzinfo=UTC)),
    ],
)
def test_a_date_time_trigger_counts_in_london_and_ends_at_local_midnight(
    moment: datetime, due: date, deadline_utc: datetime
) -> None:
    result = ENGLAND.due(moment, WorkingDays(1))
    assert result.due == due
    assert result.deadline == deadline_utc


def test_working_days_between() -> None:
    assert ENGLAND.working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert ENGLAND.working_days_between(date(2026, 12, 29), date(2026, 12, 24)) == -1
    assert ENGLAND.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0


@pytest.mark.parametrize("bad", [date(1899, 1, 1), date(2500, 1, 1)])
def test_a_date_outside_the_calendar_is_refused(bad: date) -> None:
    with pytest.raises(InputError, match="outside the calendar"):
        ENGLAND.due(bad, WorkingDays(1))


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(InputError, match="cannot be negative"):
        WorkingDays(-1)


def test_add_months_keeps_the_day_or_takes_the_last() -> None:
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    n=st.integers(min_value=1, max_value=300),
)
def test_a_due_date_is_a_working_day_exactly_n_working_days_on(start: date, n: int) -> None:
    result = ENGLAND.due(start, WorkingDays(n))
    assert ENGLAND.is_working_day(result.due)
    assert ENGLAND.working_days_between(start, result.due) == n
    assert sum(1 for d in result.explain() if d.counted) == n
    assert result.explain()[-1].day == result.due
    assert all(d.day == start + timedelta(days=i + 1) for i, d in enumerate(result.explain()))
    assert ENGLAND.due(start, WorkingDays(n + 1)).due > result.due

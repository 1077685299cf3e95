"""The working-day calendar (DESIGN rule 5) and due dates that explain themselves.

A working day is not a Saturday, Sunday, Christmas Day, Boxing Day, Good Friday or a bank holiday
in England and Wales (RPR 2006 reg 2), nor a local closure day the authority adds in its policy file.
Bank holidays, substitute days and one-off proclaimed days come from the `holidays` package
(country GB, subdivision ENG).

Counting convention (reference §0, "design"): the trigger day is day 0; day 1 is the first working
day after it, so a trigger on a non-working day counts its first working day as day 1. A deadline is
the end of its due day in Europe/London: the step has lapsed from midnight that ends the due day.
"""

import calendar as _stdcal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Final
from zoneinfo import ZoneInfo

import holidays as _holidays

from models.durations import CalendarDays, CalendarMonths, Duration, WorkingDays
from models.errors import InputError

LONDON: Final = ZoneInfo("Europe/London")

# The range we compute bank holidays for. Outside it a date is almost certainly a typing mistake.
FIRST_YEAR: Final = 1990
LAST_YEAR: Final = 2200


@dataclass(frozen=True, slots=True)
class DayNote:
    """One day after the trigger, as counted: a working day with its number, or skipped with why."""

    day: date
    counted: int | None  # the working-day number, or None when skipped
    reason: str  # why skipped; "" when counted


@dataclass(frozen=True)
class DueDate:
    """A due date and the instant the step lapses; `explain()` gives the day-by-day account."""

    trigger: date
    duration: Duration
    due: date
    deadline: datetime  # end of the due day, Europe/London (the first instant that is late)
    calendar: "WorkingCalendar" = field(repr=False, compare=False)

    def explain(self) -> tuple[DayNote, ...]:
        """Return every day after the trigger up to the due day: counted (numbered) or skipped, and why."""
        notes: list[DayNote] = []
        counted = 0
        for day in _days_after(self.trigger, self.due):
            reason = self.calendar.closed_because(day)
            if isinstance(self.duration, WorkingDays) and reason:
                notes.append(DayNote(day, None, reason))
            else:  # calendar-day periods count every day; a closed day is noted, still counted
                counted += 1
                notes.append(DayNote(day, counted, reason))
        return tuple(notes)

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready description with the day-by-day account (for `--json`)."""
        return {
            "from": self.trigger.isoformat(),
            "duration": str(self.duration),
            "due": self.due.isoformat(),
            "deadline": self.deadline.isoformat(),
            "days": [
                {
                    "date": d.day.isoformat(),
                    "weekday": d.day.strftime("%A"),
                    "counted": d.counted,
                    "skipped": d.reason or None,
                }
                for d in self.explain()
            ],
        }


@dataclass(frozen=True)
class WorkingCalendar:
    """England and Wales working days, less the authority's local closure days."""

    local_closures: Mapping[date, str] = field(default_factory=dict)
    tz: ZoneInfo = LONDON

    @cached_property
    def _holidays(self) -> dict[date, str]:
        # Built once per calendar for the whole supported range (a few ms), then plain dict look-ups.
        bank = _holidays.country_holidays(
            "GB", subdiv="ENG", years=range(FIRST_YEAR, LAST_YEAR + 1), observed=True
        )
        days = {day: _holiday_label(str(name)) for day, name in bank.items()}
        for day, name in self.local_closures.items():
            local = f"local closure: {name}"
            days[day] = f"{days[day]}; {local}" if day in days else local
        return days

    @cached_property
    def legal(self) -> "WorkingCalendar":
        """The legal working day (RPR 2006 reg 2, CPPCR): this calendar without local closures,
        for the clocks the law sets; an authority's closures never stretch them."""
        return WorkingCalendar(tz=self.tz) if self.local_closures else self

    def closed_because(self, day: date) -> str:
        """Return why `day` is not a working day, or "" when it is one."""
        _check_year(day)
        holiday = self._holidays.get(day, "")
        if day.weekday() < 5:
            return holiday
        weekday = "Saturday" if day.weekday() == 5 else "Sunday"
        return f"{weekday}; {holiday}" if holiday else weekday

    def is_working_day(self, day: date) -> bool:
        """Return True when `day` counts as a working day."""
        return not self.closed_because(day)

    def local_date(self, moment: date | datetime) -> date:
        """Return the calendar day of `moment` in this calendar's time zone."""
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
            return moment.astimezone(self.tz).date()
        return moment

    def start_of_day(self, day: date) -> datetime:
        """Return the first instant of `day` here (midnight local, aware): an event known only
        by its date."""
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def end_of_day(self, day: date) -> datetime:
        """Return the first instant after `day` ends here (midnight local, aware)."""
        return self.start_of_day(day + timedelta(days=1))

    def day_ending_at(self, deadline: datetime) -> date:
        """Return the due day whose end is `deadline` (the inverse of end_of_day)."""
        return (deadline.astimezone(self.tz) - timedelta(microseconds=1)).date()

    def due(self, trigger: date | datetime, duration: Duration) -> DueDate:
        """Return the due date `duration` after `trigger` (day 0)."""
        start = self.local_date(trigger)
        _check_year(start)
        if isinstance(duration, WorkingDays):
            due = self._add_working_days(start, duration.n)
        elif isinstance(duration, CalendarDays):
            due = start + timedelta(days=duration.n)
        elif isinstance(duration, CalendarMonths):
            due = add_months(start, duration.n)
        else:  # pragma: no cover - the type checker sees every kind above
            raise TypeError(f"not a duration: {duration!r}")
        _check_year(due)
        return DueDate(start, duration, due, self.end_of_day(due), self)

    def working_days_between(self, start: date, end: date) -> int:
        """Return the working days after `start` up to and including `end` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for d in _days_after(start, end) if self.is_working_day(d))

    def working_days_before(self, day: date, n: int) -> date:
        """Return the working day `n` working days before `day` (a reminder's day)."""
        _check_year(day)
        closed = self._holidays
        while n > 0:
            day -= timedelta(days=1)
            if day.weekday() < 5 and day not in closed:
                n -= 1
        return day

    def _add_working_days(self, start: date, n: int) -> date:
        closed = self._holidays
        day = start
        while n > 0:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in closed:
                n -= 1
        return day


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))


def _holiday_label(name: str) -> str:
    # The package calls a substitute day "Boxing Day (observed)"; say what it is in English law.
    names = [n.strip() for n in name.split(";")]
    return "; ".join(
        n.replace(" (observed)", " (substitute day)") if n.endswith("(observed)") else n
        for n in names
    )


def _days_after(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        day += timedelta(days=1)
        yield day


def _check_year(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(
            f"{day.isoformat()} is outside the calendar ({FIRST_YEAR}-{LAST_YEAR}); check the year"
        )

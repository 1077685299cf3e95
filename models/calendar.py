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


@dataclass(frozen=True, slots=True)
class DueDate:
    """A due date with the instant the step lapses and the day-by-day account of how it was reached."""

    trigger: date
    duration: Duration
    due: date
    deadline: datetime  # end of the due day, Europe/London (the first instant that is late)
    days: tuple[DayNote, ...]

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready description (for `--json` and for scripts)."""
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
                for d in self.days
            ],
        }


@dataclass(frozen=True)
class WorkingCalendar:
    """England and Wales working days, less the authority's local closure days."""

    local_closures: Mapping[date, str] = field(default_factory=dict)
    tz: ZoneInfo = LONDON

    @cached_property
    def _bank_holidays(self) -> _holidays.HolidayBase:
        # Built lazily, once per calendar, for the whole supported range: a few milliseconds.
        return _holidays.country_holidays(
            "GB", subdiv="ENG", years=range(FIRST_YEAR, LAST_YEAR + 1), observed=True
        )

    def closed_because(self, day: date) -> str:
        """Return why `day` is not a working day, or "" when it is one."""
        _check_year(day)
        reasons: list[str] = []
        if day.weekday() >= 5:
            reasons.append(day.strftime("%A"))
        holiday = self._bank_holidays.get(day)
        if holiday:
            reasons.append(_holiday_label(str(holiday)))
        if day in self.local_closures:
            reasons.append(f"local closure: {self.local_closures[day]}")
        return "; ".join(reasons)

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

    def end_of_day(self, day: date) -> datetime:
        """Return the first instant after `day` ends here (midnight local, aware)."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    def due(self, trigger: date | datetime, duration: Duration) -> DueDate:
        """Return the due date `duration` after `trigger` (day 0), with the account of every day."""
        start = self.local_date(trigger)
        _check_year(start)
        try:
            if isinstance(duration, WorkingDays):
                notes, due = self._count_working_days(start, duration.n)
            elif isinstance(duration, CalendarDays):
                due = start + timedelta(days=duration.n)
                notes = tuple(
                    self._note(start + timedelta(days=i), i) for i in range(1, duration.n + 1)
                )
            elif isinstance(duration, CalendarMonths):
                due = add_months(start, duration.n)
                span = (due - start).days
                notes = tuple(self._note(start + timedelta(days=i), i) for i in range(1, span + 1))
            else:  # pragma: no cover - the type checker sees every kind above
                raise TypeError(f"not a duration: {duration!r}")
        except OverflowError as exc:
            raise InputError(f"{duration} from {start} runs past the end of the calendar") from exc
        _check_year(due)
        return DueDate(start, duration, due, self.end_of_day(due), notes)

    def working_days_between(self, start: date, end: date) -> int:
        """Return the working days after `start` up to and including `end` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for d in _days_after(start, end) if self.is_working_day(d))

    def _count_working_days(self, start: date, n: int) -> tuple[tuple[DayNote, ...], date]:
        notes: list[DayNote] = []
        counted = 0
        day = start
        while counted < n:
            day += timedelta(days=1)
            _check_year(day)
            reason = self.closed_because(day)
            if reason:
                notes.append(DayNote(day, None, reason))
            else:
                counted += 1
                notes.append(DayNote(day, counted, ""))
        return tuple(notes), day

    def _note(self, day: date, number: int) -> DayNote:
        # Calendar-day periods count every day; a non-working day is noted but still counted.
        return DayNote(day, number, self.closed_because(day))


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

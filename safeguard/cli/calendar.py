"""`safeguard calendar`: working-day due dates that explain themselves (DESIGN rule 5)."""

from enum import StrEnum
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from models.durations import CalendarDays, CalendarMonths, Duration, WorkingDays
from models.errors import InputError
from safeguard import wiring
from safeguard.cli.common import (
    DATE_HELP,
    console,
    long_date,
    parse_count,
    parse_moment,
    print_json,
)
from safeguard.settings import Settings, get_settings

app = typer.Typer(
    help="Working days: bank holidays, local closures and due dates.", no_args_is_help=True
)


class Unit(StrEnum):
    working_days = "working-days"
    calendar_days = "calendar-days"
    calendar_months = "calendar-months"


_DURATION: dict[Unit, type[WorkingDays] | type[CalendarDays] | type[CalendarMonths]] = {
    Unit.working_days: WorkingDays,
    Unit.calendar_days: CalendarDays,
    Unit.calendar_months: CalendarMonths,
}


@app.command(context_settings={"ignore_unknown_options": True})
def due(
    from_: str = typer.Argument(..., metavar="FROM", help=f"The trigger (day 0): {DATE_HELP}."),
    n: str = typer.Argument(..., metavar="N", help="How many days (or months) after it."),
    unit: Unit = typer.Option(Unit.working_days, "--unit", help="What N counts."),
    explain: bool = typer.Option(
        False, "--explain", help="List every day counted and skipped, with why."
    ),
    clock: str | None = typer.Option(
        None,
        "--clock",
        metavar="PROCESS.STEP",
        help="Count on that clock's calendar (legal working days, or with local closures).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Print the due date N working days after FROM (the trigger day is day 0)."""
    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    trigger = parse_moment(from_, tz, "FROM")
    duration: Duration = _DURATION[unit](parse_count(n, "N"))
    calendar = wiring.working_calendar(settings)
    if clock is not None:
        process, _, step = clock.partition(".")
        if not step:
            raise InputError(f"--clock {clock!r}: write PROCESS.STEP, e.g. {_a_clock(settings)}")
        calendar = wiring.policy(settings).process(process).step(step).clock_calendar(calendar)
    local = wiring.working_calendar(settings)
    if not local.local_closures:
        which = "no local closures in force"
    elif calendar is local:
        which = "local closures counted"
    else:
        which = "the legal working day: local closures not counted"
    result = calendar.due(trigger, duration)
    if as_json:
        print_json({**result.as_dict(), "calendar": which})
        return
    out = console()
    out.print(
        f"{long_date(result.due)}: {duration} after {long_date(result.trigger)}. "
        f"Late from {result.deadline:%H:%M} on {long_date(result.deadline.date())} ({settings.timezone}); "
        f"{which}."
    )
    if explain:
        table = Table(
            "date",
            "day",
            "counted",
            "skipped because",
            title=f"Day 0 is {long_date(result.trigger)}",
        )
        for note in result.explain():
            counted = "" if note.counted is None else f"day {note.counted}"
            if (
                note.counted is not None and note.reason
            ):  # calendar-day periods count closed days too
                counted += " (not a working day: counted all the same)"
            skipped = note.reason if note.counted is None else ""
            table.add_row(note.day.isoformat(), note.day.strftime("%A"), counted, skipped)
        out.print(table)


def _a_clock(settings: Settings) -> str:
    """Return an example of PROCESS.STEP from the policy in force: its first process's first step."""
    process, rules = next(iter(wiring.policy(settings).processes.items()))
    return f"{process}.{next(iter(rules.steps))}"

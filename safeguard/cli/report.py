"""`safeguard report`: reports across cases (timeliness per step, per process)."""

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Column, Table

from models.errors import InputError
from models.reports import period
from models.workbook import Sheet, workbook
from safeguard import wiring
from safeguard.cli.common import console, parse_day, print_json
from safeguard.settings import get_settings

FROM_HELP = "First day (default: 1 April of this reporting year)."
TO_HELP = "Last day (default: the 31 March that year ends on)."

app = typer.Typer(help="Reports across cases.", no_args_is_help=True)


@app.command()
def timeliness(
    process: str = typer.Option(
        ..., "--process", help="The process (its code: 'safeguard policy show' lists them)."
    ),
    start: str | None = typer.Option(None, "--from", help=FROM_HELP),
    end: str | None = typer.Option(None, "--to", help=TO_HELP),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV for a spreadsheet."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the report to this .xlsx file."),
) -> None:
    """Per step: how many were done in time, in time with an extension or a stopped clock, or
    late, and their median working days; the steps still open; and the process's own measures."""
    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    with wiring.casework(settings) as cx:
        first, last = period(
            cx.today(),
            parse_day(start, tz, "--from") if start else None,
            parse_day(end, tz, "--to") if end else None,
        )
        if first > last:
            raise InputError(f"--from {first} is after --to {last}: give the earlier day first")
        report = cx.timeliness(process, first, last)
    data = report.as_dict()
    if as_json:
        print_json(data)
        return
    if as_csv or xlsx:
        header, rows = _timeliness_rows(data)
        if xlsx:
            _write(xlsx, [Sheet(f"{process} timeliness", header, rows)])
            return
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
        return
    table = Table(
        Column("step", overflow="fold"),
        "done",
        "in time",
        "extended",
        "stopped",
        "late",
        "late, why given",
        "in time %",
        "median WD",
        "open",
        "overdue",
        title=f"{process}: steps done {_day(first)} to {_day(last)} ({report.cases} case(s) in all)",
    )
    for row in data["steps"]:
        share = row["in_time_share"]
        table.add_row(
            row["step"],
            str(row["done"]),
            str(row["in time"]),
            str(row["in time with extension"]),
            str(row["in time (clock stopped)"]),
            str(row["late"]),
            str(row["late_with_reason"]),
            "-" if share is None else f"{share:.0%}",
            "-" if row["median_working_days"] is None else f"{row['median_working_days']:g}",
            str(row["open"]),
            str(row["overdue"]),
        )
    out = console()
    out.print(table)
    for m in data["measures"]:
        share = "-" if m["share"] is None else f"{m['share']:.0%}"
        out.print(f"{m['measure']}: {m['count']} of {m['of']} ({share})")


@app.command()
def retention(
    due: bool = typer.Option(False, "--due", help="Only the records due for review now."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Closed cases' records: kept until when, due for review from when (the process's retention
    rule), and what may be said of each, as its process says (in references, removed from the
    file)."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        today, rows = cx.today(), cx.retention(due_only=due)
    if as_json:
        print_json(rows)
        return

    def flag(value: object) -> str:
        return "-" if value is None else ("yes" if value else "no")

    table = Table(
        "case",
        "process",
        "closed",
        "kept until",
        "review from",
        "due now",
        "in references",
        "remove from file",
        title=f"Records with a retention date ({'due for review' if due else 'all'}), as at {_day(today)}",
    )
    for row in rows:
        table.add_row(
            row["reference"],
            row["process"],
            row["closed_on"] or "-",
            row["retain_until"],
            row["review_from"],
            "DUE" if row["due_for_review"] else "",
            flag(row["in_references"]),
            flag(row["remove_from_file"]),
        )
    console().print(table)


def _timeliness_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["kind", "name", "done", "in time", "in time with extension", "in time (clock stopped)",
              "late", "late with reason", "in time share", "median working days", "open", "overdue",
              "count", "of"]  # fmt: skip
    rows: list[list[Any]] = [
        ["step", row["step"], row["done"], row["in time"], row["in time with extension"],
         row["in time (clock stopped)"], row["late"], row["late_with_reason"], row["in_time_share"],
         row["median_working_days"], row["open"], row["overdue"], "", ""]
        for row in data["steps"]
    ]  # fmt: skip
    rows += [
        ["measure", m["measure"], "", "", "", "", "", "", m["share"], "", "", "", m["count"], m["of"]]
        for m in data["measures"]
    ]  # fmt: skip
    return header, rows


def _write(path: Path, sheets: list[Sheet]) -> None:
    """Write the sheets to an .xlsx file (refusing to overwrite one, or a path that is not .xlsx)."""
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"--xlsx {path}: give a file name ending .xlsx")
    if path.exists():
        raise InputError(f"--xlsx {path}: the file exists; give a new name (nothing was overwritten)")  # fmt: skip
    try:
        path.write_bytes(workbook(sheets))
    except OSError as exc:
        raise InputError(f"--xlsx {path}: cannot be written: {exc.strerror}") from None
    console().print(f"written to {path}")


def _day(day: date) -> str:
    return f"{day:%d %b %Y}"


def _rows(found: Any, as_csv: bool) -> None:
    """The rows behind a process's figures, under the return's column names."""
    listing = found.listing
    if listing is None:
        raise InputError(f"{found.title} has no rows behind its figures: leave out --rows")
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(listing.columns)
        writer.writerows(listing.rows)
        return
    table = Table(*listing.columns, title=f"{listing.title}: {len(listing.rows)}")
    for row in listing.rows:
        table.add_row(*(str(v) for v in row))
    console().print(table)


def add_figures(name: str, title: str) -> None:
    """Add `safeguard report NAME`: a process's own figures (its declaration's `figures`)."""

    def command(
        start: str | None = typer.Option(None, "--from", help=FROM_HELP),
        end: str | None = typer.Option(None, "--to", help=TO_HELP),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV for a spreadsheet."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
        rows: bool = typer.Option(
            False, "--rows", help="The rows behind the figures, as the return names its columns."
        ),
        xlsx: Path | None = typer.Option(
            None, "--xlsx", help="Write the figures (and any rows) to this .xlsx file."
        ),
    ) -> None:
        settings = get_settings()
        tz = ZoneInfo(settings.timezone)
        with wiring.casework(settings) as cx:
            first, last = period(
                cx.today(),
                parse_day(start, tz, "--from") if start else None,
                parse_day(end, tz, "--to") if end else None,
            )
            if first > last:
                raise InputError(f"--from {first} is after --to {last}: give the earlier day first")
            found = cx.figures(name, first, last)
        if as_json:
            print_json(found.as_dict())
            return
        if xlsx:
            _write(xlsx, found.sheets())
            return
        if rows:
            _rows(found, as_csv)
            return
        if as_csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(["section", "figure", "value"])
            writer.writerows([f.section, f.label, f.value] for f in found.figures)
            return
        out = console()
        out.print(f"{found.title}: {_day(first)} to {_day(last)}")
        sections: dict[str, list[tuple[str, str]]] = {}
        for f in found.figures:
            value = "-" if f.value is None else f"{f.value:g}"
            sections.setdefault(f.section, []).append((f.label, value))
        for section, lines in sections.items():
            table = Table(Column(section, overflow="fold"), Column("", justify="right"))
            for label, value in lines:
                table.add_row(label, value)
            out.print(table)

    command.__doc__ = (
        f"{title}: the figures over a period (default this reporting year, 1 April to 31 March)."
    )
    app.command(name)(command)

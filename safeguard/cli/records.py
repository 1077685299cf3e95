"""`safeguard child show` / `safeguard carer show`: a child's or a carer's record across processes."""

from typing import Any

import typer
from rich.table import Column, Table

from models import views
from models.chronology import chronology as carer_chronology
from models.db import session_scope
from safeguard import wiring
from safeguard.cli.common import console, print_json
from safeguard.settings import get_settings

child_app = typer.Typer(help="A child's record across processes.", no_args_is_help=True)
carer_app = typer.Typer(help="A foster carer's record across processes.", no_args_is_help=True)


@child_app.command("show")
def child(
    reference: str = typer.Argument(..., metavar="CHILD_REF"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Every case the child is in, and the reports filed on their record."""
    _show({"child": reference}, as_json)


@carer_app.command("show")
def carer(
    reference: str = typer.Argument(..., metavar="CARER_REF"),
    lado_record: bool = typer.Option(
        False,
        "--lado-record",
        help="The LADO's own record: cases removed from the carer's file are kept, marked.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Every case about the carer, and the reports filed on their record (an allegation found
    false or malicious is not on it, unless the carer consented to its being kept)."""
    _show({"carer": reference}, as_json, lado_record=lado_record)


@carer_app.command("chronology")
def chronology(
    reference: str = typer.Argument(..., metavar="CARER_REF"),
    reader: str | None = typer.Option(
        None,
        "--as",
        help="Your staff id: each case's view is kept in its access log, and a restricted case "
        "is shown if you may open it (without --as, none is).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Every case about the carer over time, for their annual review and the fostering panel:
    what was decided, what was recommended and whether it was followed (an allegation found false
    or malicious is not on it, unless the carer consented to its being kept)."""
    settings = get_settings()
    wiring.processes(settings)
    with wiring.casework(settings) as cx:
        found = carer_chronology(
            cx.session, policy=cx.policy, calendar=cx.calendar, carer=reference, now=cx.now(),
            reader=reader,
        )  # fmt: skip
    if as_json:
        print_json(found)
        return
    out = console()
    if not found["cases"]:
        out.print(f"no case about carer {reference} on their record")
        return
    out.print(f"carer {reference}: {len(found['cases'])} case(s), oldest first")
    for case in found["cases"]:
        closed = f", closed {case['closed_at'][:10]}" if case["closed_at"] else ", open"
        out.print(f"\n{case['reference']} ({case['process']}): opened {case['opened_at'][:10]}{closed}")  # fmt: skip
        for d in case["decisions"]:
            out.print(f"  {d['day'][:10]}  {d['what']}: {d['decided']}")
        if case["asked_for"]:
            table = Table("recommended", "owner", "due", "followed", title=None)
            for r in case["asked_for"]:
                table.add_row(r["title"], r["owner"] or "-", r["due"], r["status"].replace("_", " "))  # fmt: skip
            out.print(table)


def _show(who: dict[str, str], as_json: bool, lado_record: bool = False) -> None:
    settings = get_settings()
    wiring.processes(settings)
    with session_scope(wiring.engine(settings)) as session:
        record: dict[str, Any] = views.record_of(session, **who, lado_record=lado_record)
    if as_json:
        print_json(record)
        return
    out = console()
    [(kind, ref)] = who.items()
    cases = Table(
        Column("case", no_wrap=True), "process", "status", "opened", title=f"{kind} {ref}: cases"
    )
    for c in record["cases"]:
        marked = " (removed from the carer's file)" if c.get("removed_from_carer_file") else ""
        cases.add_row(c["reference"], c["process"], c["status"] + marked, c["opened_at"][:10])
    out.print(cases)
    reports = Table(
        Column("case", no_wrap=True), "filed", Column("summary", overflow="fold"), title="reports"
    )
    for r in record["reports"]:
        reports.add_row(r["case"], r["filed_at"][:10], r["summary"] or "")
    out.print(reports if record["reports"] else "no reports filed on this record")

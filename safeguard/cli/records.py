"""`safeguard child show` / `safeguard carer show`: a child's or a carer's record across processes."""

from typing import Any

import typer
from rich.table import Column, Table

from models import views
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

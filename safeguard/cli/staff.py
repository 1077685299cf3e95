"""`safeguard staff`: the staff directory (roles, line managers, notification addresses)."""

import getpass
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.progress import Progress
from rich.table import Table

from models import accounts
from models.db import session_scope
from models.enums import Role
from models.errors import InputError
from models.handover import leave as leave_service
from models.staff import (
    StaffView,
    add_staff,
    get_staff,
    list_staff,
    management_chain,
    new_staff,
    read_import_file,
    set_sign_in_id,
)
from models.wallclock import system_clock
from notifications.addresses import check_address
from notifications.delivery import deliver
from notifications.invitations import send_invitation
from safeguard import wiring
from safeguard.cli.common import console, parse_day, print_json
from safeguard.settings import get_settings

app = typer.Typer(
    help="Who works here: roles, line managers and where notices reach them.", no_args_is_help=True
)


@app.command()
def add(
    staff_id: str = typer.Argument(..., metavar="ID", help="A short id, e.g. lado-ahmed."),
    name: str = typer.Option(..., "--name", help="Full name."),
    roles: list[str] = typer.Option(..., "--role", help="A role (repeat for several)."),
    line_manager: str | None = typer.Option(None, "--manager", help="The line manager's staff id."),
    addresses: list[str] = typer.Option(
        [], "--address", help="An Apprise URL for notices (repeat for several)."
    ),
    independent: bool = typer.Option(
        False,
        "--independent",
        help="External to the authority (RPR 2006 reg 2): may be a stage 2 independent person "
        "or sit on a review panel.",
    ),
    sign_in: str | None = typer.Option(
        None,
        "--sign-in-id",
        help="Who the council's identity provider says they are (the claim "
        "SAFEGUARD_OIDC_CLAIM names: their email, user name or object id).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Add one member of staff."""
    person = new_staff(
        id=staff_id,
        name=name,
        roles=roles,
        line_manager=line_manager,
        addresses=addresses,
        independent=independent,
        sign_in_id=sign_in,
    )
    engine = wiring.engine(get_settings())
    with session_scope(engine) as session:
        add_staff(session=session, people=[person], check_address=check_address, now=system_clock())
        view = get_staff(session, person.id)
    if as_json:
        print_json(view.as_dict())
    else:
        console().print(f"added {view.id} ({view.name}): {', '.join(view.roles)}")


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ..., help="A .csv (id,name,roles,line_manager,addresses) or .yaml file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Add a whole team from a CSV or YAML file: everyone or (on any error) no one."""
    engine = wiring.engine(get_settings())
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task(f"reading {file.name}", total=None)
        people = read_import_file(file, progress=lambda n: progress.advance(task, n))
        progress.update(task, description="checking addresses and adding")
        with session_scope(engine) as session:
            ids = add_staff(
                session=session, people=people, check_address=check_address, now=system_clock()
            )
            views = [get_staff(session, i) for i in ids]
    if as_json:
        print_json([v.as_dict() for v in views])
        return
    _table(views, f"imported {len(views)} from {file}")


@app.command("list")
def list_(
    role: Role | None = typer.Option(None, "--role", help="Only people with this role."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List the staff directory (addresses masked)."""
    engine = wiring.engine(get_settings())
    with session_scope(engine) as session:
        views = list_staff(session, role)
    if as_json:
        print_json([v.as_dict() for v in views])
        return
    _table(views, f"{len(views)} staff" + (f" with role {role.value}" if role else ""))


@app.command()
def show(
    staff_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show one member of staff and their line-management chain (addresses masked)."""
    engine = wiring.engine(get_settings())
    with session_scope(engine) as session:
        view = get_staff(session, staff_id)
        chain = [get_staff(session, manager) for manager in management_chain(session, staff_id)]
    if as_json:
        print_json({**view.as_dict(), "management_chain": [c.id for c in chain]})
        return
    out = console()
    out.print(f"{view.id}: {view.name}" + ("" if view.active else f" (left {view.left_on})"))
    out.print(f"  roles: {', '.join(view.roles)}")
    out.print("  reports to: " + (" -> ".join(f"{c.id} ({c.name})" for c in chain) or "nobody"))
    out.print(
        "  notices to: " + (", ".join(view.addresses) or "no address (notices cannot reach them)")
    )
    out.print("  signs in with the council account: " + (view.sign_in_id or "not linked"))


@app.command("sign-in-id")
def sign_in_id(
    staff_id: str = typer.Argument(..., metavar="ID"),
    value: str | None = typer.Argument(
        None,
        metavar="SIGN_IN_ID",
        help="Who the council's identity provider says they are (their email, user name or "
        "object id, as SAFEGUARD_OIDC_CLAIM names).",
    ),
    clear: bool = typer.Option(False, "--clear", help="Unlink them from any council account."),
    actor: str | None = typer.Option(None, "--as", help="Your staff id (kept in the audit log)."),
) -> None:
    """Link someone already in the directory to their council account (or unlink them)."""
    if (value is None) == (not clear):
        raise InputError(
            "give the sign-in id to link (safeguard staff sign-in-id ID pat@council.gov.uk), "
            "or --clear to unlink, not both"
        )
    engine = wiring.engine(get_settings())
    with session_scope(engine) as session:
        if actor is not None:
            get_staff(session, actor)
        set_sign_in_id(session, staff_id=staff_id, value=value, now=system_clock(), actor_id=actor)
    console().print(
        f"{staff_id} signs in with the council account {value.strip().lower()}"
        if value is not None
        else f"{staff_id} is no longer linked to a council account"
    )


@app.command()
def leave(
    staff_id: str = typer.Argument(..., metavar="ID"),
    on: str = typer.Option(..., "--on", help="The day they left (not in the future)."),
    successor: str | None = typer.Option(
        None, "--reassign-to", help="Who takes over their open steps, actions and cases."
    ),
    actor: str | None = typer.Option(None, "--as", help="Your staff id (kept in the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Mark a person as left: their open work passes to the person named; they can do nothing more."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        handover = leave_service(
            session=cx.session,
            policy=cx.policy,
            calendar=cx.calendar,
            staff_id=staff_id,
            on=parse_day(on, ZoneInfo(settings.timezone), "--on"),
            successor=successor,
            actor_id=actor,
            now=cx.now(),
        )
    if as_json:
        print_json({**handover.__dict__})
        return
    out = console()
    out.print(
        f"{staff_id} left on {handover.left_on:%d %B %Y}"
        + (f"; {handover.successor} takes over" if handover.successor else "; no open work")
        + f": {len(handover.steps)} step(s), {len(handover.actions)} action(s), "
        f"{len(handover.cases_led)} case(s) led, {len(handover.places)} place(s) in cases"
    )
    if handover.reports:
        out.print(
            f"still reporting to {staff_id}: {', '.join(handover.reports)}; escalations about "
            "them go to the next manager up until a new line manager is set"
        )


def _table(views: list[StaffView], title: str) -> None:
    table = Table("id", "name", "roles", "line manager", "addresses", title=title)
    for v in views:
        table.add_row(
            v.id,
            v.name + ("" if v.active else f" (left {v.left_on})"),
            ", ".join(v.roles),
            v.line_manager_id or "-",
            "\n".join(v.addresses) or "none",
        )
    console().print(table)


@app.command("set-password")
def set_password(
    staff_id: str = typer.Argument(..., metavar="ID"),
    from_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Set a person's password for the browser app, at the terminal (e.g. the first administrator).
    It is kept only as an argon2 hash; their sessions elsewhere end."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"New password for {staff_id}: ")
        if getpass.getpass("The same again: ") != password:
            raise InputError("the two passwords differ: nothing changed; try again")
    with session_scope(wiring.engine(get_settings())) as session:
        accounts.set_password(
            session, staff_id=staff_id, password=password, now=system_clock(), actor_id=None
        )
    console().print(f"password set for {staff_id}: they can sign in to the web app")


@app.command("invite")
def invite(
    staff_id: str = typer.Argument(..., metavar="ID"),
    valid_hours: float = typer.Option(
        72,
        "--valid-hours",
        min=0.25,
        max=336,
        help="How long the link works (15 minutes to 14 days).",
    ),
    author: str | None = typer.Option(None, "--as", help="Your staff id (kept in the audit log)."),
) -> None:
    """Send a person (through their addresses, through the outbox) a one-time link to set their
    password for the web app. A delivery that fails now is retried by the sweep."""
    settings = get_settings()
    engine, _, calendar = wiring.service(settings)
    now = system_clock()
    lasts = timedelta(hours=valid_hours)
    base = settings.web_address()
    with session_scope(engine) as session:
        token = accounts.create_invite(
            session, staff_id=staff_id, now=now, lasts=lasts, actor_id=author
        )
        notice_id = send_invitation(
            session,
            staff_id=staff_id,
            link=f"{base}/invitation/{token}",
            valid_until=(now + lasts).astimezone(calendar.tz),
            now=now,
            key=f"invite/{staff_id}/{secrets.token_hex(8)}",
        )
    sent = deliver(engine, notice_ids=[notice_id])
    until = (now + lasts).astimezone(calendar.tz)
    if sent.delivered:
        console().print(f"invitation sent to {staff_id} (notice {notice_id}); the link works once, until {until:%a %d %b %Y %H:%M}")  # fmt: skip
    else:
        console().print(f"invitation to {staff_id} written (notice {notice_id}) but not delivered yet: the sweep tries again ('safeguard notices --pending')")  # fmt: skip

"""Escalation commands: run a sweep, list notices, acknowledge one, stop/resume/extend a clock."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import Progress
from rich.table import Column, Table

from models import clocks
from models.calendar import WorkingCalendar
from models.clock import system_clock
from models.db import session_scope
from models.errors import InputError
from models.escalation import first_review
from notifications import outbox
from safeguard import wiring
from safeguard.cli.common import DATE_HELP, console, parse_datetime, print_json
from safeguard.settings import Settings, get_settings

clock_app = typer.Typer(
    help="Stop, resume or extend a step's clock (each needs a reason and an approver).",
    no_args_is_help=True,
)


def _as_at(text: str | None, settings: Settings, *, future_ok: bool = False) -> datetime:
    now = system_clock()
    if text is None:
        return now
    value = parse_datetime(text, ZoneInfo(settings.timezone), "--at")
    if value > now and not future_ok:
        raise InputError(
            f"--at {text} is in the future: only a --dry-run may look ahead (nothing is written then)"
        )
    return value


def link_base(settings: Settings) -> str | None:
    """Return the Prefect UI address notices link to (the case's flow run)."""
    from safeguard import orchestration

    return orchestration.ui_url(settings)


def sweep(
    at: str | None = typer.Option(None, "--at", help=f"Sweep as at this moment: {DATE_HELP}."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be written; write and send nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Run one sweep now: write the notices that are due, then deliver what is pending."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    now = _as_at(at, settings, future_ok=dry_run)
    with Progress(console=console(), transient=True, disable=as_json) as bar:
        task = bar.add_task("delivering", total=None)
        report = outbox.sweep(
            engine,
            policy=policy,
            calendar=calendar,
            now=now,
            dry_run=dry_run,
            link_base=link_base(settings),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report.as_dict())
        return
    out = console()
    clocks_seen = ", ".join(f"{n} {k}" for k, n in report.clocks.items())
    local = now.astimezone(ZoneInfo(settings.timezone))
    out.print(f"sweep as at {local:%Y-%m-%d %H:%M %Z}{' (dry run)' if dry_run else ''}")
    out.print(f"clocks that can be due: {clocks_seen}")
    out.print(
        f"notices due: {report.due}; written before: {report.already_written}; "
        f"{'would write' if dry_run else 'written now'}: {len(report.written)}"
    )
    if report.written:
        table = Table(
            Column("notice", no_wrap=True),
            Column("case", no_wrap=True),
            Column("kind", no_wrap=True),
            Column("to", overflow="fold"),
            Column("nobody holds", overflow="fold"),
            title="notices",
        )
        for w in report.written:
            table.add_row(
                str(w.notice_id or "-"),
                w.reference,
                w.kind,
                ", ".join(w.recipients) or "nobody",
                ", ".join(w.unfilled) or "",
            )
        out.print(table)
    if report.delivery:
        d = report.delivery
        out.print(
            f"deliveries: {d.attempted} attempted, {d.delivered} delivered, {d.failed} failed "
            f"(kept pending, retried by later sweeps)"
            + (f", {d.skipped} taken by another sweep" if d.skipped else "")
        )


def notices(
    pending: bool = typer.Option(False, "--pending", help="Only notices not yet delivered to all."),
    case: str | None = typer.Option(None, "--case", metavar="CASE", help="Only this case."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many, newest first."),
) -> None:
    """List notices, newest first, with who each went to and whether it was delivered."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        rows = outbox.notice_rows(session, pending=pending, reference=case, limit=limit)
    if as_json:
        print_json(rows)
        return
    tz = ZoneInfo(settings.timezone)
    calendar = wiring.working_calendar(settings)
    table = Table(
        Column("id", no_wrap=True),
        Column("case", no_wrap=True),
        Column("kind", no_wrap=True),
        Column("rung", no_wrap=True),
        Column("written", no_wrap=True),
        Column("to: status", overflow="fold"),
        Column("acknowledged", overflow="fold"),
        title=f"{len(rows)} notice(s)" + (" pending" if pending else ""),
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["case"],
            r["kind"],
            str(r["rung"]),
            _local(r["created_at"], tz),
            "\n".join(_delivery(d) for d in r["deliveries"]) or "nobody to send to",
            _ack(r, tz, calendar),
        )
    console().print(table)


def _local(iso: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%d %b %H:%M")


def _delivery(d: dict[str, Any]) -> str:
    if d["status"] == "delivered":
        return f"{d['to']}: delivered"
    error = f" - {d['last_error']}" if d["last_error"] else ""
    return f"{d['to']}: {d['status'].upper()} after {d['attempts']} attempt(s){error}"


def _ack(r: dict[str, Any], tz: ZoneInfo, calendar: WorkingCalendar) -> str:
    if not r["needs_ack"]:
        return "not needed"
    if r["acknowledged_at"]:
        return f"by {r['acknowledged_by']}, {_local(r['acknowledged_at'], tz)}"
    if r["ack_due_at"]:
        last_day = calendar.day_ending_at(datetime.fromisoformat(r["ack_due_at"]))
        return f"no; due by the end of {last_day:%a} {last_day.day} {last_day:%b}"
    return "no; gone up, or resolved"


def ack(
    notice_id: int = typer.Argument(..., metavar="NOTICE_ID"),
    who: str = typer.Option(..., "--as", help="Your staff id (you must be a recipient)."),
) -> None:
    """Acknowledge a notice you received: it then goes no further up for being unacknowledged."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        notice = outbox.acknowledge(session, notice_id=notice_id, staff_id=who, now=system_clock())
        kind = notice.kind
    console().print(
        f"notice {notice_id} acknowledged by {who}"
        + ("" if kind == "unacknowledged" else " (the step's own ladder runs on while it is late)")
    )


@clock_app.command("stop")
def stop(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    reason: str = typer.Option(..., "--reason", help="Why the clock stops (kept on the record)."),
    approver: str = typer.Option(..., "--approver", help="Staff id of the approving manager."),
    who: str | None = typer.Option(None, "--as", help="Who records it (default: the approver)."),
    at: str | None = typer.Option(None, "--at", help=f"When it stopped: {DATE_HELP}."),
) -> None:
    """Stop a step's clock (e.g. the outcome clock during a police investigation)."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        stopped = clocks.stop(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            reason=reason,
            approver_id=approver,
            recorded_by=who or approver,
            now=_as_at(at, settings),
        )
        _, rule = clocks.step_and_rule(session, policy, case, step)
        first = first_review(rule, calendar, stopped.stopped_at)
    console().print(
        f"{case}: the {step} clock is stopped; first review due {first:%a %d %b %Y}, "
        f"then every {rule.stop_review_every}"
    )


@clock_app.command("resume")
def resume(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    who: str = typer.Option(..., "--as", help="Your staff id."),
    at: str | None = typer.Option(None, "--at", help=f"When it resumed: {DATE_HELP}."),
) -> None:
    """Restart a stopped clock; its due day moves on by the working days it stood still."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        resumed = clocks.resume(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            recorded_by=who,
            now=_as_at(at, settings),
        )
        days, due = resumed.working_days_stopped, resumed.due_on_after
    console().print(
        f"{case}: the {step} clock runs again; it stood still {days} working day(s); "
        f"now due {due:%a %d %b %Y}"
    )


@clock_app.command("extend")
def extend(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    to: str = typer.Option(..., "--to", help="The new timescale, e.g. 65 (in the step's unit)."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (kept on the record, told to the person)."
    ),
    approver: str = typer.Option(..., "--approver", help="Staff id of the approving manager."),
    who: str | None = typer.Option(None, "--as", help="Who records it (default: the approver)."),
) -> None:
    """Extend a step's timescale, up to the policy's legal maximum."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        extension = clocks.extend(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            to=to,
            reason=reason,
            approver_id=approver,
            recorded_by=who or approver,
            now=system_clock(),
        )
        due = extension.due_on_after
        total = extension.extended_to
    console().print(f"{case}: {step} extended to {total}; now due {due:%a %d %b %Y}")

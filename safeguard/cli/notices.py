"""Escalation commands: run a sweep, list notices, acknowledge one."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import Progress
from rich.table import Column, Table

from models.calendar import WorkingCalendar
from models.db import session_scope
from models.wallclock import system_clock
from notifications import notices as outbox_notices
from notifications import sweep as outbox_sweep
from safeguard import wiring
from safeguard.cli.common import DATE_HELP, MAX_ID, as_at, console, print_json
from safeguard.settings import get_settings


def sweep(
    at: str | None = typer.Option(None, "--at", help=f"Sweep as at this moment: {DATE_HELP}."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be written; write and send nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Run one sweep now: write the notices that are due, then deliver what is pending."""
    settings = get_settings()
    engine, policy, calendar = wiring.service(settings)
    now = as_at(at, settings, future_ok=dry_run)
    with Progress(console=console(), transient=True, disable=as_json) as bar:
        task = bar.add_task("delivering", total=None)
        report = outbox_sweep.sweep(
            engine,
            policy=policy,
            calendar=calendar,
            now=now,
            dry_run=dry_run,
            web_url=settings.web_address(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            notify=wiring.notify_channel(settings),
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
    limit: int = typer.Option(
        200, "--limit", min=1, max=10_000, help="At most this many (up to 10,000), newest first."
    ),
) -> None:
    """List notices, newest first, with who each went to and whether it was delivered."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        rows = outbox_notices.notice_rows(session, pending=pending, reference=case, limit=limit)
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
    done = [f"{d['to']}, {_local(d['acknowledged_at'], tz)}" for d in r["deliveries"] if d.get("acknowledged_at")]  # fmt: skip
    if r["acknowledged_at"]:
        return "by " + "; ".join(done or [f"{r['acknowledged_by']}, {_local(r['acknowledged_at'], tz)}"])  # fmt: skip
    waiting = [d["to"] for d in r["deliveries"] if not d.get("acknowledged_at")]
    if r["ack_due_at"]:
        last_day = calendar.day_ending_at(datetime.fromisoformat(r["ack_due_at"]))
        so_far = f"by {'; '.join(done)}; not yet by {', '.join(waiting)}; " if done else "no; "
        return f"{so_far}due by the end of {last_day:%a} {last_day.day} {last_day:%b}"
    return "no; gone up, or resolved"


def ack(
    notice_id: int = typer.Argument(..., metavar="NOTICE_ID", min=1, max=MAX_ID),
    who: str = typer.Option(..., "--as", help="Your staff id (you must be a recipient)."),
) -> None:
    """Acknowledge a notice you received: it then goes no further up for being unacknowledged."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        notice = outbox_notices.acknowledge(
            session, notice_id=notice_id, staff_id=who, now=system_clock()
        )
        kind, everyone = notice.kind, notice.acknowledged_at is not None
    console().print(
        f"notice {notice_id} acknowledged by {who}"
        + ("" if kind == "unacknowledged" else " (the step's own ladder runs on while it is late)")
        + ("" if everyone else "; each other person it went to acknowledges it too")
    )

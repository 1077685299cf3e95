"""Casework commands: start an allegation, record a step, rationale, actions, case views, status."""

import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Column, Table

from models import casework
from models.allegation import STEPS, pause_key
from models.clock import system_clock
from models.db import session_scope
from models.enums import Process
from models.errors import InputError
from safeguard import wiring
from safeguard.cli.common import (
    DATE_HELP,
    console,
    long_date,
    parse_datetime,
    parse_moment,
    print_json,
)
from safeguard.settings import Settings, get_settings

allegation_app = typer.Typer(
    help="Allegations against foster carers (the LADO process).", no_args_is_help=True
)
case_app = typer.Typer(
    help="One case: its timeline, and repair of its flow run.", no_args_is_help=True
)
action_app = typer.Typer(help="Actions agreed at meetings.", no_args_is_help=True)

APPLY_WAIT_SECONDS = 60


def _moment(text: str, settings: Settings, what: str) -> datetime:
    return parse_datetime(text, ZoneInfo(settings.timezone), what)


def _date(text: str, settings: Settings, what: str) -> date:
    value = parse_moment(text, ZoneInfo(settings.timezone), what)
    return value.date() if isinstance(value, datetime) else value


def _child(text: str) -> casework.ChildInCase:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise InputError(
            f"--child {text!r}: write CHILD_REF:IRO_ID:SOCIAL_WORKER_ID, e.g. C-1042:iro-1:sw-3"
        )
    return casework.ChildInCase(*(p.strip() for p in parts))


@allegation_app.command("start")
def start(
    lado: str = typer.Option(..., "--lado", help="The LADO's staff id (they chair and decide)."),
    received: str = typer.Option(
        ..., "--received", help="When the LADO received the referral (date-time)."
    ),
    aware: str = typer.Option(..., "--aware", help="When the organisation became aware (date)."),
    carer: str = typer.Option(..., "--carer", help="The foster carer's reference."),
    service: str = typer.Option(..., "--service", help="The fostering service."),
    children: list[str] = typer.Option(
        ..., "--child", help="CHILD_REF:IRO_ID:SOCIAL_WORKER_ID (repeat for each child)."
    ),
    category: str = typer.Option(
        ...,
        "--category",
        help="The allegation category, e.g. physical, sexual, emotional, neglect.",
    ),
    summary: str = typer.Option(
        ..., "--summary", help="A short summary (kept in our database only)."
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS, "--wait", help="Seconds to wait for the flow to open the first step."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Start an allegation case and its flow run; wait until it asks for the initial consideration."""
    from safeguard import orchestration

    settings = get_settings()
    new = casework.NewAllegation(
        lado_id=lado,
        received_at=_moment(received, settings, "--received"),
        aware_on=_date(aware, settings, "--aware"),
        carer_ref=carer,
        fostering_service=service,
        children=[_child(c) for c in children],
        category=category,
        summary=summary,
    )
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        case = casework.start_allegation(
            session=session, policy=policy, calendar=calendar, new=new, now=system_clock()
        )
        orchestration.check_api(settings)  # Prefect down: refused here, and the case is not stored
    assert case.id is not None
    with orchestration.prefect_api(settings):
        run_id = orchestration.start_run(Process.allegation.value, case.id, case.reference)
        with session_scope(engine) as session:
            casework.set_flow_run(
                session=session, case_id=case.id, flow_run_id=run_id, now=system_clock()
            )
        ready = _wait_until(lambda: _has_open_step(engine, case.id or 0), wait)
    link = f"{orchestration.ui_url(settings)}/runs/flow-run/{run_id}"
    if as_json:
        print_json(
            {
                "reference": case.reference,
                "flow_run_id": run_id,
                "ui": link,
                "first_step_open": ready,
            }
        )
        return
    console().print(f"started {case.reference}\nflow run {run_id}\n{link}")
    if not ready:
        console().print(
            f"the flow has not opened the first step within {wait} s: is 'make run' running?"
        )


def record(
    reference: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP", help=f"One of: {', '.join(STEPS)}."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
    input_file: str = typer.Option(
        ..., "--input", help="A JSON file with the step's input, or - for stdin."
    ),
    at: str | None = typer.Option(
        None, "--at", help=f"When it actually happened: {DATE_HELP}. Default now."
    ),
    key: str | None = typer.Option(
        None, "--key", help="An idempotency key: the same key is stored once."
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS, "--wait", help="Seconds to wait for the flow to apply it."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Record a step of a case, resume its flow, and show where the case is now."""
    from safeguard import orchestration

    settings = get_settings()
    payload = _read_json(input_file)
    moment = _moment(at, settings, "--at") if at else None
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        submission, opened = casework.submit(
            session=session,
            policy=policy,
            calendar=calendar,
            reference=reference,
            step_name=step,
            author_id=author,
            payload=payload,
            at=moment,
            key=key,
            now=system_clock(),
        )
        case = casework.get_case(session, reference)
        orchestration.check_api(settings)  # Prefect down: refused here, and nothing is stored
    with orchestration.prefect_api(settings):
        key, run_id = pause_key(step, opened.sequence), case.flow_run_id

        def moved_on() -> bool:
            if _moved_on(engine, submission.id or 0, opened.id or 0):
                return True
            # Resume whenever the run waits at this step. Checked again and again, not once: the flow
            # opens a step a moment before it suspends, and a record made in that moment finds it
            # still running; without another look the run would then wait for ever.
            if run_id:
                orchestration.resume_if_waiting(run_id, key)
            return False

        applied = _wait_until(moved_on, wait, every=1.0)
    with session_scope(engine) as session:
        view = casework.case_view(
            session=session,
            policy=policy,
            calendar=calendar,
            reference=reference,
            now=system_clock(),
        )
    if as_json:
        print_json({"submission": submission.id, "applied": applied, "case": view})
        return
    out = console()
    if not applied:
        out.print(
            f"stored as submission {submission.id}; the flow has not applied it within {wait} s "
            f"(is 'make run' running?). 'safeguard case repair {reference}' resumes it."
        )
    _print_position(view)


def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--input {source}: cannot be read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--input {source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _wait_until(done: Callable[[], bool], seconds: int, every: float = 0.25) -> bool:
    """Poll the flow run's progress (another process), up to `seconds`; not a deadline of ours."""
    end = time.monotonic() + seconds
    while not done():
        if time.monotonic() >= end:
            return False
        time.sleep(every)
    return True


def _has_open_step(engine: Any, case_id: int) -> bool:
    with session_scope(engine) as session:
        return bool(casework.open_steps(session, case_id))


def _moved_on(engine: Any, submission_id: int, step_id: int) -> bool:
    """True once the flow has applied the submission and opened what comes next (or closed the case)."""
    from models.enums import CaseStatus
    from models.tables import Case, Submission

    with session_scope(engine) as session:
        submission = session.get(Submission, submission_id)
        if submission is None or submission.applied_at is None:
            return False
        case = session.get(Case, submission.case_id)
        later = [s for s in casework.open_steps(session, submission.case_id) if s.id != step_id]
        return bool(later) or (case is not None and case.status is CaseStatus.closed)


def _print_position(view: dict[str, Any]) -> None:
    open_steps = [s for s in view["steps"] if s["status"] == "open"]
    if view["status"] == "closed":
        console().print(f"{view['reference']} is closed")
        return
    for s in open_steps:
        left = s["working_days_left"]
        when = (
            f"{left} working days left"
            if left is not None and left >= 0
            else f"{-left} working days overdue"
        )
        console().print(
            f"{view['reference']}: {s['step']}{'' if s['sequence'] == 1 else ' ' + str(s['sequence'])} "
            f"is open, due {long_date(date.fromisoformat(s['due']))} ({when})"
        )


def rationale(
    decision_id: int = typer.Argument(..., metavar="DECISION_ID"),
    text: str = typer.Option(..., "--text", help="Why the decision was made."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
) -> None:
    """Add the rationale of a decision (append-only: a correction is another entry)."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        casework.add_rationale(
            session=session,
            decision_id=decision_id,
            text=text,
            author_id=author,
            now=system_clock(),
        )
    console().print(f"rationale recorded for decision {decision_id}")


@action_app.command("update")
def update_action(
    action_id: int = typer.Argument(..., metavar="ACTION_ID"),
    status: str = typer.Option(..., "--status", help="done, not_needed or carried_forward."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed unless done)."),
    due: str | None = typer.Option(None, "--due", help="The new due date (carried_forward)."),
) -> None:
    """Update an action: its owner, their managers or a LADO manager."""
    settings = get_settings()
    calendar = wiring.working_calendar(settings)
    with session_scope(wiring.engine(settings)) as session:
        action = casework.update_action(
            session=session,
            calendar=calendar,
            action_id=action_id,
            status=status,
            reason=reason,
            new_due=_date(due, settings, "--due") if due else None,
            author_id=author,
            now=system_clock(),
        )
    console().print(f"action {action_id}: {action.status.value}, due {action.due_on}")


@case_app.command("show")
def show(
    reference: str = typer.Argument(..., metavar="CASE"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a case's timeline: steps, decisions with rationale, actions and their history."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        view = casework.case_view(
            session=session,
            policy=policy,
            calendar=calendar,
            reference=reference,
            now=system_clock(),
        )
    if as_json:
        print_json(view)
        return
    out = console()
    tz = ZoneInfo(settings.timezone)
    referral = view["referral"] or {}
    out.print(
        f"{view['reference']} ({view['process']}, {view['status']}); LADO {view['lado']}; "
        f"referral {'LATE' if referral.get('late') else 'in time'}; "
        f"time to outcome: {view['time_to_outcome']['within'] if view['time_to_outcome'] else '-'}"
    )
    steps = Table(
        Column("step", overflow="fold"),
        "status",
        "opened",
        "due",
        "closed",
        Column("timescale", overflow="fold"),
        title="steps",
    )
    for s in view["steps"]:
        steps.add_row(
            s["step"] + ("" if s["sequence"] == 1 else f" {s['sequence']}"),
            s["status"],
            _local(s["opened"], tz),
            s["due"],
            _local(s["closed"], tz),
            s["timeliness"].upper() if s["timeliness"] in ("late", "overdue") else s["timeliness"],
        )
    out.print(steps)
    decisions = Table(
        Column("id", no_wrap=True),
        Column("decision", overflow="fold"),
        "by",
        "when",
        "rationale",
        title="decisions",
    )
    for d in view["decisions"]:
        why = (
            " / ".join(r["text"] for r in d["rationale"])
            or f"RATIONALE DUE by the end of {date.fromisoformat(d['rationale_due_day']):%a %d %b %Y}"
        )
        decisions.add_row(
            str(d["id"]),
            f"{d['kind']}: {d['value']}",
            f"{d['author']} ({d['role']})",
            _local(d["decided_at"], tz),
            why,
        )
    out.print(decisions)
    actions = Table(
        Column("id", no_wrap=True), "action", "owner", "due", "status", "history", title="actions"
    )
    for a in view["actions"]:
        history = "; ".join(
            f"{h['status']} by {h['by']}"
            + (f" ({h['reason']})" if h["reason"] else "")
            + (f", now due {h['new_due']}" if h["new_due"] else "")
            for h in a["history"]
        )
        actions.add_row(
            str(a["id"]),
            a["title"],
            a["owner"],
            a["due"],
            a["status"] + (" OVERDUE" if a["overdue"] else ""),
            history,
        )
    out.print(actions)


def _local(iso: str | None, tz: ZoneInfo) -> str:
    """Return a stored UTC time as local date and time, e.g. 2026-11-26 15:00."""
    return "" if not iso else datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


@case_app.command("repair")
def repair(reference: str = typer.Argument(..., metavar="CASE")) -> None:
    """Carry a case's flow run on from its last step: resume it, or restart a crashed run."""
    from safeguard import orchestration

    settings = get_settings()
    engine = wiring.engine(settings)
    with session_scope(engine) as session:
        case = casework.get_case(session, reference)
        waiting = [
            (s.name, s.sequence)
            for s in casework.open_steps(session, case.id or 0)
            if casework.submission_for(session, case.id or 0, s.name, s.sequence) is not None
        ]
    with orchestration.prefect_api(settings):
        if not case.flow_run_id:  # Prefect failed between storing the case and creating its run
            run_id = orchestration.start_run(case.process.value, case.id or 0, case.reference)
            with session_scope(engine) as session:
                casework.set_flow_run(
                    session=session, case_id=case.id or 0, flow_run_id=run_id, now=system_clock()
                )
            console().print(
                f"{reference}: flow run {run_id} created; it carries on from the last step"
            )
            return
        state = orchestration.state_of(case.flow_run_id)
        if state.type in ("CRASHED", "FAILED", "CANCELLED"):
            orchestration.restart(case.flow_run_id)
            console().print(
                f"{reference}: the {state.name.lower()} run is scheduled again; it replays to its last step"
            )
        elif state.type == "PAUSED":
            resumed = any(
                orchestration.resume_if_waiting(case.flow_run_id, pause_key(n, q))
                for n, q in waiting
            )
            console().print(
                f"{reference}: "
                + (
                    "resumed"
                    if resumed
                    else f"waits at {state.pause_key}: nothing recorded for it yet"
                )
            )
        else:
            console().print(f"{reference}: the run is {state.name}; nothing to repair")


def status(
    process: Process | None = typer.Option(None, "--process", help="Only this process."),
    overdue: bool = typer.Option(
        False, "--overdue", help="Only cases whose current step is overdue."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """One row per open case: step, due date, working days left, overdue actions, missing rationale."""
    settings = get_settings()
    calendar = wiring.working_calendar(settings)
    with session_scope(wiring.engine(settings)) as session:
        rows = casework.status_rows(
            session=session, calendar=calendar, now=system_clock(), process=process
        )
    if overdue:
        rows = [r for r in rows if r["overdue"]]
    _add_run_states(settings, rows)
    if as_json:
        print_json(rows)
        return
    # The reference, due date and days are what a manager scans for: they never wrap or shorten.
    table = Table(
        Column("case", no_wrap=True),  # its prefix (ALG-, DIS-, CMP-) names the process
        Column("step", overflow="fold"),
        Column("due", no_wrap=True),
        Column("days", no_wrap=True),
        Column("late actions", overflow="fold"),
        Column("no rationale", overflow="fold"),
        Column("run", overflow="fold"),
        title=f"{len(rows)} open case(s)",
    )
    for r in rows:
        left = r["working_days_left"]
        days = "-" if left is None else (f"{left} left" if left >= 0 else f"{-left} OVERDUE")
        table.add_row(
            r["reference"],
            r["step"],
            r["due"] or "-",
            days,
            str(r["actions_overdue"]),
            str(r["rationale_missing"]),
            r["run_state"],
        )
    console().print(table)


def _add_run_states(settings: Settings, rows: list[dict[str, Any]]) -> None:
    from safeguard import orchestration

    try:
        with orchestration.prefect_api(settings):
            for r in rows:
                r["run_state"] = (
                    orchestration.state_of(r["flow_run_id"]).name if r["flow_run_id"] else "-"
                )
    except InputError:
        for r in rows:
            r["run_state"] = "Prefect not running"

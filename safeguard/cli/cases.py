"""Case commands for every process: start a case, record a step, a case's timeline, its repair,
and one row per open case. Each reaches the process through the registry (DESIGN rule 11)."""

import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Column, Table
from sqlalchemy.engine import Engine

from models import accounts, cases, registry, restriction, steps
from models.db import session_scope
from models.errors import InputError
from models.tables import Submission
from models.wallclock import system_clock
from safeguard import orchestration, wiring
from safeguard.cli.common import (
    DATE_HELP,
    console,
    long_date,
    parse_datetime,
    parse_day,
    print_json,
)
from safeguard.settings import Settings, get_settings

case_app = typer.Typer(
    help="One case: its timeline, and repair of its flow run.", no_args_is_help=True
)

APPLY_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 3600  # an hour: longer is never what someone at a terminal means


def start(
    process: str = typer.Argument(
        ..., metavar="PROCESS", help="The process (its code: 'safeguard policy show' lists them)."
    ),
    author: str = typer.Option(..., "--as", help="Your staff id (you start, and by default lead)."),
    input_file: str = typer.Option(
        ..., "--input", help="A JSON file with the start input, or - for stdin."
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS,
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait for the flow to open the first step.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Start a case of any process and its flow run; wait until it asks for its first step."""
    wiring.processes(get_settings())
    registry.get(process)  # an unknown process is refused first, listing those there are
    start_case(process, author, read_json(input_file), wait=wait, as_json=as_json)


def start_case(process: str, author: str, payload: Any, *, wait: int, as_json: bool) -> None:
    """The one start path: store the case (refused before anything is stored if Prefect is down),
    create its flow run, wait for the first step, say where it is."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        case = cx.start(process, author, payload)
        orchestration.check_api(settings)  # Prefect down: refused here, and the case is not stored
    engine = wiring.engine(settings)
    with orchestration.prefect_api(settings):
        run_id = orchestration.launch(engine, case)
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
    step: str = typer.Argument(
        ..., metavar="STEP", help="The step ('safeguard case show CASE' lists the open ones)."
    ),
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
    late_reason: str | None = typer.Option(
        None,
        "--late-reason",
        help="Why it was done after its due day (without it, the reason falls due as a rationale).",
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS,
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait for the flow to apply it.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Record a step of a case, resume its flow, and show where the case is now.

    The record is stored first; then the flow is resumed to apply it (the same resume loop as the
    browser's). If Prefect does not answer, the record stays stored and this says so: the flow
    applies it when the service is back (DESIGN rule 13)."""
    settings = get_settings()
    payload = read_json(input_file)
    moment = parse_datetime(at, ZoneInfo(settings.timezone), "--at") if at else None
    with wiring.casework(settings) as cx:
        recorded = cx.submit(
            reference, step, author, payload, at=moment, key=key, late_reason=late_reason
        )
    submission = recorded.submission.id or 0
    run_id = recorded.case.flow_run_id
    followed = orchestration.follow(wiring.engine(settings), settings, run_id, submission, seconds=wait)  # fmt: skip
    if run_id and followed.answering and not followed.applied:  # the run may be between waits:
        orchestration.hand_over(run_id, submission)  # nudged on after this command has gone
    with wiring.casework(settings) as cx:
        stored = cx.session.get(Submission, submission)
        if stored is not None and stored.failed_at is not None:
            raise InputError(
                f"stored as submission {stored.id}, but the flow could not apply it: "
                f"{stored.failure}; {step} is open again: record it again, corrected"
            )
        view = cx.view(reference)
    if as_json:
        print_json(
            {
                "submission": submission,
                "applied": followed.applied,
                "service_answering": followed.answering,
                "case": view,
            }
        )
        return
    out = console()
    if not followed.applied and not followed.answering:
        out.print(
            f"stored as submission {submission}; the service does not answer now: the case "
            f"will move on when it is back (the scheduled sweep wakes it; or run "
            f"'safeguard case repair {reference}')"
        )
    elif not followed.applied and wait == 0:
        out.print(f"stored as submission {submission}; the flow takes it in a moment")
    elif not followed.applied:
        out.print(
            f"stored as submission {submission}; the flow has not applied it within {wait} s: it "
            f"is still being carried on (is 'make run' running? 'safeguard case repair "
            f"{reference}' resumes it)"
        )
    _print_position(view)


MAX_INPUT_BYTES = 1_000_000  # far above any step's input; a bigger file is a mistake
MAX_DEPTH = 20  # no step's input nests deeper than a few levels


def read_json(source: str) -> Any:
    """Return the JSON in a file (or stdin for -), or raise InputError saying what is wrong."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with Path(source).open("rb") as file:
                raw = file.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--input {source}: cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"--input {source}: larger than {MAX_INPUT_BYTES:,} bytes; check the file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"--input {source}: not UTF-8 text (a binary file, or saved as UTF-16?); "
            "save it as UTF-8 JSON"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--input {source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (RecursionError, ValueError) as exc:  # nested thousands deep; a 5,000-digit number
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise InputError(f"--input {source}: cannot be read as JSON: {reason}") from None
    _plain(data, source, "input", 0)
    return data


def _plain(value: Any, source: str, where: str, depth: int) -> None:
    """Refuse what no input needs and the database cannot store: deep nesting, NUL characters."""
    if depth > MAX_DEPTH:
        raise InputError(f"--input {source}: {where} is nested more than {MAX_DEPTH} deep")
    if isinstance(value, str) and "\x00" in value:
        raise InputError(f"--input {source}: {where} contains a NUL character (\\u0000); remove it")
    if isinstance(value, dict):
        for key, item in value.items():
            _plain(key, source, where, depth + 1)
            _plain(item, source, f"{where}.{key}" if where != "input" else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain(item, source, f"{where}.{index}", depth + 1)


def _wait_until(done: Callable[[], bool], seconds: int, every: float = 0.25) -> bool:
    """Poll the flow run's progress (another process), up to `seconds`; not a deadline of ours."""
    end = time.monotonic() + seconds
    while not done():
        if time.monotonic() >= end:
            return False
        time.sleep(every)
    return True


def _has_open_step(engine: Engine, case_id: int) -> bool:
    with session_scope(engine) as session:
        return bool(steps.open_steps_of(session, case_id))


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


@case_app.command("show")
def show(
    reference: str = typer.Argument(..., metavar="CASE"),
    viewer: str | None = typer.Option(
        None,
        "--as",
        help="Your staff id: the view is logged in the case's access log (and, where its process lets your role, shown).",
    ),
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="Why you open a case you have no part in, where its process asks (logged).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a case's timeline: steps, decisions with rationale, actions and their history."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        case = cx.case(reference)
        refused_to: restriction.Restricted | None = None
        if viewer is not None:  # every view by a person is logged, as in the browser
            try:
                accounts.log_view(
                    cx.session, case=case, staff_id=viewer, now=cx.now(), reason=reason, via="cli"
                )
            except restriction.Restricted as closed:
                refused_to = closed
        view = cx.view(reference) if refused_to is None else {}
        if viewer is not None and accounts.may_see_access_log(cx.session, case, viewer):
            view["access_log"] = accounts.access_log(cx.session, case.id or 0)
        if refused_to is not None:  # the attempt is kept (its own transaction: this one ends)
            restriction.refused(cx.session, case_id=case.id or 0, staff_id=viewer or "", now=cx.now(), via="cli")  # fmt: skip
    if refused_to is not None:
        raise refused_to
    if as_json:
        print_json(view)
        return
    out = console()
    tz = ZoneInfo(settings.timezone)
    out.print(f"{view['reference']} ({view['process']}, {view['status']}); {view['headline']}")
    if view.get("retain_until"):
        out.print(f"record kept until {view['retain_until']} (its retention rule)")
    for flag in view["flags"]:
        out.print(f"FLAG: {flag['flag']} for {flag['child']} ({flag['reference']})")
    if view["restricted"]:
        out.print("RESTRICTED: only the people working on it and their managers may open it")
    for decision in view["restrictions"]:
        said = (
            f"restricted: {decision['ground']}" if decision["restricted"] else "restriction lifted"
        )
        out.print(f"  {said}, by {decision['by']} at {decision['at'][:16]}: {decision['reason']}")
    for link in view["links"]:
        out.print(f"linked: {link['reference']} ({link['process']}): {link['why']}")
    for note in view.get("notes", []):
        out.print(note)
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
    if view["not_applied"]:
        failed = Table(
            Column("submission", no_wrap=True),
            "step",
            "by",
            "when",
            Column("why", overflow="fold"),
            title="records the flow could not apply (the step took a corrected one)",
        )
        for f in view["not_applied"]:
            failed.add_row(
                str(f["submission"]), f["step"], f["by"], _local(f["failed_at"], tz), f["reason"]
            )
        out.print(failed)
    if "access_log" in view:
        log = Table("who", "when", "via", Column("reason", overflow="fold"), title="access log")
        for v in view["access_log"]:
            said = "REFUSED: the case is restricted" if v.get("refused") else v["reason"] or "-"
            log.add_row(v["who"], _local(v["at"], tz), v["via"], said)
        out.print(log)


def _local(iso: str | None, tz: ZoneInfo) -> str:
    """Return a stored UTC time as local date and time, e.g. 2026-11-26 15:00."""
    return "" if not iso else datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


@case_app.command("restrict")
def restrict(
    reference: str = typer.Argument(..., metavar="CASE"),
    ground: str = typer.Option(
        ...,
        "--ground",
        help="staff: the carer or a child is a member of staff; related: related to one.",
    ),
    reason: str = typer.Option(..., "--reason", help="Why (kept on the case with your name)."),
    author: str = typer.Option(
        ..., "--as", help="Your staff id (a LADO manager, as its process says)."
    ),
) -> None:
    """Restrict a case: only its lead, the people named in it or owning its work, their managers
    and you may then open it; anyone else's attempt is kept in its access log."""
    if ground not in restriction.GROUNDS:
        raise InputError(f"--ground: choose {' or '.join(restriction.GROUNDS)}, not {ground!r}")
    with wiring.casework(get_settings()) as cx:
        case = cx.case(reference)
        restriction.restrict(cx.session, case=case, by=author, ground=ground, reason=reason, now=cx.now())  # fmt: skip
    console().print(f"{reference} is restricted: {restriction.GROUNDS[ground].lower()}")


@case_app.command("lift-restriction")
def lift_restriction(
    reference: str = typer.Argument(..., metavar="CASE"),
    reason: str = typer.Option(..., "--reason", help="Why (kept on the case with your name)."),
    author: str = typer.Option(
        ..., "--as", help="Your staff id (a LADO manager, as its process says)."
    ),
) -> None:
    """Lift a case's restriction (a decision, kept with its reason)."""
    with wiring.casework(get_settings()) as cx:
        restriction.lift(cx.session, case=cx.case(reference), by=author, reason=reason, now=cx.now())  # fmt: skip
    console().print(f"{reference} is no longer restricted")


@case_app.command("event")
def event(
    reference: str = typer.Argument(..., metavar="CASE"),
    name: str = typer.Argument(
        ...,
        metavar="EVENT",
        help="An event the case's process records as it comes (its policy names them).",
    ),
    on: str = typer.Option(..., "--on", help="The day it happened (YYYY-MM-DD)."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
) -> None:
    """Record something that happens to a case outside its steps, as it comes (once per case)."""
    record_event(reference, name, on, author, "--on")


def record_event(reference: str, name: str, on: str, author: str, option: str) -> None:
    settings = get_settings()
    day = parse_day(on, ZoneInfo(settings.timezone), option)
    with wiring.casework(settings) as cx:
        written = cx.record_event(reference, name, day, author)
    console().print(
        f"{reference}: " + "; ".join(f"{what} {when:%a %d %b %Y}" for what, when in written)
    )


@case_app.command("repair")
def repair(reference: str = typer.Argument(..., metavar="CASE")) -> None:
    """Carry a case's flow run on from its last step: create it, resume it, or restart a run that
    crashed or has nothing behind it (Pending or Running longer than SAFEGUARD_STUCK_AFTER_SECONDS)."""
    settings = get_settings()
    engine = wiring.engine(settings)
    with session_scope(engine) as session:
        case = cases.get_case(session, reference)
        waiting = steps.recorded_keys(session, case.id or 0) | steps.lapsed_windows(
            session, case.id or 0, system_clock()
        )
    with orchestration.prefect_api(settings):
        done = orchestration.carry_on(
            engine,
            case,
            waiting,
            system_clock(),
            timedelta(seconds=settings.stuck_after_seconds),
        )
    console().print(f"{reference}: {done.said}")


def status(
    process: str | None = typer.Option(
        None, "--process", help="Only this process (its code: 'safeguard policy show' lists them)."
    ),
    overdue: bool = typer.Option(
        False, "--overdue", help="Only cases whose current step is overdue."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """One row per open case: step, due date, working days left, overdue actions, missing rationale."""
    settings = get_settings()
    if process is not None:
        wiring.processes(settings)
        registry.get(process)  # an unknown process is refused, listing those there are
    with wiring.casework(settings) as cx:
        rows = cx.status_rows(process)
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
    try:
        with orchestration.prefect_api(settings):
            for r in rows:
                r["run_state"] = (
                    orchestration.state_of(r["flow_run_id"]).name if r["flow_run_id"] else "-"
                )
    except InputError:
        for r in rows:
            r["run_state"] = "Prefect not running"

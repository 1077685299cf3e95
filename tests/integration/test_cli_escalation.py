"""The escalation commands as a user meets them, on SQLite and PostgreSQL: sweep, notices, ack and
clock stop/resume/extend; bad input gets one line on stderr, exit status 2 and changes nothing."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import steps
from models.db import session_scope
from models.tables import AuditEntry, Case, CaseEvent, ClockStop, Extension, Notice, Step
from tests.cases import CALENDAR, POLICY, add_team, open_step, start_case
from tests.integration.test_cli import Result, Run, refused
from tests.integration.test_cli import run as run
from tests.smtp import SmtpServer


@pytest.fixture
def setup(
    engine: Engine, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A team, an allegation case with its outcome clock open; the CLI pointed at the database."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # links only; never called
    add_team(engine, smtp)
    ref = start_case(engine)
    open_step(engine, ref, "outcome")
    return ref


def complaint_case(
    engine: Engine,
    reference: str = "CMP-2026-0001",
    agreed: datetime = datetime(2026, 11, 2, 9, tzinfo=UTC),
) -> str:
    """A stage 2 complaint whose 25-working-day response clock runs from `agreed` (Mon 2 Nov
    2026: due Mon 7 Dec)."""
    with session_scope(engine) as session:
        case = Case(
            reference=reference,
            process="complaint",  # not yet declared: its clocks are the policy's, all this needs
            opened_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
            opened_by="hos-1",
            lead_id="hos-1",
        )
        session.add(case)
        session.flush()
        session.add(
            CaseEvent(
                case_id=case.id or 0,
                name="statement_agreed",
                at=agreed,
            )
        )
        session.flush()
        steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case.id or 0,
            names=["stage2_response"],
        )
    return reference


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(t)).one()
            for t in (Notice, ClockStop, Extension, AuditEntry)
        )


def test_sweep_notices_and_ack(run: Run, setup: str, engine: Engine, smtp: SmtpServer) -> None:
    ref = setup
    result = run("sweep", "--at", "2026-11-04T09:00", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert isinstance(report, dict)
    written, started = report["written"]  # the late step; the case's start, for information
    assert (written["kind"], written["recipients"]) == ("lapsed", ["lado-1", "ladom-1"])
    assert (started["kind"], started["recipients"]) == ("information", ["iro-1", "sw-1"])
    assert report["delivery"]["delivered"] == 4
    notice_id = written["notice_id"]

    # A dry run looking ahead shows rung 2 and writes nothing; a real sweep cannot look ahead.
    before = counts(engine)
    ahead = run("sweep", "--at", "2026-11-05T09:00", "--dry-run")
    assert ahead.code == 0 and "would write: 1" in ahead.out and "hos-1" in ahead.out
    refused(run("sweep", "--at", "2099-01-01T09:00"), "in the future", "--dry-run")
    refused(run("sweep", "--at", "tuesday"), "'tuesday' is not a real")
    assert counts(engine) == before

    table = run("notices", "--case", ref)
    assert (
        table.code == 0 and "lado-1: delivered" in table.out and "ladom-1: delivered" in table.out
    )
    assert "no; due by the end of Fri 6 Nov" in table.out  # 2 working days to acknowledge
    assert json.loads(run("notices", "--pending", "--json").out) == []
    refused(run("notices", "--case", "ALG-1999-0001"), "no case 'ALG-1999-0001'")

    # Only a recipient may acknowledge; an unknown notice is named.
    refused(run("ack", str(notice_id), "--as", "sw-1"), "sw-1 did not receive notice", "lado-1")
    refused(run("ack", "9999", "--as", "lado-1"), "no notice 9999")
    refused(run("ack", str(notice_id)), "Missing option '--as'")
    assert counts(engine) == before
    ok = run("ack", str(notice_id), "--as", "ladom-1")
    assert ok.code == 0 and "acknowledged by ladom-1" in ok.out
    assert "each other person it went to acknowledges it too" in ok.out
    # one person's acknowledgement never discharges another's: the LADO's is still due
    [row] = [r for r in json.loads(run("notices", "--json").out) if r["kind"] == "lapsed"]
    assert row["acknowledged_by"] is None and row["ack_due_at"] is not None
    assert "not yet by lado-1" in run("notices", "--case", ref).out
    ok = run("ack", str(notice_id), "--as", "lado-1")
    assert ok.code == 0 and "each other person" not in ok.out
    [row] = [r for r in json.loads(run("notices", "--json").out) if r["kind"] == "lapsed"]
    assert row["acknowledged_by"] == "lado-1" and row["ack_due_at"] is None
    assert {d["to"] for d in row["deliveries"] if d["acknowledged_at"]} == {"lado-1", "ladom-1"}


def test_clock_stop_and_resume(run: Run, setup: str, engine: Engine) -> None:
    ref = setup
    before = counts(engine)
    refused(
        run("clock", "stop", ref, "outcome", "--reason", "police investigation"),
        "Missing option '--approver'",
    )
    refused(
        run("clock", "stop", ref, "outcome", "--reason", "police", "--approver", "lado-2"),
        "lado-2 (LADO) is too junior",
        "LADO manager or more senior",
    )
    refused(
        run("clock", "stop", ref, "outcome", "--reason", " ", "--approver", "ladom-1"),
        "give the reason",
    )
    refused(
        run("clock", "stop", ref, "initial_consideration", "--reason", "x", "--approver", "hos-1"),
        "cannot be stopped under the policy",
    )
    refused(run("clock", "stop", ref, "nonsense", "--reason", "x", "--approver", "hos-1"), "steps:")
    refused(run("clock", "resume", ref, "outcome", "--as", "lado-1"), "is not stopped")
    assert counts(engine) == before

    stopped = run(
        "clock",
        "stop",
        ref,
        "outcome",
        "--reason",
        "police investigation",
        "--approver",
        "ladom-1",
        "--as",
        "lado-1",
        "--at",
        "2026-11-17T10:00",
    )
    assert stopped.code == 0, stopped.err
    assert "first review due Tue 15 Dec 2026" in stopped.out
    refused(
        run("clock", "stop", ref, "outcome", "--reason", "again", "--approver", "ladom-1"),
        "already stopped",
    )
    resumed = run("clock", "resume", ref, "outcome", "--as", "lado-1", "--at", "2026-11-24T10:00")
    assert resumed.code == 0, resumed.err
    assert "stood still 5 working day(s); now due Wed 09 Dec 2026" in resumed.out
    with Session(engine) as session:
        step = session.exec(select(Step).where(Step.name == "outcome")).one()
    assert step.status == "open" and step.due_on.isoformat() == "2026-12-09"


def test_clock_extend_up_to_the_legal_maximum(run: Run, setup: str, engine: Engine) -> None:
    ref = complaint_case(engine)
    with session_scope(engine) as session:
        from models.staff import add_staff
        from tests.builders import accept_any_address, person

        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 10, 1, tzinfo=UTC),
            people=[person("cm-1", "complaints_manager", manager="hos-1")],
        )
    late = complaint_case(engine, "CMP-2026-0002", agreed=datetime(2026, 10, 1, 9, tzinfo=UTC))
    before = counts(engine)
    refused(
        run("clock", "extend", ref, "stage2_response", "--at", "2026-12-01T10:00", "--to", "45", "--reason", "r", "--approver", "cm-1"),
        "--told-on is needed to extend the stage 2 investigation and adjudication",
    )  # fmt: skip
    refused(
        run(
            "clock",
            "extend",
            ref,
            "stage2_response",
            "--at",
            "2026-12-01T10:00",
            "--told-on",
            "2026-11-20",
            "--to",
            "70",
            "--reason",
            "r",
            "--approver",
            "cm-1",
        ),
        "70 working days is past the legal maximum",
        "at most 65 working days",
    )
    refused(
        run(
            "clock",
            "extend",
            ref,
            "stage2_response",
            "--at",
            "2026-12-01T10:00",
            "--told-on",
            "2026-11-20",
            "--to",
            "65",
            "--reason",
            "r",
            "--approver",
            "lado-1",
        ),
        "too junior",
    )
    refused(
        run(
            "clock",
            "extend",
            ref,
            "stage2_response",
            "--at",
            "2026-12-01T10:00",
            "--told-on",
            "2026-11-20",
            "--to",
            "2 calendar months",
            "--reason",
            "r",
            "--approver",
            "cm-1",
        ),
        "in the step's unit",
    )
    refused(
        run(
            "clock",
            "extend",
            ref,
            "stage2_response",
            "--at",
            "2026-12-01T10:00",
            "--told-on",
            "2026-11-20",
            "--to",
            "20",
            "--reason",
            "r",
            "--approver",
            "cm-1",
        ),
        "does not move the due day on",
    )
    # Decided after the due day (Mon 7 Dec) it would move: refused; the step is recorded late.
    refused(
        run(
            "clock", "extend", late, "stage2_response", "--at", "2026-11-09T10:00",
            "--told-on", "2026-11-06", "--to", "45", "--reason", "r", "--approver", "cm-1",
        ),
        "an extension is decided by the day it moves: the stage 2 investigation and "
        "adjudication was due on 5 November 2026 and this extension is dated 9 November 2026",
    )  # fmt: skip
    assert counts(engine) == before
    result: Result = run(
        "clock",
        "extend",
        ref,
        "stage2_response",
        "--at",
        "2026-12-01T10:00",
        "--told-on",
        "2026-11-20",
        "--to",
        "65",
        "--reason",
        "the independent person needs more interviews",
        "--approver",
        "cm-1",
    )
    assert result.code == 0, result.err
    assert "extended to 65 working days; now due" in result.out
    with Session(engine) as session:
        extension = session.exec(select(Extension)).one()
    assert (extension.due_on_before.isoformat(), extension.due_on_after.isoformat()) == (
        "2026-12-07",
        "2027-02-04",
    )

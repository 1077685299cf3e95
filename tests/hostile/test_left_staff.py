"""A person who has left can do nothing, on SQLite and PostgreSQL: not start a case, record a step,
add a rationale, update an action, acknowledge a notice, approve a stop, or be named in a case.
Marking them as left passes their open work to a named successor, with an audit entry, and is
refused when that work would be left with nobody."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.tables import Action, AuditEntry, Case, CaseParty, Staff, Step
from tests.cases import add_team, at, open_step, record, start_case, sweep
from tests.integration.test_cli import Run, refused
from tests.integration.test_cli import run as run
from tests.smtp import SmtpServer


@pytest.fixture
def case(
    engine: Engine, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An allegation case led by lado-1 with a meeting held, an action owned by lado-1, the review
    open; a lapsed notice to lado-1 from a sweep."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    add_team(engine, smtp)
    ref = start_case(engine)
    sweep(engine, at("2026-11-04T09:00"))  # initial consideration lapsed: lado-1 and ladom-1 told
    record(
        engine,
        ref,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-04T10:00"),
    )
    open_step(engine, ref, "allegation_meeting")
    record(
        engine,
        ref,
        "allegation_meeting",
        {
            "held_on": "2026-11-05",
            "attendees": ["lado"],
            "actions": [{"title": "Interview", "owner": "lado-1", "due": 5}],
        },
        at("2026-11-05T15:00"),
    )
    open_step(engine, ref, "review_meeting", now=at("2026-11-05T15:05"))
    open_step(engine, ref, "outcome")
    return ref


def test_leaving_with_open_work_needs_a_successor_who_can_take_it(
    run: Run, case: str, engine: Engine
) -> None:
    refused(
        run("staff", "leave", "lado-1", "--on", "2026-11-20"),
        "lado-1 still has open work (2 open step(s), 1 open action(s), 1 case(s) they lead",
        "--reassign-to",
    )
    refused(
        run("staff", "leave", "lado-1", "--on", "2026-11-20", "--reassign-to", "sw-1"),
        "sw-1 cannot take over lado-1's work: it needs the role lado",
    )
    refused(
        run("staff", "leave", "lado-1", "--on", "2030-01-01", "--reassign-to", "lado-2"), "future"
    )
    with Session(engine) as session:
        assert session.get(Staff, "lado-1").active  # type: ignore[union-attr]

    result = run("staff", "leave", "lado-1", "--on", "2026-11-20", "--reassign-to", "lado-2")
    assert result.code == 0, result.err
    assert "lado-2 takes over: 2 step(s), 1 action(s), 1 case(s) led" in result.out
    with Session(engine) as session:
        steps = session.exec(select(Step).where(Step.status == "open")).all()
        assert {s.owner_id for s in steps} == {"lado-2"}
        assert session.exec(select(Action.owner_id)).all() == ["lado-2"]
        assert session.exec(select(Case.lead_id)).all() == ["lado-2"]
        assert sorted(session.exec(select(CaseParty.staff_id)).all()) == ["lado-2", "ssw-1"]
        left = session.get(Staff, "lado-1")
        assert left is not None and not left.active and str(left.left_on) == "2026-11-20"
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "staff.leave")).all()
        assert entry.detail["successor"] == "lado-2" and entry.detail["cases_led"] == [case]
    refused(run("staff", "leave", "lado-1", "--on", "2026-11-20"), "already left")
    shown = run("staff", "show", "lado-1")
    assert "(left 2026-11-20)" in shown.out


def test_someone_who_has_left_can_do_nothing(
    run: Run, case: str, engine: Engine, tmp_path: Path
) -> None:
    assert (
        run("staff", "leave", "lado-1", "--on", "2026-11-20", "--reassign-to", "lado-2").code == 0
    )
    gone = "lado-1 left on 20 November 2026: someone who has left can do nothing"
    review = tmp_path / "review.json"
    review.write_text('{"held_on": "2026-11-12", "attendees": ["lado"], "accounted": []}')
    start = tmp_path / "start.json"
    start.write_text(
        '{"received_at": "2026-11-02T09:00", "aware_on": "2026-11-02", "carer": "FC-1",'
        ' "fostering_service": "S", "supervising_social_worker": "ssw-1", "children": [{"child": "C-2", "iro": "iro-1",'
        ' "social_worker": "sw-1"}], "category": "physical", "summary": "s"}'
    )
    attempts = {
        "start": ("start", "allegation", "--as", "lado-1", "--input", str(start)),
        "record": ("record", case, "review_meeting", "--as", "lado-1", "--input", str(review)),
        "rationale": ("rationale", "1", "--text", "why", "--as", "lado-1"),
        "action": ("action", "update", "1", "--status", "done", "--as", "lado-1"),
        "ack": ("ack", "1", "--as", "lado-1"),
        "stop as recorder": (
            "clock", "stop", case, "outcome", "--reason", "police", "--approver", "ladom-1",
            "--as", "lado-1",
        ),
    }  # fmt: skip
    with Session(engine) as session:
        before = session.exec(select(AuditEntry.id)).all()
    for what, args in attempts.items():
        result = run(*args)
        assert result.code == 2 and gone in result.err, (what, result.err)
    with Session(engine) as session:
        assert session.exec(select(AuditEntry.id)).all() == before  # nothing changed

    # Nor can they approve, or be named: as a child's IRO, an action's owner.
    assert run("staff", "leave", "ladom-1", "--on", "2026-11-20").code == 0  # no open work
    refused(
        run("clock", "stop", case, "outcome", "--reason", "police", "--approver", "ladom-1",
            "--as", "lado-2"),
        "ladom-1 left on 20 November 2026",
    )  # fmt: skip
    meeting = tmp_path / "meeting.json"
    meeting.write_text(
        '{"held_on": "2026-11-12", "attendees": ["lado"], "accounted": [{"action_id": 1,'
        ' "status": "done"}], "actions": [{"title": "x", "owner": "lado-1", "due": 2}]}'
    )
    refused(
        run("record", case, "review_meeting", "--as", "lado-2", "--input", str(meeting)),
        "actions.0.owner: lado-1 left on 20 November 2026",
    )

"""The escalation engine end to end on SQLite and PostgreSQL, with a real SMTP server (aiosmtpd)
receiving every notice through Apprise. The clock is injected: each sweep runs "as at" a moment,
nothing sleeps.

The time-travel test takes one allegation case through a lapsed initial consideration and its ladder,
a decision recorded without rationale (and the rationale given late), an overdue action climbing the
line-management chain, an unacknowledged notice going up, and a police stop of the outcome clock
with its review and resume.
"""

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import casework, clocks
from models.db import session_scope
from models.errors import InputError
from models.escalation import Kind
from models.policy import load_policy
from models.staff import add_staff
from models.tables import AuditEntry, ClockStop, Notice, NoticeDelivery, Step
from notifications import outbox
from tests.builders import accept_any_address, person
from tests.smtp import SmtpServer

POLICY = load_policy()
CALENDAR = POLICY.working_calendar()
LONDON = ZoneInfo("Europe/London")
RECEIVED = datetime(2026, 11, 2, 9, 15, tzinfo=LONDON)  # Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


TEAM = [
    ("hos-1", ("head_of_service",), None),
    ("ladom-1", ("lado_manager",), "hos-1"),
    ("lado-1", ("lado",), "ladom-1"),
    ("lado-2", ("lado",), "ladom-1"),
    ("irom-1", ("iro_manager",), "hos-1"),
    ("iro-1", ("iro",), "irom-1"),
    ("sm-1", ("service_manager",), "hos-1"),
    ("tm-1", ("team_manager",), "sm-1"),
    ("sw-1", ("social_worker",), "tm-1"),
]


def add_team(engine: Engine, smtp: SmtpServer) -> None:
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=RECEIVED,
            people=[
                person(
                    sid,
                    *roles,
                    manager=manager,
                    addresses=[smtp.url(sid)],
                    name=f"Staff {sid}",
                )
                for sid, roles, manager in TEAM
            ],
        )


CHILD_NAME = "Zebedee Quartermain"
CARER_NAME = "Ophelia Brackenridge"
NARRATIVE = "bruise on the forearm after the trip to Llandudno"


def start_case(engine: Engine) -> str:
    with session_scope(engine) as session:
        case = casework.start_allegation(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            new=casework.NewAllegation(
                lado_id="lado-1",
                received_at=RECEIVED,
                aware_on=date(2026, 11, 2),
                carer_ref=f"FC-77 {CARER_NAME}",
                fostering_service="Northshire Fostering",
                children=[casework.ChildInCase(f"C-9 {CHILD_NAME}", "iro-1", "sw-1")],
                category="physical",
                summary=f"{CHILD_NAME} said {CARER_NAME} caused a {NARRATIVE}.",
            ),
            now=RECEIVED,
        )
        casework.open_step(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case.id or 0,
            name="initial_consideration",
        )
        return case.reference


def record(
    engine: Engine, ref: str, step: str, payload: dict, when: datetime, sequence: int = 1
) -> None:  # type: ignore[type-arg]
    with session_scope(engine) as session:
        casework.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            author_id="lado-1",
            payload=payload,
            at=when,
            key=None,
            now=when,
        )
    with session_scope(engine) as session:
        case_id = casework.get_case(session, ref).id or 0
        casework.apply(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case_id,
            name=step,
            sequence=sequence,
            now=when,
        )


def open_step(engine: Engine, ref: str, name: str, sequence: int = 1) -> None:
    with session_scope(engine) as session:
        casework.open_step(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=casework.get_case(session, ref).id or 0,
            name=name,
            sequence=sequence,
        )


def sweep(engine: Engine, when: datetime) -> outbox.SweepReport:
    return outbox.sweep(engine, policy=POLICY, calendar=CALENDAR, now=when)


class Inbox:
    """What the SMTP server received since the last look: (recipient, kind-of-subject) pairs."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp, self.seen = smtp, 0

    def new(self) -> list[tuple[str, str]]:
        fresh = self.smtp.received[self.seen :]
        self.seen = len(self.smtp.received)
        return sorted((m.to[0].split("@")[0], m.subject.split(":")[0]) for m in fresh)


def notice_id(engine: Engine, kind: str, to: str) -> int:
    with Session(engine) as session:
        ids = session.exec(
            select(Notice.id)
            .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)  # type: ignore[arg-type]
            .where(Notice.kind == kind, NoticeDelivery.staff_id == to)
            .order_by(Notice.id.desc())  # type: ignore[union-attr]
        ).all()
    assert ids, f"no {kind} notice to {to}"
    return ids[0] or 0


def test_one_case_through_its_escalations(engine: Engine, smtp: SmtpServer) -> None:
    add_team(engine, smtp)
    ref = start_case(engine)
    inbox = Inbox(smtp)

    # Tue 3 Nov: the initial consideration is due today; nothing is late, it has no reminder.
    assert sweep(engine, at("2026-11-03T12:00")).written == []
    assert inbox.new() == sorted([])

    # Wed 4 Nov: lapsed. Rung 1 to the owner and the LADO manager; a second sweep sends nothing.
    sweep(engine, at("2026-11-04T09:00"))
    assert inbox.new() == sorted([("ladom-1", "LATE (rung 1)"), ("lado-1", "LATE (rung 1)")])
    report = sweep(engine, at("2026-11-04T09:20"))
    assert (report.written, report.already_written, inbox.new()) == ([], 1, [])

    # Thu 5 Nov: rung 2 (1 working day after lapse) to the head of service.
    sweep(engine, at("2026-11-05T09:00"))
    assert inbox.new() == sorted([("hos-1", "LATE (rung 2)")])
    # The LADO acknowledges rung 1: it will not go up for being unacknowledged.
    with session_scope(engine) as session:
        outbox.acknowledge(
            session,
            notice_id=notice_id(engine, "lapsed", "lado-1"),
            staff_id="lado-1",
            now=at("2026-11-05T09:05"),
        )

    # The decision is recorded late and without its rationale; the meeting step opens.
    record(
        engine,
        ref,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-05T10:00"),
    )
    open_step(engine, ref, "allegation_meeting")
    sweep(engine, at("2026-11-05T10:30"))
    assert inbox.new() == sorted(
        [
            ("iro-1", "Decision without rationale"),  # the child's IRO, at once
            ("ladom-1", "Decision without rationale"),  # the decision-maker's line manager
            ("lado-1", "Reminder"),  # the meeting is due Mon 9 Nov: 2 working days' reminder
        ]
    )

    # Mon 9 Nov: the rationale clock lapsed at the end of Fri 6 Nov: rung 1 (owner, manager, IRO).
    # The meeting is held today, agreeing an action for the social worker due in 2 working days.
    sweep(engine, at("2026-11-09T09:00"))
    assert inbox.new() == sorted(
        [
            ("iro-1", "Rationale LATE (rung 1)"),
            ("ladom-1", "Rationale LATE (rung 1)"),
            ("lado-1", "Rationale LATE (rung 1)"),
        ]
    )
    record(
        engine,
        ref,
        "allegation_meeting",
        {
            "held_on": "2026-11-09",
            "attendees": ["lado", "social worker", "police"],
            "actions": [{"title": f"Visit {CHILD_NAME}", "owner": "sw-1", "due": 2}],
        },
        at("2026-11-09T15:00"),
    )
    open_step(engine, ref, "outcome")

    # Tue 10 Nov 09:00: nobody acknowledged "decision without rationale" (due by the end of Mon 9
    # Nov) and it is still missing: it goes to the managers of those told (LADO manager → head of
    # service; IRO → IRO manager). Rationale rung 2 (2 working days) is not due until Wed.
    sweep(engine, at("2026-11-10T09:00"))
    assert inbox.new() == sorted([("hos-1", "Not acknowledged"), ("irom-1", "Not acknowledged")])
    # The rationale arrives late, at 11:00: no further rationale notices, no further escalation.
    with session_scope(engine) as session:
        decision_id = casework.case_view(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            now=at("2026-11-10T11:00"),
        )["decisions"][0]["id"]
        casework.add_rationale(
            session=session,
            decision_id=decision_id,
            text="Harm limb met: injury reported.",
            author_id="lado-1",
            now=at("2026-11-10T11:00"),
        )
    sweep(engine, at("2026-11-11T09:00"))
    assert inbox.new() == sorted([])

    # Thu 12 Nov: the action (due Wed 11 Nov) is overdue: its owner and the case lead.
    sweep(engine, at("2026-11-12T09:00"))
    assert inbox.new() == sorted(
        [("lado-1", "Action 1 overdue (rung 1)"), ("sw-1", "Action 1 overdue (rung 1)")]
    )
    # Mon 16 Nov: 2 working days after: the owner's line manager.
    sweep(engine, at("2026-11-16T09:00"))
    assert ("tm-1", "Action 1 overdue (rung 2)") in inbox.new()

    # Tue 17 Nov: the police investigate: the outcome clock (due Wed 2 Dec) stops. A LADO is too
    # junior to approve it: refused, nothing changed.
    with (
        pytest.raises(InputError, match=r"lado-2 .* too junior .* lado_manager or more senior"),
        session_scope(engine) as session,
    ):
        clocks.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            reason="police investigation",
            approver_id="lado-2",
            recorded_by="lado-1",
            now=at("2026-11-17T10:00"),
        )
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ClockStop)).one() == 0
    with session_scope(engine) as session:
        clocks.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            reason="police investigation (Op. Heron)",
            approver_id="ladom-1",
            recorded_by="lado-1",
            now=at("2026-11-17T10:00"),
        )
    # Fri 20 Nov: action rung 3 (5 working days) to the senior manager and the LADO manager; and
    # nobody acknowledged rungs 1 and 2 (due by the end of Mon 16 and Wed 18 Nov): each goes to the
    # managers of those it went to (lado-1 → ladom-1, sw-1 → tm-1; tm-1 → sm-1).
    sweep(engine, at("2026-11-20T09:00"))
    assert inbox.new() == sorted(
        [
            ("ladom-1", "Action 1 overdue (rung 3)"),
            ("sm-1", "Action 1 overdue (rung 3)"),
            ("ladom-1", "Not acknowledged"),
            ("tm-1", "Not acknowledged"),
            ("sm-1", "Not acknowledged"),
        ]
    )
    with session_scope(engine) as session:
        casework.update_action(
            session=session,
            calendar=CALENDAR,
            action_id=1,
            status="done",
            reason=None,
            new_due=None,
            author_id="sw-1",
            now=at("2026-11-20T10:00"),
        )

    # Thu 3 Dec: past the outcome's due day, but its clock is stopped: no lapse, no reminder.
    sweep(engine, at("2026-12-03T09:00"))
    assert inbox.new() == sorted([])
    # Wed 16 Dec: the first review (4 weeks from Tue 17 Nov: Tue 15 Dec) has passed.
    sweep(engine, at("2026-12-16T09:00"))
    assert inbox.new() == sorted(
        [
            ("ladom-1", "Stopped clock review 1 due"),
            ("lado-1", "Stopped clock review 1 due"),
        ]
    )

    # Mon 4 Jan 2027: the police finish; the clock runs again, its due day moved on by the working
    # days it stood still (after Tue 17 Nov up to Mon 4 Jan: 31, bank holidays excluded).
    with session_scope(engine) as session:
        resumed = clocks.resume(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            recorded_by="lado-1",
            now=at("2027-01-04T09:00"),
        )
        assert resumed.working_days_stopped == 31
        assert resumed.due_on_after == date(2027, 1, 19)
    sweep(engine, at("2027-01-11T09:00"))
    assert inbox.new() == []
    sweep(engine, at("2027-01-12T09:00"))  # 5 working days before Tue 19 Jan: the reminder
    assert inbox.new() == sorted([("lado-1", "Reminder")])
    sweep(engine, at("2027-01-20T09:00"))  # lapsed on the moved due day: a fresh ladder
    assert inbox.new() == sorted([("ladom-1", "LATE (rung 1)"), ("lado-1", "LATE (rung 1)")])

    # Every kind of notice was rendered and sent in this case.
    with Session(engine) as session:
        kinds = set(session.exec(select(Notice.kind)).all())
    assert kinds == {k.value for k in Kind}
    # Every message went once: no (recipient, subject) twice.
    pairs = [(m.to, m.subject) for m in smtp.received]
    assert len(pairs) == len(set(pairs))
    # No name, no narrative in any notice, in the outbox or in the mail.
    for mail in smtp.received:
        for secret in (CHILD_NAME, CARER_NAME, NARRATIVE, "Zebedee", "Brackenridge", "FC-77"):
            assert (
                secret not in mail.text and secret not in mail.html and secret not in mail.subject
            )
    with Session(engine) as session:
        stops = session.exec(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(["clock.stop", "clock.resume", "notice.acknowledge"]))
        ).one()  # type: ignore[attr-defined]
        assert stops == 3
        step = session.exec(select(Step).where(Step.name == "outcome")).one()
        assert step.due_on == date(2027, 1, 19)

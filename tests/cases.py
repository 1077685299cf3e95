"""An allegation case to escalate: a team with mail addresses on a test SMTP server, a case full of
names and narrative (which no notice may carry), and helpers to record steps and sweep as at a moment.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import cases, departures, steps, views
from models.db import session_scope
from models.policy import load_policy
from models.staff import add_staff
from models.tables import Notice, NoticeDelivery
from notifications import sweep as outbox_sweep
from tests.builders import accept_any_address, person
from tests.smtp import SmtpServer

POLICY = load_policy()
CALENDAR = POLICY.working_calendar()
LONDON = ZoneInfo("Europe/London")
RECEIVED = datetime(2026, 11, 2, 9, 15, tzinfo=LONDON)  # Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


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
    ("ssw-1", ("supervising_social_worker",), "tm-1"),
    ("adm-1", ("agency_decision_maker",), "hos-1"),  # the fostering service's decision maker
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


def start_case(engine: Engine, **changes: Any) -> str:
    """Start the allegation (its start input changed by `changes`); open its first step."""
    with session_scope(engine) as session:
        case = cases.start_case(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            process="allegation",
            author_id="lado-1",
            payload={
                "received_at": RECEIVED.isoformat(),
                "aware_on": "2026-11-02",
                "carer": f"FC-77 {CARER_NAME}",
                "fostering_service": "Northshire Fostering",
                "supervising_social_worker": "ssw-1",
                "children": [
                    {"child": f"C-9 {CHILD_NAME}", "iro": "iro-1", "social_worker": "sw-1"}
                ],
                "category": "physical",
                "summary": f"{CHILD_NAME} said {CARER_NAME} caused a {NARRATIVE}.",
                **changes,
            },
            now=RECEIVED,
        )
        steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case.id or 0,
            names=["initial_consideration"],
        )
        return case.reference


def record(
    engine: Engine,
    ref: str,
    step: str,
    payload: dict,  # type: ignore[type-arg]
    when: datetime,
    sequence: int = 1,
    author: str = "lado-1",
    late_reason: str | None = None,
) -> None:
    """Store a record as `safeguard record --at` does, and apply it as the flow would."""
    submit_as(engine, ref, step, payload, author, when, at=when, late_reason=late_reason)
    with session_scope(engine) as session:
        case_id = cases.get_case(session, ref).id or 0
        steps.apply(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case_id,
            name=step,
            sequence=sequence,
            now=when,
        )


def open_step(
    engine: Engine, ref: str, name: str, sequence: int = 1, now: datetime | None = None
) -> None:
    """Open a step as the flow does (`now`: when the flow opens it; a review agreed for a later
    day opens then, not on that day)."""
    with session_scope(engine) as session:
        steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=[name],
            sequence=sequence,
            now=now,
        )


def sweep(engine: Engine, when: datetime) -> outbox_sweep.SweepReport:
    return outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=when)


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


# --- any process, through the engine's services as a flow drives them --------------------------------


def start_as(
    engine: Engine, process: str, author: str, payload: dict[str, Any], now: datetime
) -> str:
    """Start a case of `process`; return its reference."""
    with session_scope(engine) as session:
        return cases.start_case(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            process=process,
            author_id=author,
            payload=payload,
            now=now,
        ).reference


def advance_case(
    engine: Engine, ref: str, names: list[str], now: datetime, sequence: int = 1
) -> steps.Progress:
    """What the flow's `phase` does: open the steps (once), apply what is recorded (once)."""
    with session_scope(engine) as session:
        return steps.advance(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=names,
            sequence=sequence,
            key=steps.wait_key(names[0], sequence),
            now=now,
        )


def submit_as(
    engine: Engine,
    ref: str,
    step: str,
    payload: dict[str, Any],
    who: str,
    now: datetime,
    at: datetime | None = None,
    late_reason: str | None = None,
) -> None:
    """What `safeguard record` stores (the flow applies it at its next `advance_case`)."""
    with session_scope(engine) as session:
        steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            author_id=who,
            payload=payload,
            at=at,
            key=None,
            now=now,
            late_reason=late_reason,
        )


def view_at(engine: Engine, ref: str, now: datetime) -> dict[str, Any]:
    """The case as `case show --json` gives it, as at `now`."""
    with Session(engine) as session:
        return views.case_view(
            session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=now
        )


def stop_clock(
    engine: Engine,
    ref: str,
    step: str,
    approver: str,
    now: datetime,
    reason: str = "police investigation",
    by: str = "lado-1",
) -> None:
    """`safeguard clock stop`: the step's clock stopped with a reason and an approver."""
    with session_scope(engine) as session:
        departures.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            reason=reason,
            approver_id=approver,
            recorded_by=by,
            now=now,
        )

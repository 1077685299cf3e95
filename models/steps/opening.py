"""Opening steps' clocks (the flow's side): each counts from its own event, due by its policy,
owned by the case's one person in the owner's role, and opened once (idempotent by case, step and
sequence). Several opened together (a phase) share the flow's suspend key."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from models import audit
from models.calendar import WorkingCalendar
from models.cases import (
    case_by_id,
    parties_of,
)
from models.durations import WorkingDays
from models.enums import StepStatus
from models.policy import Policy
from models.steps.keys import wait_key
from models.steps.queries import find_step
from models.tables import (
    CaseEvent,
    Step,
)


def open_steps(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    names: Sequence[str],
    sequence: int = 1,
    key: str | None = None,
    now: datetime | None = None,
) -> list[Step]:
    """Open these steps' clocks together (idempotent by case, step and sequence); each counts from
    its own event. The flow waits for them under `key` (default: the first step's own key).

    A step whose event is still to come (a planned ending's day) opens `now`, when the flow opens
    it, and is due from the event: it cannot open in the future."""
    key = key or wait_key(names[0], sequence)
    case = case_by_id(session, case_id)
    parties = parties_of(session, [case_id])[case_id]
    opened = []
    for name in names:
        existing = find_step(session, case_id, name, sequence)
        if existing is not None:
            if existing.status is not StepStatus.closed and existing.wait_key != key:
                existing.wait_key = key  # the flow now waits for it elsewhere (e.g. in a phase)
                session.add(existing)
            opened.append(existing)
            continue
        rule = policy.process(case.process).step(name)
        event = latest_event(session, case_id, rule.counts_from)
        if event is None:
            raise RuntimeError(
                f"{case.reference}: cannot open {name}: no {rule.counts_from} event yet"
            )
        due = rule.clock_calendar(calendar).due(event.at, rule.due)
        agreed = _agreed(session, case_id, rule.agreed_by, event.sequence)
        if agreed is not None and calendar.local_date(agreed.at) < due.due:
            due = rule.clock_calendar(calendar).due(agreed.at, WorkingDays(0))
        step = Step(
            case_id=case_id,
            name=name,
            sequence=sequence,
            owner_id=parties.only(rule.owner),  # the case's one person in the owner's role
            opened_at=min(event.at, now) if now is not None else event.at,
            due_on=due.due,
            deadline_at=due.deadline,
            wait_key=key,
        )
        session.add(step)
        session.flush()
        audit.record(
            session,
            at=step.opened_at,
            action="step.open",
            case_id=case_id,
            entity="step",
            entity_id=str(step.id),
            detail={"step": name, "sequence": sequence, "due": due.due.isoformat()},
        )
        opened.append(step)
    return opened


def latest_event(session: Session, case_id: int, name: str) -> CaseEvent | None:
    """Return the latest event of that name in the case (what a step's clock counts from)."""
    return session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.name == name)
        .order_by(col(CaseEvent.sequence).desc())
    ).first()


def _agreed(session: Session, case_id: int, name: str | None, sequence: int) -> CaseEvent | None:
    """Return the event naming the day agreed for a step (e.g. the next review), if any."""
    if name is None:
        return None
    return session.exec(
        select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.name == name, CaseEvent.sequence == sequence
        )
    ).first()


def latest_agreed(
    policy: Policy, calendar: WorkingCalendar, process: str, step: str, after: date
) -> date | None:
    rule = policy.process(process).step(step)
    if rule.agreed_by is None:
        return None
    return rule.clock_calendar(calendar).due(after, rule.due).due


def open_alongside(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    names: Sequence[str],
    now: datetime | None = None,
) -> list[Step]:
    """Open steps that run alongside the flow (each with its own clock, owner and ladder): they are
    applied whenever recorded, and waited for only where the flow asks (a later phase)."""
    return [
        step
        for name in names
        for step in open_steps(
            session=session,
            policy=policy,
            calendar=calendar,
            case_id=case_id,
            names=[name],
            now=now,
        )
    ]

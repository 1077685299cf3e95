"""A case's record: looking it up, what it keeps (its details, as its start and steps kept them),
its links to other cases, events recorded as they come, its flow run, and closing it."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from models import audit, registry
from models.calendar import WorkingCalendar, add_months
from models.enums import CaseStatus, StepStatus
from models.errors import InputError
from models.permissions import require_role
from models.policy import Policy, RetentionPolicy
from models.process import upgraded
from models.tables import Case, CaseEvent, CaseLink, Step


def link_cases(
    session: Session, case_id: int, reference: str, why: str, process: str | None = None
) -> None:
    """Link a case to another by its reference (shown on both); `process`, when given, is what the
    other case must be. Linking twice changes nothing."""
    other = session.exec(select(Case).where(Case.reference == reference)).first()
    if other is None:
        raise InputError(f"no case {reference!r} to link to; check the reference")
    if process is not None and other.process != process:
        raise InputError(f"{reference} is a case of {other.process}, not of {process}")
    if other.id == case_id:
        raise InputError(f"{reference} is this case: link it to another")
    exists = session.exec(
        select(CaseLink).where(CaseLink.case_id == case_id, CaseLink.linked_case_id == other.id)
    ).first()
    if exists is None:
        session.add(CaseLink(case_id=case_id, linked_case_id=other.id or 0, why=why[:200]))


def unlaunched(session: Session, case_id: int) -> list[Case]:
    """Return the open cases started from this one (linked back to it) that have no flow run yet."""
    return list(
        session.exec(
            select(Case)
            .join(CaseLink, col(CaseLink.case_id) == Case.id)
            .where(
                CaseLink.linked_case_id == case_id,
                col(Case.flow_run_id).is_(None),
                Case.status == CaseStatus.open,
            )
            .order_by(col(Case.id))
        ).all()
    )


def record_case_event(
    *,
    session: Session,
    calendar: WorkingCalendar,
    reference: str,
    name: str,
    on: date,
    author_id: str,
    now: datetime,
) -> list[tuple[str, date]]:
    """Record an event of an open case as it comes (e.g. the carer's resignation), with the events
    that follow from it; return them all (name, day). Once per case: a second is refused."""
    case = get_case(session, reference)
    decl = registry.get(case.process)
    event = decl.case_event(name)
    if case.status is not CaseStatus.open:
        raise InputError(f"{reference} is closed; nothing more can be recorded")
    require_role(session, author_id, event.may_record, f"record {event.what} in {reference}")
    today, opened = calendar.local_date(now), calendar.local_date(case.opened_at)
    if on > today:
        raise InputError(
            f"{event.what} on {on:%-d %B %Y}: that day is in the future; give the day it happened"
        )
    details = details_of(case)
    if details.get(event.kept_as):
        raise InputError(
            f"{reference}: {event.what} is already recorded "
            f"({date.fromisoformat(details[event.kept_as]):%-d %B %Y}); it is recorded once"
        )
    written = [(name, on)] + [
        (then, on + timedelta(days=days)) for then, days in event.then.items()
    ]
    for what, day in written:
        session.add(CaseEvent(case_id=case.id or 0, name=what, at=calendar.start_of_day(day)))
    keep_details(session, case.id or 0, {event.kept_as: on.isoformat()}, at=now, actor=author_id)
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="case.event",
        case_id=case.id,
        entity="case",
        entity_id=reference,
        detail={"event": name, "before_opened": on < opened},
    )
    return written


def keep_details(
    session: Session, case_id: int, details: dict[str, Any], *, at: datetime, actor: str | None
) -> None:
    """Add to what the case keeps (e.g. how a placement at risk came to end), as its start would
    have; the audit log names the fields changed, not their values."""
    case = case_by_id(session, case_id)
    case.details = {**case.details, **details}
    session.add(case)
    audit.record(
        session,
        at=at,
        actor_id=actor,
        action="case.details",
        case_id=case_id,
        entity="case",
        entity_id=case.reference,
        detail={"fields": sorted(details)},
    )


def links_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Return the cases linked to this one, either way: reference, process, why."""
    rows = session.exec(
        select(CaseLink).where(
            (col(CaseLink.case_id) == case_id) | (col(CaseLink.linked_case_id) == case_id)
        )
    ).all()
    others = {
        c.id: c
        for c in session.exec(
            select(Case).where(
                col(Case.id).in_(
                    [r.linked_case_id if r.case_id == case_id else r.case_id for r in rows]
                )
            )
        ).all()
    }
    return [
        {
            "reference": others[r.linked_case_id if r.case_id == case_id else r.case_id].reference,
            "process": others[r.linked_case_id if r.case_id == case_id else r.case_id].process,
            "why": r.why,
        }
        for r in rows
    ]


def details_of(case: Case) -> dict[str, Any]:
    """Return what the case's start kept, as the declaration's current version reads it."""
    decl = registry.get(case.process)
    return upgraded(case.details, case.details_version, decl.start_version, decl.start_upgrades)


def set_flow_run(*, session: Session, case_id: int, flow_run_id: str, now: datetime) -> None:
    """Record the flow run that carries the case."""
    case = case_by_id(session, case_id)
    case.flow_run_id = flow_run_id
    session.add(case)
    audit.record(
        session,
        at=now,
        action="case.flow_run",
        case_id=case_id,
        entity="case",
        entity_id=case.reference,
        detail={"flow_run_id": flow_run_id},
    )


def get_case(session: Session, reference: str) -> Case:
    """Return a case by its reference, or raise InputError."""
    case = session.exec(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise InputError(f"no case {reference!r}; see 'safeguard status' for open cases")
    return case


def case_by_id(session: Session, case_id: int) -> Case:
    """Return a case by id (the flow's side: the id comes from our own flow run)."""
    case = session.get(Case, case_id)
    if case is None:
        raise RuntimeError(f"case id {case_id} does not exist")
    return case


def retain_until(case: Case, rule: RetentionPolicy, calendar: WorkingCalendar) -> date:
    """The later of `years` from the case's start and, where the rule says so and the start gave
    it, the day the case asks its record be kept until (e.g. the carer's pension age)."""
    until = add_months(calendar.local_date(case.opened_at), 12 * rule.years)
    asked = case.details.get("retain_at_least_until")
    if rule.or_until_pension_age and asked:
        until = max(until, date.fromisoformat(asked))
    return until


def close_case(
    *,
    session: Session,
    case_id: int,
    now: datetime,
    policy: Policy | None = None,
    calendar: WorkingCalendar | None = None,
) -> None:
    """Close the case (idempotent); its closing time is its last step's. Where its process keeps
    records for a set time, the day it is kept until is recorded too."""
    case = case_by_id(session, case_id)
    if case.status is CaseStatus.closed:
        return
    last = session.exec(select(func.max(Step.closed_at)).where(Step.case_id == case_id)).one()
    case.status, case.closed_at = CaseStatus.closed, last or now
    if policy is not None:  # a step recorded only if it happens, and it did not: not needed now
        rules = policy.processes[case.process].steps
        for step in session.exec(
            select(Step).where(Step.case_id == case_id, Step.status == StepStatus.open)
        ).all():
            if step.name in rules and rules[step.name].unscheduled:
                step.status, step.closed_at = StepStatus.ended, case.closed_at
                session.add(step)
    rule = policy.processes[case.process].retention if policy else None
    if rule is not None and calendar is not None:
        case.retain_until = retain_until(case, rule, calendar)
    session.add(case)
    audit.record(
        session,
        at=now,
        action="case.close",
        case_id=case_id,
        entity="case",
        entity_id=case.reference,
        detail={"retain_until": case.retain_until.isoformat()} if case.retain_until else None,
    )

"""Cases: the one start service for every process, references, parties, and closing.

`start_case` reads the process's declaration from the registry: it checks who starts it and the
start input (each field's own rules), asks the declaration what the case keeps (`StartPlan`), and
writes the case, its children, parties, events and measured steps in the session's transaction.
It creates no flow run: the caller does, once the case is stored (safeguard/orchestration.py).
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import audit, registry
from models.calendar import WorkingCalendar, add_months
from models.enums import CaseStatus, Role, StepStatus
from models.errors import InputError
from models.escalation import CaseParties
from models.inputs import parse
from models.permissions import DirectoryContext, require_role
from models.policy import Policy, RetentionPolicy
from models.process import EarlierCase, StartPlan, upgraded
from models.tables import Case, CaseChild, CaseEvent, CaseLink, CaseParty, Step


def start_case(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    process: str,
    author_id: str,
    payload: Any,
    now: datetime,
) -> Case:
    """Check and store a new case of `process`; return it (no flow run yet). Nothing is stored
    unless everything holds."""
    decl = registry.get(process)
    require_role(session, author_id, decl.may_start, f"start {decl.noun} case")
    context = DirectoryContext(session, calendar, policy.actions.due_within, now=now, effective=now)
    data = parse(
        decl.start_input,
        payload,
        what=f"{decl.code} start",
        example=decl.start_example,
        context=context,
    )
    plan = StartPlan(
        author=author_id,
        tz=calendar.tz,
        opened_at=now,
        history=lambda: _earlier(session, decl.code),
    )
    decl.start(plan, data)
    lead = plan.lead or author_id
    require_role(session, lead, {decl.lead_role}, f"lead {decl.noun} case")
    refs = [child[0] for child in plan.children]
    if len(set(refs)) != len(refs):
        raise InputError("a child is listed twice")

    rules = policy.process(decl.code)
    case = _insert_case(
        session,
        f"{rules.reference_prefix}-{plan.opened_at.year}-",
        lambda reference: Case(
            reference=reference,
            process=decl.code,
            opened_at=plan.opened_at,
            opened_by=author_id,
            lead_id=lead,
            details=plan.details,
            details_version=decl.start_version,
        ),
    )
    assert case.id is not None
    session.add_all(
        CaseChild(
            case_id=case.id,
            child_ref=ref,
            iro_id=iro,
            social_worker_id=sw,
            placed_by=placed_by,
            contact=contact,
        )
        for ref, iro, sw, placed_by, contact in plan.children
    )
    for reference, why, kind in plan.links:
        link_cases(session, case.id, reference, why, kind)
    named = dict.fromkeys([(decl.lead_role, lead), *plan.parties])
    session.add_all(CaseParty(case_id=case.id, role=role, staff_id=who) for role, who in named)
    for name, at in plan.events:
        session.add(CaseEvent(case_id=case.id, name=name, at=at))
    session.flush()
    for name, done_at in plan.measured:
        # Measured, not waited for: recorded in time or late as the case starts.
        rule = rules.step(name)
        opened = _event_at(plan, rule.counts_from)
        due = rule.clock_calendar(calendar).due(opened, rule.due)
        session.add(
            Step(
                case_id=case.id,
                name=name,
                owner_id=None,
                status=StepStatus.closed,
                opened_at=opened,
                due_on=due.due,
                deadline_at=due.deadline,
                closed_at=done_at,
            )
        )
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="case.start",
        case_id=case.id,
        entity="case",
        entity_id=case.reference,
        detail={"process": decl.code, "children": len(plan.children)},
    )
    session.flush()
    return case


def _earlier(session: Session, process: str) -> list[EarlierCase]:
    """The process's cases so far, as a new case's start sees them (its details, as kept)."""
    return [
        EarlierCase(c.reference, c.opened_at, details_of(c))
        for c in session.exec(
            select(Case).where(Case.process == process).order_by(col(Case.id))
        ).all()
    ]


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


def child_of(session: Session, case_id: int, ref: str) -> dict[str, str] | None:
    """Return a child of the case as a start input names one (child, iro, social_worker, or
    placed_by and contact), or None if the case has no such child."""
    found = session.exec(
        select(CaseChild).where(CaseChild.case_id == case_id, CaseChild.child_ref == ref)
    ).first()
    if found is None:
        return None
    named = {
        "child": found.child_ref,
        "iro": found.iro_id,
        "social_worker": found.social_worker_id,
        "placed_by": found.placed_by,
        "contact": found.contact,
    }
    return {k: v for k, v in named.items() if v is not None}


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
    require_role(session, author_id, event.may_record, f"record {name} in {reference}")
    today, opened = calendar.local_date(now), calendar.local_date(case.opened_at)
    if on > today:
        raise InputError(
            f"{event.what} on {on}: that day is in the future; give the day it happened"
        )
    details = details_of(case)
    if details.get(event.kept_as):
        raise InputError(
            f"{reference}: {event.what} is already recorded ({details[event.kept_as]}); it is "
            "recorded once"
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


def _event_at(plan: StartPlan, name: str) -> datetime:
    for event, at in plan.events:
        if event == name:
            return at
    raise RuntimeError(f"a measured step counts from {name!r}, which the start did not record")


REFERENCE_ATTEMPTS = 20


def _insert_case(session: Session, stem: str, build: Callable[[str], Case]) -> Case:
    """Insert the case under the next free reference of its stem (PREFIX-YYYY-), NNNN counting up.

    Two cases started at once may both see the same next number; the reference is unique in the
    database, so the second insert fails and takes the number after (inside a savepoint: the rest
    of the transaction stands).
    """
    count = session.exec(
        select(func.count()).select_from(Case).where(col(Case.reference).startswith(stem))
    ).one()
    for number in range(count + 1, count + 1 + REFERENCE_ATTEMPTS):
        case = build(f"{stem}{number:04d}")
        try:
            with session.begin_nested():
                session.add(case)
            return case
        except IntegrityError:
            continue  # taken at the same moment: the next number
    raise InputError(
        f"could not find a free {stem} reference: too many cases started at once; try again"
    )


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


def parties_of(session: Session, case_ids: Iterable[int]) -> dict[int, CaseParties]:
    """Return who is who in each case: its lead, each child's IRO and social worker, named parties."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    children: dict[int, list[CaseChild]] = {}
    for child in session.exec(select(CaseChild).where(col(CaseChild.case_id).in_(ids))).all():
        children.setdefault(child.case_id, []).append(child)
    named: dict[int, dict[Role, list[str]]] = {}
    for party in session.exec(
        select(CaseParty).where(col(CaseParty.case_id).in_(ids)).order_by(col(CaseParty.id))
    ).all():
        named.setdefault(party.case_id, {}).setdefault(Role(party.role), []).append(party.staff_id)
    result: dict[int, CaseParties] = {}
    for case_id, lead in session.exec(
        select(Case.id, Case.lead_id).where(col(Case.id).in_(ids))
    ).all():
        kids = children.get(case_id or 0, [])
        result[case_id or 0] = CaseParties(
            lead=lead,
            iros=tuple(dict.fromkeys(c.iro_id for c in kids if c.iro_id)),
            social_workers=tuple(
                dict.fromkeys(c.social_worker_id for c in kids if c.social_worker_id)
            ),
            placed_elsewhere=tuple(
                dict.fromkeys((c.placed_by or "", c.contact or "") for c in kids if not c.iro_id)
            ),
            named={r: tuple(p) for r, p in named.get(case_id or 0, {}).items()},
        )
    return result


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

"""The one start service for every process (DESIGN rule 3): `start_case` reads the process's
declaration from the registry, checks who starts it and the start input (each field's own rules),
asks the declaration what the case keeps (`StartPlan`), and writes the case, its children, parties,
events and measured steps in the session's transaction. It creates no flow run: the caller does,
once the case is stored (safeguard/orchestration.py).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import audit, registry
from models.calendar import WorkingCalendar
from models.cases.record import details_of, link_cases
from models.enums import StepStatus
from models.errors import InputError
from models.inputs import parse
from models.permissions import DirectoryContext, require_role
from models.policy import Policy
from models.process import EarlierCase, StartPlan
from models.tables import Case, CaseChild, CaseEvent, CaseParty, Step


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

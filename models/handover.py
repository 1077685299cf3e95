"""A person leaves: their open work passes to a named successor, and they can do nothing more.

Open work is what would otherwise be owned by nobody: steps they own (open or stopped), actions they
own, cases they lead, and their places in open cases (a named party, a child's IRO or social
worker). Leaving with open work and no successor is refused, naming it; the successor must be in the
directory, not have left, and hold each role the work needs. Every move is in the audit log.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from models import audit, registry
from models.calendar import WorkingCalendar
from models.enums import ActionStatus, CaseStatus, Role, StepStatus
from models.errors import InputError
from models.permissions import acting_roles
from models.policy import Policy
from models.tables import Action, Case, CaseChild, CaseParty, Staff, Step


@dataclass
class Handover:
    """What passed to the successor."""

    staff_id: str
    left_on: date
    successor: str | None
    steps: list[int] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    cases_led: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # "ALG-2026-0001: iro of C-1"
    reports: list[str] = field(default_factory=list)  # who still names them as line manager

    @property
    def work(self) -> int:
        return len(self.steps) + len(self.actions) + len(self.cases_led) + len(self.places)


def leave(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    staff_id: str,
    on: date,
    successor: str | None,
    actor_id: str | None,
    now: datetime,
) -> Handover:
    """Mark a person as left on `on`, passing their open work to `successor`; return what moved."""
    person = session.get(Staff, staff_id)
    if person is None:
        raise InputError(f"no staff member with id {staff_id!r}; see 'safeguard staff list'")
    if not person.active:
        raise InputError(f"{staff_id} already left (on {person.left_on}); nothing changes")
    today = calendar.local_date(now)
    if on > today:
        raise InputError(f"--on {on} is in the future: mark them as left on or after the day")
    if on < calendar.local_date(person.created_at):
        raise InputError(f"--on {on} is before {staff_id} joined the directory")
    if actor_id is not None:
        acting_roles(session, actor_id)

    open_case = select(Case.id).where(Case.status == CaseStatus.open)
    steps = session.exec(
        select(Step, Case)
        .join(Case, col(Case.id) == Step.case_id)
        .where(
            Step.owner_id == staff_id, col(Step.status).in_([StepStatus.open, StepStatus.stopped])
        )
        .where(Case.status == CaseStatus.open)
        .order_by(col(Step.id))
    ).all()
    actions = session.exec(
        select(Action)
        .where(Action.owner_id == staff_id, Action.status == ActionStatus.open)
        .where(col(Action.case_id).in_(open_case))
        .order_by(col(Action.id))
    ).all()
    led = session.exec(
        select(Case).where(Case.lead_id == staff_id, Case.status == CaseStatus.open)
    ).all()
    parties = session.exec(
        select(CaseParty, Case)
        .join(Case, col(Case.id) == CaseParty.case_id)
        .where(CaseParty.staff_id == staff_id, Case.status == CaseStatus.open)
    ).all()
    children = session.exec(
        select(CaseChild, Case)
        .join(Case, col(Case.id) == CaseChild.case_id)
        .where((col(CaseChild.iro_id) == staff_id) | (col(CaseChild.social_worker_id) == staff_id))
        .where(Case.status == CaseStatus.open)
    ).all()

    handover = Handover(staff_id, on, successor)
    handover.steps = [s.id or 0 for s, _ in steps]
    handover.actions = [a.id or 0 for a in actions]
    handover.cases_led = [c.reference for c in led]
    handover.places = [f"{c.reference}: {p.role.value}" for p, c in parties] + [
        f"{c.reference}: {'IRO' if ch.iro_id == staff_id else 'social worker'} of {ch.child_ref}"
        for ch, c in children
    ]
    handover.reports = sorted(
        session.exec(
            select(Staff.id).where(Staff.line_manager_id == staff_id, col(Staff.active))
        ).all()
    )
    if handover.work and successor is None:
        raise InputError(
            f"{staff_id} still has open work ({_summary(handover)}): name who takes it over "
            "with --reassign-to STAFF_ID, or nobody would own it"
        )
    if successor is not None:
        if successor == staff_id:
            raise InputError("--reassign-to names the person who is leaving: name someone else")
        held = acting_roles(session, successor)
        needed = _roles_needed(policy, steps, led, parties, children, staff_id)
        missing = sorted(r.value for r in needed - held)
        if missing:
            raise InputError(
                f"{successor} cannot take over {staff_id}'s work: it needs the role "
                f"{', '.join(missing)} ({successor} has {', '.join(sorted(held)) or 'no role'})"
            )
        _move(session, successor, staff_id, steps, actions, led, parties, children)

    person.active, person.left_on = False, on
    session.add(person)
    audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="staff.leave",
        entity="staff",
        entity_id=staff_id,
        detail={
            "left_on": on.isoformat(),
            "successor": successor,
            "steps": handover.steps,
            "actions": handover.actions,
            "cases_led": handover.cases_led,
            "places": len(handover.places),
        },
    )
    for case_id in sorted({s.case_id for s, _ in steps} | {a.case_id for a in actions}
                          | {c.id or 0 for c in led} | {c.id or 0 for _, c in parties}
                          | {c.id or 0 for _, c in children}):  # fmt: skip
        audit.record(
            session,
            at=now,
            actor_id=actor_id,
            action="case.handover",
            case_id=case_id,
            entity="staff",
            entity_id=staff_id,
            detail={"to": successor, "left_on": on.isoformat()},
        )
    session.flush()
    return handover


def _summary(handover: Handover) -> str:
    parts = [
        (len(handover.steps), "open step(s)"),
        (len(handover.actions), "open action(s)"),
        (len(handover.cases_led), "case(s) they lead"),
        (len(handover.places), "place(s) in open cases"),
    ]
    return ", ".join(f"{n} {what}" for n, what in parts if n)


def _roles_needed(
    policy: Policy,
    steps: Iterable[tuple[Step, Case]],
    led: Iterable[Case],
    parties: Iterable[tuple[CaseParty, Case]],
    children: Iterable[tuple[CaseChild, Case]],
    staff_id: str,
) -> set[Role]:
    needed = {policy.process(c.process).step(s.name).owner for s, c in steps}
    needed |= {registry.get(c.process).lead_role for c in led}
    needed |= {p.role for p, _ in parties}
    for child, _ in children:
        needed.add(Role.iro if child.iro_id == staff_id else Role.social_worker)
    return needed


def _move(
    session: Session,
    successor: str,
    staff_id: str,
    steps: Iterable[tuple[Step, Case]],
    actions: Iterable[Action],
    led: Iterable[Case],
    parties: Iterable[tuple[CaseParty, Case]],
    children: Iterable[tuple[CaseChild, Case]],
) -> None:
    for step, _ in steps:
        step.owner_id = successor
        session.add(step)
    for action in actions:
        action.owner_id = successor
        session.add(action)
    for case in led:
        case.lead_id = successor
        session.add(case)
    for party, _ in parties:
        taken = session.exec(
            select(CaseParty).where(
                CaseParty.case_id == party.case_id,
                CaseParty.role == party.role,
                CaseParty.staff_id == successor,
            )
        ).first()
        if taken is None:
            party.staff_id = successor
            session.add(party)
        else:
            session.delete(party)  # the successor already holds that place in the case
    for child, _ in children:
        if child.iro_id == staff_id:
            child.iro_id = successor
        if child.social_worker_id == staff_id:
            child.social_worker_id = successor
        session.add(child)

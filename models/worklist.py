"""Who has what to do: a person's work, and the managers' board of every open case.

Read in a few set-based queries (never one per case), so the board of a thousand open cases is one
page load; the browser app and the CLI show what these return and decide nothing themselves.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models import registry
from models.calendar import WorkingCalendar
from models.enums import ActionStatus, CaseStatus, Role, StepStatus
from models.errors import InputError
from models.escalation import Kind
from models.flags import flags_for
from models.permissions import may_record
from models.policy import Policy
from models.staff import roles_of
from models.tables import (
    Action,
    Case,
    CaseChild,
    CaseParty,
    Notice,
    NoticeDelivery,
    Staff,
    Step,
)

AMBER_WITHIN = 2  # working days left: due soon
RAG_ORDER = {"red": 0, "amber": 1, "green": 2, "stopped": 3}
ESCALATING = (Kind.lapsed.value, Kind.unacknowledged.value)


@dataclass(frozen=True)
class Row:
    """One open step (or the step a case waits at): when it is due, how late, who it waits on."""

    reference: str
    process: str
    step: str  # "review_meeting 2" for a later round
    title: str
    due: str
    working_days_left: int  # negative when late
    days_late: int  # working days past the due day (0 when not late)
    rag: str  # red (late), amber (due within 2 working days), green, stopped (clock stopped)
    rung: int  # the escalation rung reached (0: none yet)
    waits_on: str  # the person it waits on, or the role when nobody is named
    waits_on_named: bool
    team: str | None  # the line manager of the person it waits on
    restricted: bool = False  # only the people working on it and their managers may open it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rag_of(left: int, stopped: bool) -> str:
    if stopped:
        return "stopped"
    if left < 0:
        return "red"
    return "amber" if left <= AMBER_WITHIN else "green"


def board(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    process: str | None = None,
    person: str | None = None,
    team: str | None = None,
    rag: str | None = None,
    flagged: str | None = None,
) -> list[Row]:
    """Return every open case at the step it waits at most urgently, worst first (late before due
    soon, higher rung first, longest late first). `team` is a manager's id: the cases that wait on
    that manager or on someone they manage; `flagged` ("yes") keeps the cases of children with a
    flag (models/flags.py: e.g. an IRO challenge open for them)."""
    query = (
        sa.select(*_COLUMNS)
        .join(Case, col(Case.id) == Step.case_id)
        .where(
            col(Case.status) == CaseStatus.open,
            col(Step.status).in_([StepStatus.open, StepStatus.stopped]),
        )
        .order_by(col(Step.case_id), col(Step.status), col(Step.deadline_at), col(Step.id))
    )
    if process:
        query = query.where(col(Case.process) == process)
    first: dict[int, _Open] = {}
    for found in session.execute(query).all():
        step = _Open(*found)
        if not _timed(policy, step):
            continue
        kept = first.get(step.case_id)
        if kept is None or (kept.status is StepStatus.stopped and step.status is StepStatus.open):
            first[step.case_id] = step
    if flagged:  # the flagging cases themselves, and every other case of their children
        flags = flags_for(session, first)
        flagging = registry.child_flags()
        first = {
            case_id: step
            for case_id, step in first.items()
            if flags[case_id] or step.process in flagging
        }
    rows = _rows(session, policy, calendar, now, first.values())
    if person:
        rows = [r for r in rows if r.waits_on == person]
    if team:
        rows = [r for r in rows if r.team == team or r.waits_on == team]
    if rag:
        rows = [r for r in rows if r.rag == rag]
    return sorted(rows, key=lambda r: (RAG_ORDER[r.rag], -r.rung, -r.days_late, r.due, r.reference))


def open_rows(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    case_ids: Iterable[int],
) -> dict[str, list[Row]]:
    """Return, per case reference, every open or stopped step with a timescale, worst first."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    found = [
        step
        for row in session.execute(
            sa.select(*_COLUMNS)
            .join(Case, col(Case.id) == Step.case_id)
            .where(
                col(Step.case_id).in_(ids),
                col(Step.status).in_([StepStatus.open, StepStatus.stopped]),
            )
            .order_by(col(Step.id))
        ).all()
        if _timed(policy, step := _Open(*row))
    ]
    result: dict[str, list[Row]] = {}
    for row in _rows(session, policy, calendar, now, found):
        result.setdefault(row.reference, []).append(row)
    for rows in result.values():
        rows.sort(key=lambda r: (RAG_ORDER[r.rag], -r.rung, -r.days_late, r.due))
    return result


def my_steps(
    *, session: Session, policy: Policy, calendar: WorkingCalendar, now: datetime, staff_id: str
) -> list[Row]:
    """Return the open steps the person owns, or may record in a case they lead, soonest first."""
    held = roles_of(session, staff_id)
    found = [
        _Open(*row)
        for row in session.execute(
            sa.select(*_COLUMNS)
            .join(Case, col(Case.id) == Step.case_id)
            .where(
                col(Case.status) == CaseStatus.open,
                col(Step.status).in_([StepStatus.open, StepStatus.stopped]),
                (col(Step.owner_id) == staff_id) | (col(Case.lead_id) == staff_id),
            )
            .order_by(col(Step.deadline_at), col(Step.id))
        ).all()
    ]
    mine = [
        step
        for step in found
        if (step.owner_id == staff_id or _may_record(step.process, step.name, held))
        and _timed(policy, step)
    ]
    return sorted(
        _rows(session, policy, calendar, now, mine),
        key=lambda r: (r.working_days_left, r.reference),
    )


def my_actions(
    *, session: Session, calendar: WorkingCalendar, now: datetime, staff_id: str
) -> list[dict[str, Any]]:
    """Return the person's open actions, soonest due first."""
    today = calendar.local_date(now)
    found = session.exec(
        select(Action, Case.reference)
        .join(Case, col(Case.id) == Action.case_id)
        .where(Action.owner_id == staff_id, Action.status == ActionStatus.open)
        .order_by(col(Action.due_on), col(Action.id))
    ).all()
    result = []
    for action, reference in found:
        left = calendar.working_days_between(today, action.due_on)  # < 0: late
        result.append(
            {
                "id": action.id,
                "case": reference,
                "title": action.title,
                "due": action.due_on.isoformat(),
                "working_days_left": left,
                "rag": rag_of(left, False),
            }
        )
    return result


def my_notices(
    session: Session, staff_id: str, *, limit: int = 200, notice_id: int | None = None
) -> list[dict[str, Any]]:
    """Return the notices sent to the person (or the one `notice_id`, if it was), newest first:
    those awaiting their acknowledgement say so."""
    query = (
        select(Notice, Case.reference, NoticeDelivery)
        .join(NoticeDelivery, col(NoticeDelivery.notice_id) == Notice.id)
        .join(Case, col(Case.id) == Notice.case_id)
        .where(NoticeDelivery.staff_id == staff_id)
    )
    if notice_id is not None:
        query = query.where(Notice.id == notice_id)
    found = session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all()
    return [
        {
            "id": notice.id,
            "case": reference,
            "kind": notice.kind,
            "rung": notice.rung,
            "subject": notice.subject,
            "created_at": notice.created_at.isoformat(),
            "because": delivery.because,
            "delivered": delivery.status == "delivered",
            "needs_ack": Kind(notice.kind).needs_acknowledgement,
            # each person acknowledges their own: another's acknowledgement leaves theirs due
            "awaiting_ack": Kind(notice.kind).needs_acknowledgement
            and delivery.acknowledged_at is None,
            "acknowledged_by": notice.acknowledged_by,  # the last of those it went to
            "mine_acknowledged_at": delivery.acknowledged_at.isoformat()
            if delivery.acknowledged_at
            else None,
            "acknowledged_at": notice.acknowledged_at.isoformat()
            if notice.acknowledged_at
            else None,
        }
        for notice, reference, delivery in found
    ]


def my_cases(session: Session, staff_id: str) -> list[dict[str, Any]]:
    """Return the open cases the person is part of (lead, named party, a child's IRO or social
    worker), newest first."""
    ids = set(session.exec(select(Case.id).where(Case.lead_id == staff_id)).all())
    ids |= set(session.exec(select(CaseParty.case_id).where(CaseParty.staff_id == staff_id)).all())
    ids |= set(
        session.exec(
            select(CaseChild.case_id).where(
                (col(CaseChild.iro_id) == staff_id) | (col(CaseChild.social_worker_id) == staff_id)
            )
        ).all()
    )
    found = session.exec(
        select(Case)
        .where(col(Case.id).in_(ids), Case.status == CaseStatus.open)
        .order_by(col(Case.id).desc())
    ).all()
    return [
        {
            "reference": c.reference,
            "process": c.process,
            "opened_at": c.opened_at.isoformat(),
            "lead": c.lead_id,
            "role": "lead" if c.lead_id == staff_id else "part",
        }
        for c in found
    ]


# --- shared -----------------------------------------------------------------------------------------


class _Open(NamedTuple):
    """An open (or stopped) step of an open case, as the board reads it: no more than it shows."""

    step_id: int
    case_id: int
    name: str
    sequence: int
    owner_id: str | None
    status: StepStatus
    due_on: date
    reference: str
    process: str
    restricted: bool


_COLUMNS: tuple[Any, ...] = (
    Step.id,
    Step.case_id,
    Step.name,
    Step.sequence,
    Step.owner_id,
    Step.status,
    Step.due_on,
    Case.reference,
    Case.process,
    Case.restricted,
)


def _timed(policy: Policy, step: _Open) -> bool:
    """False for a step recorded only if it happens (e.g. a complaint withdrawn): never work due."""
    rule = policy.process(step.process).steps.get(step.name)
    return rule is None or not rule.unscheduled


def _rows(
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    steps: Iterable[_Open],
) -> list[Row]:
    steps = list(steps)
    today = calendar.local_date(now)
    rungs = _rungs(session, [s.case_id for s in steps])
    managers = dict(session.exec(select(Staff.id, Staff.line_manager_id)).all())
    rows = []
    left_of: dict[date, int] = {}  # many steps share a due day: count its working days once
    for step in steps:
        rule = policy.process(step.process).step(step.name)
        if step.due_on not in left_of:
            left_of[step.due_on] = calendar.working_days_between(today, step.due_on)
        left = left_of[step.due_on]
        stopped = step.status is StepStatus.stopped
        owner = step.owner_id
        rows.append(
            Row(
                reference=step.reference,
                process=step.process,
                step=step.name if step.sequence == 1 else f"{step.name} {step.sequence}",
                title=rule.title,
                due=step.due_on.isoformat(),
                working_days_left=left,
                days_late=0 if stopped else max(0, -left),
                rag=rag_of(left, stopped),
                rung=rungs.get(step.step_id, 0),
                waits_on=owner or f"{rule.owner.label} (nobody named)",
                waits_on_named=owner is not None,
                team=managers.get(owner) if owner else None,
                restricted=step.restricted,
            )
        )
    return rows


def _rungs(session: Session, case_ids: list[int]) -> dict[int, int]:
    """Return, per step id, the highest escalation rung its clock has reached."""
    if not case_ids:
        return {}
    reached: dict[int, int] = {}
    for clock, matter, rung in session.exec(
        select(Notice.clock, Notice.matter, func.max(Notice.rung))
        .where(col(Notice.kind).in_(ESCALATING), col(Notice.case_id).in_(set(case_ids)))
        .group_by(col(Notice.clock), col(Notice.matter))
    ).all():
        kind, _, rest = (matter or clock).partition(":")  # an unacknowledged notice: its root
        step_id = rest.partition("@")[0]
        if kind == "step" and step_id.isdigit():
            reached[int(step_id)] = max(reached.get(int(step_id), 0), rung)
    return reached


def _may_record(process: str, step: str, held: set[Role]) -> bool:
    try:
        return may_record(registry.get(process).step(step), held)
    except InputError:  # a step only the policy times (measured only): nobody records it
        return False

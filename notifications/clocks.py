"""The clocks a sweep loads (DESIGN rule 6): only those that can have a notice due at the moment
swept, selected on indexed columns (`steps.deadline_at`, `actions.due_on`,
`decisions.rationale_due_at`, `notices.ack_due_at`), so the database work grows with what is due,
not with every clock; and which escalations are settled (their matter resolved).

Pure deciding is `models.escalation.decide`'s; this module only reads.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.calendar import WorkingCalendar
from models.enums import ActionStatus, CaseStatus, StepStatus
from models.escalation import (
    AckClock,
    ActionClock,
    Clocks,
    DoneStep,
    FailedRecord,
    Kind,
    NewCase,
    RationaleClock,
    StepClock,
    reminder_horizon,
)
from models.policy import Policy
from models.tables import (
    Action,
    Case,
    ClockStop,
    Decision,
    Notice,
    NoticeDelivery,
    Rationale,
    Step,
    Submission,
)


def load_clocks(
    session: Session, policy: Policy, calendar: WorkingCalendar, now: datetime
) -> Clocks:
    """Return the clocks that can have a notice due at `now` (selected on indexed columns)."""
    horizon = reminder_horizon(policy, calendar, now)
    running = session.exec(
        select(Step, Case.reference, Case.process)
        .join(Case, col(Case.id) == Step.case_id)
        .where(Step.status == StepStatus.open, col(Step.deadline_at) <= horizon)
        .where(col(Step.opened_at) <= now)
        .where(Case.status == CaseStatus.open)
    ).all()
    stopped = session.exec(
        select(Step, Case.reference, Case.process, ClockStop)
        .join(Case, col(Case.id) == Step.case_id)
        .join(ClockStop, col(ClockStop.step_id) == Step.id)
        .where(Step.status == StepStatus.stopped, col(ClockStop.resumed_at).is_(None))
        .where(Case.status == CaseStatus.open)
    ).all()
    steps = [
        StepClock(s.id or 0, s.case_id, ref, proc, s.name, s.sequence, s.owner_id, s.due_on)
        for s, ref, proc in running
    ] + [
        StepClock(
            s.id or 0,
            s.case_id,
            ref,
            proc,
            s.name,
            s.sequence,
            s.owner_id,
            s.due_on,
            stop_id=stop.id,
            stopped_at=stop.stopped_at,
        )
        for s, ref, proc, stop in stopped
    ]
    today = calendar.local_date(now)
    actions = [
        ActionClock(a.id or 0, a.case_id, ref, a.owner_id, a.due_on, step_name or "meeting", proc)
        for a, ref, step_name, proc in session.exec(
            select(Action, Case.reference, Step.name, Case.process)
            .join(Case, col(Case.id) == Action.case_id)
            .outerjoin(Step, col(Step.id) == Action.step_id)
            .where(Action.status == ActionStatus.open, col(Action.due_on) < today)
            .where(col(Action.created_at) <= now)
            .where(Case.status == CaseStatus.open)
        ).all()
    ]
    rationales = rationale_clocks(session, now)
    return Clocks(
        steps,
        actions,
        rationales,
        _ack_clocks(session, now),
        failed_records(session, now),
        done_steps(session, policy, now),
        new_cases(session, policy, now),
    )


def new_cases(
    session: Session, policy: Policy, now: datetime, case_id: int | None = None
) -> list[NewCase]:
    """Return the open cases of processes that tell someone when a case starts, not yet told."""
    told = [name for name, rules in policy.processes.items() if rules.on_start_notify]
    if not told:
        return []
    already = sa.exists().where(
        col(Notice.case_id) == Case.id, col(Notice.kind) == Kind.information.value
    )
    query = (
        select(Case)
        .where(col(Case.process).in_(told), Case.status == CaseStatus.open, ~already)
        .where(col(Case.opened_at) <= now)
    )
    if case_id is not None:
        query = query.where(Case.id == case_id)
    return [NewCase(c.id or 0, c.reference, c.process, c.opened_at) for c in session.exec(query)]


def done_steps(
    session: Session, policy: Policy, now: datetime, case_id: int | None = None
) -> list[DoneStep]:
    """Return the done steps of open cases whose policy names who must hear of them: when
    recorded late (`late_notify`), or whenever done (`done_notify`); only those steps are looked
    at, and a step not late only where it is told whenever done."""
    late_told: list[tuple[str, str]] = []  # told only when late
    done_told: list[tuple[str, str]] = []  # told whenever done (late or not)
    for process, rules in policy.processes.items():
        for name, rule in rules.steps.items():
            if rule.done_notify:
                done_told.append((process, name))
            elif rule.late_notify:
                late_told.append((process, name))
    if not late_told and not done_told:
        return []

    def named(pairs: list[tuple[str, str]]) -> Any:
        return sa.or_(
            sa.false(), *(sa.and_(col(Case.process) == p, col(Step.name) == n) for p, n in pairs)
        )

    late = col(Step.closed_at) >= col(Step.deadline_at)
    query = (
        select(Step, Case.reference, Case.process)
        .join(Case, col(Case.id) == Step.case_id)
        .where(Case.status == CaseStatus.open, Step.status == StepStatus.closed)
        .where(col(Step.closed_at) <= now)
        .where(sa.or_(sa.and_(late, named(late_told)), named(done_told)))
    )
    if case_id is not None:
        query = query.where(Step.case_id == case_id)
    return [
        DoneStep(
            s.id or 0,
            s.case_id,
            ref,
            proc,
            s.name,
            s.owner_id,
            s.due_on,
            s.closed_at or now,
            late=s.closed_at is not None and s.closed_at >= s.deadline_at,
        )
        for s, ref, proc in session.exec(query).all()
    ]


def failed_records(
    session: Session, now: datetime, case_id: int | None = None
) -> list[FailedRecord]:
    """Return the submissions of open cases the flow could not apply, as failed by `now`."""
    query = (
        select(Submission, Case.reference, Step.name, Case.process)
        .join(Case, col(Case.id) == Submission.case_id)
        .join(Step, col(Step.id) == Submission.step_id)
        .where(col(Submission.failed_at).is_not(None), col(Submission.failed_at) <= now)
        .where(Case.status == CaseStatus.open)
    )
    if case_id is not None:
        query = query.where(Submission.case_id == case_id)
    return [
        FailedRecord(s.id or 0, s.case_id, ref, s.author_id, name, s.failed_at or now, process)
        for s, ref, name, process in session.exec(query).all()
    ]


def rationale_clocks(
    session: Session, now: datetime, case_id: int | None = None
) -> list[RationaleClock]:
    """Return the decisions recorded by `now` whose rationale has not been given."""
    has_rationale = sa.exists().where(col(Rationale.decision_id) == Decision.id)
    query = (
        select(Decision, Case.reference, Step.name, Case.process)
        .join(Case, col(Case.id) == Decision.case_id)
        .outerjoin(Step, col(Step.id) == Decision.step_id)
        .where(col(Decision.rationale_due_at).is_not(None), ~has_rationale)
        .where(col(Decision.recorded_at) <= now)
    )
    if case_id is not None:
        query = query.where(Decision.case_id == case_id)
    return [
        RationaleClock(
            d.id or 0,
            d.case_id,
            ref,
            d.author_id,
            d.kind,
            step_name or "case",
            d.recorded_at,
            d.rationale_due_at or d.recorded_at,
            process,
        )
        for d, ref, step_name, process in session.exec(query).all()
    ]


def _ack_clocks(session: Session, now: datetime) -> list[AckClock]:
    rows = session.exec(
        select(Notice, Case.reference)
        .join(Case, col(Case.id) == Notice.case_id)
        .where(col(Notice.ack_due_at) <= now, col(Notice.acknowledged_at).is_(None))
    ).all()
    if not rows:
        return []
    told: dict[int, list[str]] = {}  # who has not acknowledged it: each is chased, not the rest
    for notice_id, staff_id in session.exec(
        select(NoticeDelivery.notice_id, NoticeDelivery.staff_id).where(
            col(NoticeDelivery.notice_id).in_([n.id for n, _ in rows]),
            col(NoticeDelivery.acknowledged_at).is_(None),
        )
    ).all():
        told.setdefault(notice_id, []).append(staff_id)
    return [
        AckClock(
            notice_id=n.id or 0,
            matter=n.matter,
            case_id=n.case_id or 0,  # joined to its case: never empty here
            reference=ref,
            kind=n.kind,
            ack_due_at=n.ack_due_at or now,
            recipients=tuple(sorted(told.get(n.id or 0, []))),
            depth=n.rung if n.kind == Kind.unacknowledged else 0,
            subject=n.subject,
        )
        for n, ref in rows
    ]


def settled(session: Session, matters: Iterable[str]) -> set[str]:
    """Return which of these matters (clocks) are resolved: no further escalation about them."""
    by_kind: dict[str, dict[int, str]] = {}
    for matter in set(matters):
        kind, _, rest = matter.partition(":")
        by_kind.setdefault(kind, {})[int(rest.partition("@")[0])] = matter
    done: set[str] = set()
    steps = by_kind.get("step", {})
    if steps:
        for s, case_status in session.exec(
            select(Step, Case.status)
            .join(Case, col(Case.id) == Step.case_id)
            .where(col(Step.id).in_(steps))
        ).all():
            matter = steps[s.id or 0]
            if (
                s.status is not StepStatus.open
                or case_status is CaseStatus.closed
                or (not matter.endswith(f"@{s.due_on.isoformat()}"))
            ):
                done.add(matter)
    actions = by_kind.get("action", {})
    if actions:
        for a in session.exec(select(Action).where(col(Action.id).in_(actions))).all():
            matter = actions[a.id or 0]
            if a.status is not ActionStatus.open or not matter.endswith(f"@{a.due_on.isoformat()}"):
                done.add(matter)
    decisions = by_kind.get("decision", {})
    if decisions:
        given = session.exec(
            select(Rationale.decision_id).where(col(Rationale.decision_id).in_(decisions))
        ).all()
        done.update(decisions[d] for d in given)
    stops = by_kind.get("stop", {})
    if stops:
        for stop in session.exec(select(ClockStop).where(col(ClockStop.id).in_(stops))).all():
            if stop.resumed_at is not None:
                done.add(stops[stop.id or 0])
    return done

"""The outbox and the sweep (DESIGN rules 6 and 7).

One sweep, as at a moment:
1. load the clocks that can be due (open steps whose deadline is within the reminder horizon,
   stopped clocks, open actions past due, decisions without rationale, notices past their
   acknowledgement window), so the database work grows with what is due, not with every clock;
2. ask `models.escalation.decide` which notices are due;
3. write those not written before (by key), each with its recipients, in one transaction; an insert
   that meets an existing key does nothing, so two sweeps at once write each notice once;
4. deliver pending deliveries: claim one (a conditional update), send it through Apprise, record
   the receipt or the error and when to try again.
"""

import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from models import audit
from models.calendar import WorkingCalendar
from models.cases import parties_of
from models.db import session_scope
from models.enums import ActionStatus, CaseStatus, Role, StepStatus
from models.errors import InputError
from models.escalation import (
    AckClock,
    ActionClock,
    CaseParties,
    Clocks,
    Directory,
    DoneStep,
    DueNotice,
    FailedRecord,
    Kind,
    NewCase,
    RationaleClock,
    StepClock,
    decide,
    reminder_horizon,
    resolve,
)
from models.permissions import acting_roles
from models.policy import Policy
from models.tables import (
    Action,
    Case,
    ClockStop,
    Decision,
    Notice,
    NoticeDelivery,
    Rationale,
    Staff,
    StaffAddress,
    StaffRole,
    Step,
    Submission,
)
from models.wallclock import Clock, system_clock
from notifications.delivery import Sender, send_with_apprise
from notifications.render import render

LEASE = timedelta(
    minutes=10
)  # a claimed delivery whose sender died may be claimed again after this
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
CHUNK = 500
DELIVERY_WORKERS = 4  # deliveries in flight at once (each is one SMTP or HTTP exchange)


# --- 1. loading the clocks that can be due ------------------------------------------------------


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
        select(Submission, Case.reference, Step.name)
        .join(Case, col(Case.id) == Submission.case_id)
        .join(Step, col(Step.id) == Submission.step_id)
        .where(col(Submission.failed_at).is_not(None), col(Submission.failed_at) <= now)
        .where(Case.status == CaseStatus.open)
    )
    if case_id is not None:
        query = query.where(Submission.case_id == case_id)
    return [
        FailedRecord(s.id or 0, s.case_id, ref, s.author_id, name, s.failed_at or now)
        for s, ref, name in session.exec(query).all()
    ]


def rationale_clocks(
    session: Session, now: datetime, case_id: int | None = None
) -> list[RationaleClock]:
    """Return the decisions recorded by `now` whose rationale has not been given."""
    has_rationale = sa.exists().where(col(Rationale.decision_id) == Decision.id)
    query = (
        select(Decision, Case.reference, Step.name)
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
        )
        for d, ref, step_name in session.exec(query).all()
    ]


def _ack_clocks(session: Session, now: datetime) -> list[AckClock]:
    rows = session.exec(
        select(Notice, Case.reference)
        .join(Case, col(Case.id) == Notice.case_id)
        .where(col(Notice.ack_due_at) <= now, col(Notice.acknowledged_at).is_(None))
    ).all()
    if not rows:
        return []
    told: dict[int, list[str]] = {}
    for notice_id, staff_id in session.exec(
        select(NoticeDelivery.notice_id, NoticeDelivery.staff_id).where(
            col(NoticeDelivery.notice_id).in_([n.id for n, _ in rows])
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


# --- who is who --------------------------------------------------------------------------------


def load_directory(session: Session) -> Directory:
    """Return the staff directory: line managers of everyone, roles and addresses of the active."""
    managers = dict(session.exec(select(Staff.id, Staff.line_manager_id)).all())
    active = set(session.exec(select(Staff.id).where(col(Staff.active).is_(True))).all())
    roles: dict[str, set[Role]] = {s: set() for s in active}
    for staff_id, role in session.exec(select(StaffRole.staff_id, StaffRole.role)).all():
        if staff_id in roles:
            roles[staff_id].add(Role(role))
    addresses: dict[str, list[str]] = {}
    for staff_id, url in session.exec(
        select(StaffAddress.staff_id, StaffAddress.url).order_by(col(StaffAddress.id))
    ).all():
        addresses.setdefault(staff_id, []).append(url)
    return Directory(
        managers=managers,
        roles={s: frozenset(r) for s, r in roles.items()},
        addresses={s: tuple(u) for s, u in addresses.items()},
    )


@dataclass(frozen=True)
class CaseInfo:
    parties: CaseParties
    flow_run_id: str | None


def load_cases(session: Session, case_ids: Iterable[int]) -> dict[int, CaseInfo]:
    """Return who is who in each case (its parties) and its flow run, for the notices' recipients."""
    ids = sorted(set(case_ids))
    info: dict[int, CaseInfo] = {}
    for chunk in _chunks(ids):
        parties = parties_of(session, chunk)
        for case_id, run_id in session.exec(
            select(Case.id, Case.flow_run_id).where(col(Case.id).in_(chunk))
        ).all():
            info[case_id or 0] = CaseInfo(parties[case_id or 0], run_id)
    return info


# --- 3. writing --------------------------------------------------------------------------------


@dataclass
class Written:
    notice_id: int | None  # None in a dry run
    key: str
    kind: str
    reference: str
    recipients: list[str]
    unfilled: list[str]


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool
    clocks: dict[str, int]
    due: int = 0
    already_written: int = 0
    written: list[Written] = field(default_factory=list)
    settled_escalations: int = 0
    delivery: "DeliveryReport | None" = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "clocks": self.clocks,
            "due": self.due,
            "already_written": self.already_written,
            "written": [w.__dict__ for w in self.written],
            "settled_escalations": self.settled_escalations,
            "delivery": self.delivery.__dict__ if self.delivery else None,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(keys)):
        found.update(session.exec(select(Notice.key).where(col(Notice.key).in_(chunk))).all())
    return found


def write_notices(
    session: Session,
    due: Sequence[DueNotice],
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    directory: Directory,
    cases: dict[int, CaseInfo],
    now: datetime,
    link_base: str | None,
    dry_run: bool = False,
    clock: Clock = system_clock,
) -> list[Written]:
    """Write each due notice with its deliveries; a key already written is left alone. Its
    deliveries may be sent from the real moment they are written (`clock()`)."""
    ready = clock()
    written: list[Written] = []
    ack_within = policy.notices.acknowledge_within
    ack_due = calendar.end_of_day(calendar.due(now, ack_within).due)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    bodies: list[dict[str, Any]] = []  # rendered once the notice has its id; written in one batch
    for notice in due:
        info = cases[notice.case_id]
        recipients = resolve(notice, info.parties, directory)
        people = sorted(recipients.people.items())
        if notice.kind is Kind.unacknowledged and not people:
            continue  # the top of the line-management chain: there is nobody further up to tell
        if notice.kind is Kind.information and not people:
            continue  # nobody to inform (no child in the case): nothing to write
        if dry_run:
            written.append(
                Written(
                    None,
                    notice.key,
                    notice.kind.value,
                    notice.reference,
                    [p for p, _ in people],
                    list(recipients.unfilled),
                )
            )
            continue
        values = {
            "key": notice.key,
            "case_id": notice.case_id,
            "kind": notice.kind.value,
            "clock": notice.clock,
            "matter": notice.matter or notice.clock,
            "rung": notice.rung,
            "due_at": notice.due_at,
            "created_at": now,
            "subject": "",
            "body_text": "",
            "body_html": "",
            "detail": {**notice.facts, "unfilled": list(recipients.unfilled)},
            "ack_due_at": ack_due if notice.kind.needs_acknowledgement and people else None,
        }
        statement = (
            insert(Notice)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Notice.__table__.c.id)  # type: ignore[attr-defined]
        )
        notice_id = session.execute(statement).scalar()
        if notice_id is None:  # another sweep wrote it first
            continue
        link = (
            f"{link_base.rstrip('/')}/runs/flow-run/{info.flow_run_id}"
            if link_base and info.flow_run_id
            else None
        )
        text = render(
            notice_id=notice_id,
            key=notice.key,
            kind=notice.kind,
            reference=notice.reference,
            rung=notice.rung,
            clock=notice.clock,
            facts=notice.facts,
            recipients=[(p, ", ".join(why)) for p, why in people],
            unfilled=recipients.unfilled,
            ack_within=str(ack_within),
            link=link,
        )
        bodies.append({"nid": notice_id, "s": text.subject[:300], "t": text.text, "h": text.html})
        session.add_all(
            NoticeDelivery(
                notice_id=notice_id,
                staff_id=person,
                because=", ".join(why)[:200],
                next_attempt_at=ready,
            )
            for person, why in people
        )
        written.append(
            Written(
                notice_id,
                notice.key,
                notice.kind.value,
                notice.reference,
                [p for p, _ in people],
                list(recipients.unfilled),
            )
        )
    if bodies:
        table = Notice.__table__  # type: ignore[attr-defined]
        session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("nid"))
            .values(
                subject=sa.bindparam("s"), body_text=sa.bindparam("t"), body_html=sa.bindparam("h")
            ),
            bodies,
        )
    session.flush()
    return written


INVITE_LINK = re.compile(r"/invitation/[A-Za-z0-9_-]+")


def forget_link(notice: Notice) -> None:
    """Once an invitation is delivered, its one-time link leaves its stored bodies."""
    gone = "/invitation/(the link, removed once delivered)"
    notice.body_text = INVITE_LINK.sub(gone, notice.body_text)
    notice.body_html = INVITE_LINK.sub(gone, notice.body_html)


def send_invitation(
    session: Session, *, staff_id: str, link: str, valid_until: datetime, now: datetime, key: str
) -> int:
    """Write an invitation (a one-time link to set a password) to the outbox, to the person alone;
    return its notice id. It is delivered like every notice (retried by the sweep), is about no
    case, and needs no acknowledgement."""
    notice = Notice(
        key=key,
        case_id=None,
        kind=Kind.invitation.value,
        clock=f"invite:{staff_id}",
        matter=f"invite:{staff_id}",
        rung=0,
        due_at=now,
        created_at=now,
        subject="",
        body_text="",
        body_html="",
        detail={"valid_until": valid_until.isoformat()},
    )
    session.add(notice)
    session.flush()
    assert notice.id is not None
    text = render(
        notice_id=notice.id,
        key=key,
        kind=Kind.invitation,
        reference="",
        rung=0,
        clock=notice.clock,
        facts={"valid_until": valid_until.isoformat(), "staff_id": staff_id},
        recipients=[(staff_id, "invited")],
        unfilled=[],
        ack_within="",
        link=link,
    )
    notice.subject, notice.body_text, notice.body_html = text.subject[:300], text.text, text.html
    session.add(notice)
    session.add(NoticeDelivery(notice_id=notice.id, staff_id=staff_id, because="invited", next_attempt_at=now))  # fmt: skip
    session.flush()
    return notice.id


# --- the sweep ----------------------------------------------------------------------------------


def sweep(
    engine: Engine,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    dry_run: bool = False,
    sender: Sender = send_with_apprise,
    link_base: str | None = None,
    deliver_limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Clock = system_clock,
) -> SweepReport:
    """Run one sweep as at `now`: decide, write what is new, then deliver what is pending.

    `now` decides what is due (a sweep may run as at another moment); delivery itself always
    happens at `clock()`, the real time: claims, receipts and retries are real events.
    """
    started = time.perf_counter()
    with session_scope(engine) as session:
        clocks = load_clocks(session, policy, calendar, now)
        loaded = time.perf_counter()
        due = decide(clocks, policy, calendar, now)
        decided = time.perf_counter()
        report = SweepReport(
            at=now,
            dry_run=dry_run,
            clocks={
                "steps": len(clocks.steps),
                "actions": len(clocks.actions),
                "rationales": len(clocks.rationales),
                "acknowledgements": len(clocks.acks),
            },
            due=len(due),
        )
        done = settled(session, [n.matter for n in due if n.kind is Kind.unacknowledged])
        due = [n for n in due if not (n.kind is Kind.unacknowledged and n.matter in done)]
        old = existing_keys(session, [n.key for n in due])
        new = [n for n in due if n.key not in old]
        report.already_written = len(due) - len(new)
        if new:
            report.written = write_notices(
                session,
                new,
                policy=policy,
                calendar=calendar,
                directory=load_directory(session),
                cases=load_cases(session, (n.case_id for n in new)),
                now=now,
                link_base=link_base,
                dry_run=dry_run,
                clock=clock,
            )
        if not dry_run:
            # An escalation whose matter is resolved, or that has gone up a rung, waits no longer.
            finished = [n.clock.partition(":")[2] for n in due if n.kind is Kind.unacknowledged]
            stale = [a.notice_id for a in clocks.acks if a.matter in done]
            ids = [int(i) for i in finished] + stale
            for chunk in _chunks(ids):
                session.execute(
                    sa.update(Notice).where(col(Notice.id).in_(chunk)).values(ack_due_at=None)
                )
            report.settled_escalations = len(stale)
        if dry_run:
            session.rollback()
    written = time.perf_counter()
    report.seconds = {
        "load": loaded - started,
        "decide": decided - loaded,
        "write": written - decided,
    }
    if not dry_run:
        report.delivery = deliver(
            engine, clock=clock, sender=sender, limit=deliver_limit, progress=progress
        )
        report.seconds["deliver"] = time.perf_counter() - written
    return report


def tell_at_once(
    engine: Engine,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    now: datetime,
    sender: Sender = send_with_apprise,
    link_base: str | None = None,
    clock: Clock = system_clock,
) -> list[Written]:
    """Write and deliver, now, what one case's people must hear at once: a decision recorded without
    its rationale (DESIGN rule 9), a record the flow could not apply. The next sweep would catch
    them; this does not wait for it. Idempotent: a notice written before is not written again."""
    with session_scope(engine) as session:
        clocks = Clocks(
            rationales=rationale_clocks(session, now, case_id),
            failures=failed_records(session, now, case_id),
            done=done_steps(session, policy, now, case_id),
            started=new_cases(session, policy, now, case_id),
        )
        at_once = (
            Kind.rationale_missing,
            Kind.submission_failed,
            Kind.recorded_late,
            Kind.information,
        )
        due = [n for n in decide(clocks, policy, calendar, now) if n.kind in at_once]
        old = existing_keys(session, [n.key for n in due])
        new = [n for n in due if n.key not in old]
        if not new:
            return []
        written = write_notices(
            session,
            new,
            policy=policy,
            calendar=calendar,
            directory=load_directory(session),
            cases=load_cases(session, [case_id]),
            now=now,
            link_base=link_base,
            clock=clock,
        )
    deliver(
        engine,
        clock=clock,
        sender=sender,
        notice_ids=[w.notice_id for w in written if w.notice_id],
    )
    return written


# --- 4. delivery -------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another sweep first


def deliver(
    engine: Engine,
    *,
    clock: Clock = system_clock,
    sender: Sender = send_with_apprise,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = DELIVERY_WORKERS,
    notice_ids: Sequence[int] | None = None,
) -> DeliveryReport:
    """Deliver every delivery that is pending and due for an attempt, a few at a time.

    Each is claimed first (a conditional update), so another sweep, or another worker here, never
    sends it too. A sender that dies after claiming leaves the claim to expire (LEASE), then it is
    tried again. Claims, receipts and retries are timed by `clock`, the real time, never by the
    moment a sweep runs "as at": a claim made by a sweep as at last week must not look expired to
    the sweep running now.
    """
    report = DeliveryReport()
    with Session(engine) as session:
        query = (
            select(NoticeDelivery.id).where(_claimable(clock())).order_by(col(NoticeDelivery.id))
        )
        if notice_ids is not None:
            query = query.where(col(NoticeDelivery.notice_id).in_(notice_ids))
        ids = [i for i in session.exec(query.limit(limit) if limit else query).all() if i]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_deliver_one, engine, i, clock, sender) for i in ids]
        for number, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            report.attempted += outcome != "skipped"
            report.delivered += outcome == "delivered"
            report.failed += outcome == "failed"
            report.skipped += outcome == "skipped"
            if progress:
                progress(number, len(ids))
    return report


def _claimable(now: datetime) -> Any:
    return sa.or_(
        sa.and_(
            col(NoticeDelivery.status) == "pending", col(NoticeDelivery.next_attempt_at) <= now
        ),
        sa.and_(col(NoticeDelivery.status) == "sending", col(NoticeDelivery.claimed_until) < now),
    )


def _deliver_one(engine: Engine, delivery_id: int, clock: Clock, sender: Sender) -> str:
    now = clock()
    with session_scope(engine) as session:
        claim = (
            sa.update(NoticeDelivery)
            .where(col(NoticeDelivery.id) == delivery_id, _claimable(now))
            .values(
                status="sending",
                claimed_until=now + LEASE,
                attempts=col(NoticeDelivery.attempts) + 1,
            )
        )
        if not cast(CursorResult[Any], session.execute(claim)).rowcount:
            return "skipped"  # another sweep claimed it first
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        notice = session.get(Notice, delivery.notice_id)
        assert notice is not None
        urls = session.exec(
            select(StaffAddress.url)
            .where(StaffAddress.staff_id == delivery.staff_id)
            .order_by(col(StaffAddress.id))
        ).all()
        subject, text, html = notice.subject, notice.body_text, notice.body_html
        attempts = delivery.attempts
    result = sender(list(urls), subject, text, html)
    now = clock()  # the receipt's time: when it was sent, not when the claim was made
    with session_scope(engine) as session:
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        if result.delivered:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.delivered_to = ", ".join(result.delivered_to)
            delivery.last_error = "; ".join(result.errors) or None
            sent = session.get(Notice, delivery.notice_id)
            if sent is not None and sent.kind == Kind.invitation.value:
                forget_link(sent)  # delivered: the outbox keeps no working link
        else:
            delivery.status = "pending"
            delivery.last_error = "; ".join(result.errors) or "not delivered"
            delivery.next_attempt_at = now + backoff(attempts)
        delivery.claimed_until = None
        session.add(delivery)
    return "delivered" if result.delivered else "failed"


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt: 5 min, 10, 20, ... at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


# --- reading and acknowledging --------------------------------------------------------------------


def notice_rows(
    session: Session, *, pending: bool = False, reference: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Return notices newest first, each with its deliveries (who, status, attempts, error)."""
    query = select(Notice, Case.reference).join(Case, col(Case.id) == Notice.case_id)
    if reference:
        case = session.exec(select(Case).where(Case.reference == reference)).first()
        if case is None:
            raise InputError(f"no case {reference!r}; see 'safeguard status' for open cases")
        query = query.where(Notice.case_id == case.id)
    if pending:
        waiting = select(NoticeDelivery.notice_id).where(col(NoticeDelivery.status) != "delivered")
        anyone = sa.exists().where(col(NoticeDelivery.notice_id) == Notice.id)
        query = query.where(sa.or_(col(Notice.id).in_(waiting), ~anyone))  # or nobody to send to
    rows = session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all()
    deliveries: dict[int, list[NoticeDelivery]] = {}
    for chunk in _chunks([n.id for n, _ in rows]):
        for d in session.exec(
            select(NoticeDelivery)
            .where(col(NoticeDelivery.notice_id).in_(chunk))
            .order_by(col(NoticeDelivery.staff_id))
        ).all():
            deliveries.setdefault(d.notice_id, []).append(d)
    return [
        {
            "id": n.id,
            "case": ref,
            "kind": n.kind,
            "rung": n.rung,
            "key": n.key,
            "subject": n.subject,
            "created_at": n.created_at.isoformat(),
            "due_at": n.due_at.isoformat(),
            "needs_ack": Kind(n.kind).needs_acknowledgement,
            "ack_due_at": n.ack_due_at.isoformat() if n.ack_due_at else None,
            "acknowledged_at": n.acknowledged_at.isoformat() if n.acknowledged_at else None,
            "acknowledged_by": n.acknowledged_by,
            "unfilled": n.detail.get("unfilled", []),
            "deliveries": [
                {
                    "to": d.staff_id,
                    "because": d.because,
                    "status": d.status,
                    "attempts": d.attempts,
                    "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                    "delivered_to": d.delivered_to,
                    "next_attempt_at": d.next_attempt_at.isoformat()
                    if d.status != "delivered"
                    else None,
                    "last_error": d.last_error,
                }
                for d in deliveries.get(n.id or 0, [])
            ],
        }
        for n, ref in rows
    ]


def acknowledge(session: Session, *, notice_id: int, staff_id: str, now: datetime) -> Notice:
    """Record that a recipient has seen the notice: it goes no further up for being unacknowledged."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise InputError(f"no notice {notice_id}; 'safeguard notices' lists them")
    recipients = set(
        session.exec(
            select(NoticeDelivery.staff_id).where(NoticeDelivery.notice_id == notice_id)
        ).all()
    )
    if staff_id not in recipients:
        who = ", ".join(sorted(recipients)) or "nobody"
        raise InputError(
            f"{staff_id} did not receive notice {notice_id}: only a recipient ({who}) may acknowledge it"
        )
    acting_roles(session, staff_id)  # someone who has left acknowledges nothing
    if not Kind(notice.kind).needs_acknowledgement:
        raise InputError(f"notice {notice_id} is for information: it needs no acknowledgement")
    if notice.acknowledged_at is not None:
        if notice.acknowledged_by == staff_id:
            return notice  # the same acknowledgement again changes nothing
        raise InputError(
            f"notice {notice_id} was already acknowledged by {notice.acknowledged_by} "
            f"at {notice.acknowledged_at:%Y-%m-%d %H:%M} UTC"
        )
    notice.acknowledged_at, notice.acknowledged_by, notice.ack_due_at = now, staff_id, None
    session.add(notice)
    audit.record(
        session,
        at=now,
        actor_id=staff_id,
        action="notice.acknowledge",
        case_id=notice.case_id,
        entity="notice",
        entity_id=str(notice_id),
        detail={"kind": notice.kind, "rung": notice.rung},
    )
    session.flush()
    return notice


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]

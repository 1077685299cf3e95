"""What is due at a moment: the escalation engine's pure core (DESIGN rules 4, 6, 9 and 10).

`decide(clocks, policy, calendar, now)` returns every notice due at `now` for the clocks given; it
reads no database and no wall clock, so a test runs a 65-working-day clock in microseconds. The
sweep (notifications/outbox.py) loads only the clocks that can be due, asks `decide`, keeps the
notices it has not written before (by key), resolves who receives each with `resolve`, and writes
them to the outbox.

The notices:
- reminder: a step's reminder day has come and the step is still open (its owner);
- lapsed: a step is past its due day; one notice per rung of its ladder as each rung comes;
- action_overdue: an action past its due day, up the policy's action ladder;
- rationale_missing: a decision recorded without its reasons, at once; rationale_lapsed: the
  rationale clock's ladder;
- stop_review: a stopped clock's review date has passed;
- unacknowledged: an escalation notice nobody acknowledged in time, to its recipients' managers.

A notice's key is (case, clock, kind, rung). A clock whose due day moves (an extension, a resumed
stop, an action carried forward) is a new clock, so its ladder starts again.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from models.calendar import WorkingCalendar
from models.durations import WorkingDays
from models.enums import Role
from models.policy import Policy, ProcessPolicy, Rung, StepPolicy
from models.staff import walk_up


class Kind(StrEnum):
    reminder = "reminder"
    lapsed = "lapsed"
    action_overdue = "action_overdue"
    rationale_missing = "rationale_missing"
    rationale_lapsed = "rationale_lapsed"
    stop_review = "stop_review"
    unacknowledged = "unacknowledged"
    submission_failed = "submission_failed"
    recorded_late = "recorded_late"
    information = "information"  # a case has started that these people should know of
    invitation = "invitation"  # to a person, about no case: a one-time link to set a password

    @property
    def needs_acknowledgement(self) -> bool:
        """A reminder, a record the flow could not apply (its step stays open, its own ladder runs
        on) and a step recorded after its due day (it is done; it is told so the failure is seen)
        are for information; everything else waits for someone to acknowledge it."""
        return self not in (
            Kind.reminder,
            Kind.submission_failed,
            Kind.recorded_late,
            Kind.information,
            Kind.invitation,
        )


# --- the clocks the sweep loads ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepClock:
    """An open or stopped step of an open case."""

    step_id: int
    case_id: int
    reference: str
    process: str  # the process's code
    name: str
    sequence: int
    owner_id: str | None
    due_on: date
    stop_id: int | None = None  # set while the clock is stopped
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionClock:
    """An open action past its due day."""

    action_id: int
    case_id: int
    reference: str
    owner_id: str
    due_on: date
    agreed_at_step: str  # the meeting step it was agreed at
    process: str = ""  # whose own action ladder applies, if it has one


@dataclass(frozen=True, slots=True)
class RationaleClock:
    """A decision recorded without its rationale."""

    decision_id: int
    case_id: int
    reference: str
    author_id: str
    decision: str  # its kind, e.g. "threshold_and_route"
    step: str
    recorded_at: datetime
    due_at: datetime  # the rationale clock's deadline


@dataclass(frozen=True, slots=True)
class AckClock:
    """An escalation notice past its acknowledgement window, whose matter is still unresolved."""

    notice_id: int
    matter: str
    case_id: int
    reference: str
    kind: str
    ack_due_at: datetime
    recipients: tuple[str, ...]
    depth: int  # 0 for a notice about a clock, n for the n-th "unacknowledged" above it


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """A submission the flow could not apply: its step is open again for a corrected record."""

    submission_id: int
    case_id: int
    reference: str
    author_id: str
    step: str
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class DoneStep:
    """A step done whose policy says who must hear of it at once: when recorded after its due day
    (`late_notify`: e.g. the IRO told after a planned ending, the failure the reviews name), or
    whenever it is done (`done_notify`, for information: e.g. a stage 3 response, told to the
    stage 2 independent person)."""

    step_id: int
    case_id: int
    reference: str
    process: str
    name: str
    owner_id: str | None
    due_on: date
    closed_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case just started, of a process whose policy names who is told of it (`on_start_notify`:
    e.g. a complaint about a looked-after child, told to the child's IRO for information)."""

    case_id: int
    reference: str
    process: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Clocks:
    steps: Sequence[StepClock] = ()
    actions: Sequence[ActionClock] = ()
    rationales: Sequence[RationaleClock] = ()
    acks: Sequence[AckClock] = ()
    failures: Sequence[FailedRecord] = ()
    done: Sequence[DoneStep] = ()
    started: Sequence[NewCase] = ()

    def __len__(self) -> int:
        return (
            len(self.steps)
            + len(self.actions)
            + len(self.rationales)
            + len(self.acks)
            + len(self.failures)
            + len(self.done)
            + len(self.started)
        )


# --- what is due -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A notice that is due: its key, who must hear (recipient tokens, resolved per case) and facts."""

    key: str
    case_id: int
    reference: str
    kind: Kind
    clock: str
    rung: int
    due_at: datetime
    notify: tuple[str, ...]  # policy recipients: roles, "owner", "owner_manager", "child_iro", ...
    owners: tuple[str, ...]  # who "owner" is here (staff ids); empty = the step's owner role
    owner_role: str | None = None  # resolves "owner" when no one is assigned
    exclude: tuple[str, ...] = ()  # people already told (an unacknowledged notice goes above them)
    matter: str = ""  # the clock at the root: what must be resolved to end the escalation
    facts: Mapping[str, Any] = field(default_factory=dict)


def notice_key(reference: str, clock: str, kind: Kind, rung: int) -> str:
    return f"{reference}/{clock}/{kind.value}/{rung}"


def decide(
    clocks: Clocks, policy: Policy, calendar: WorkingCalendar, now: datetime
) -> list[DueNotice]:
    """Return every notice due at `now` for these clocks, earliest first within each clock."""
    today = calendar.local_date(now)
    due: list[DueNotice] = []
    for step in clocks.steps:
        due.extend(_step_notices(step, policy, calendar, now, today))
    for action in clocks.actions:
        due.extend(_action_notices(action, policy, calendar, now, today))
    for decision in clocks.rationales:
        if decision.recorded_at > now:  # not yet recorded, as at `now`
            continue
        due.extend(_rationale_notices(decision, policy, calendar, now, today))
    for ack in clocks.acks:
        if now >= ack.ack_due_at:
            due.append(_unacknowledged(ack, calendar, today))
    for failed in clocks.failures:
        if failed.failed_at <= now:
            due.append(_failed(failed, calendar))
    for done in clocks.done:
        rule = policy.process(done.process).steps.get(done.name)
        if rule is None or done.closed_at > now:
            continue
        if rule.late_notify and done.late:
            due.append(_recorded_late(done, rule, calendar))
        if rule.done_notify:
            due.append(_step_done(done, rule, calendar))
    for new in clocks.started:
        rules = policy.process(new.process)
        if rules.on_start_notify and new.started_at <= now:
            due.append(_case_started(new, rules, calendar))
    return due


def _case_started(new: NewCase, rules: ProcessPolicy, calendar: WorkingCalendar) -> DueNotice:
    """At once, for information, to those the process's policy names: a case has started."""
    clock = f"case:{new.case_id}"
    return DueNotice(
        key=notice_key(new.reference, clock, Kind.information, 0),
        case_id=new.case_id,
        reference=new.reference,
        kind=Kind.information,
        clock=clock,
        rung=0,
        due_at=new.started_at,
        notify=rules.on_start_notify,
        owners=(),
        facts={
            "process": rules.title,
            "started_on": calendar.local_date(new.started_at).isoformat(),
        },
    )


def _recorded_late(late: DoneStep, rule: StepPolicy, calendar: WorkingCalendar) -> DueNotice:
    """At once, to those the policy names: the step was done, after its due day."""
    done_on = calendar.local_date(late.closed_at)
    lateness = {
        "due_on": late.due_on.isoformat(),
        "working_days_late": calendar.working_days_between(late.due_on, done_on),
    }
    return _step_told(late, rule, calendar, Kind.recorded_late, rule.late_notify, lateness)


def _step_done(done: DoneStep, rule: StepPolicy, calendar: WorkingCalendar) -> DueNotice:
    """At once, for information, to those the policy names: the step was done."""
    return _step_told(done, rule, calendar, Kind.information, rule.done_notify)


def _step_told(
    done: DoneStep,
    rule: StepPolicy,
    calendar: WorkingCalendar,
    kind: Kind,
    notify: tuple[str, ...],
    more: Mapping[str, Any] | None = None,
) -> DueNotice:
    """A notice, at once, that a step was done (its one per kind: the step's clock, rung 0)."""
    clock = f"step:{done.step_id}"
    return DueNotice(
        key=notice_key(done.reference, clock, kind, 0),
        case_id=done.case_id,
        reference=done.reference,
        kind=kind,
        clock=clock,
        rung=0,
        due_at=done.closed_at,
        notify=notify,
        owners=(done.owner_id,) if done.owner_id else (),
        owner_role=rule.owner.value,
        facts={
            "step": rule.title,
            "step_name": done.name,
            "step_ref": rule.ref,
            "done_on": calendar.local_date(done.closed_at).isoformat(),
            "source": rule.source,
            **(more or {}),
        },
    )


def _failed(failed: FailedRecord, calendar: WorkingCalendar) -> DueNotice:
    """At once, to the case lead and whoever recorded it: record the step again, corrected."""
    clock = f"submission:{failed.submission_id}"
    return DueNotice(
        key=notice_key(failed.reference, clock, Kind.submission_failed, 0),
        case_id=failed.case_id,
        reference=failed.reference,
        kind=Kind.submission_failed,
        clock=clock,
        rung=0,
        due_at=failed.failed_at,
        notify=("case_lead", "owner"),
        owners=(failed.author_id,),
        facts={
            "submission_id": failed.submission_id,
            "step": failed.step.replace("_", " "),
            "step_name": failed.step,
            "failed_on": calendar.local_date(failed.failed_at).isoformat(),
        },
    )


def reminder_horizon(policy: Policy, calendar: WorkingCalendar, now: datetime) -> datetime:
    """Return the latest deadline a reminder can be due for at `now`: steps due later need no look."""
    longest = max(
        (r.n for p in policy.processes.values() for s in p.steps.values() for r in s.reminders),
        default=0,
    )
    return calendar.end_of_day(calendar.due(now, WorkingDays(longest)).due)


def _rung_at(calendar: WorkingCalendar, due_on: date, after: WorkingDays) -> datetime:
    """A rung `after` working days after lapse comes at the end of that working day."""
    return calendar.end_of_day(calendar.due(due_on, after).due)


def _step_notices(
    step: StepClock, policy: Policy, calendar: WorkingCalendar, now: datetime, today: date
) -> Iterable[DueNotice]:
    rule = policy.process(step.process).steps.get(step.name)
    if rule is None or rule.measured_only:
        return
    facts = {
        "process": policy.process(step.process).title,
        "step": rule.title,
        "step_name": step.name,
        "step_ref": rule.ref,
        "sequence": step.sequence,
        "due_on": step.due_on.isoformat(),
        "source": rule.source,
        "owner_role": rule.owner.value,
    }
    base: dict[str, Any] = {
        "case_id": step.case_id,
        "reference": step.reference,
        "owners": (step.owner_id,) if step.owner_id else (),
        "owner_role": rule.owner.value,
    }
    if step.stop_id is not None:
        assert step.stopped_at is not None
        review, number = _latest_review(rule, calendar, step.stopped_at, today)
        if number:
            clock = f"stop:{step.stop_id}"
            yield DueNotice(
                key=notice_key(step.reference, clock, Kind.stop_review, number),
                kind=Kind.stop_review,
                clock=clock,
                rung=number,
                due_at=calendar.end_of_day(review),
                notify=("owner", *((rule.stop_approver.value,) if rule.stop_approver else ())),
                facts={
                    **facts,
                    "review_on": review.isoformat(),
                    "review_number": number,
                    "stopped_on": calendar.local_date(step.stopped_at).isoformat(),
                },
                **base,
            )
        return
    clock = f"step:{step.step_id}@{step.due_on.isoformat()}"
    deadline = calendar.end_of_day(step.due_on)
    if now < deadline:
        reached = [
            r for r in rule.reminders if today >= calendar.working_days_before(step.due_on, r.n)
        ]
        if reached:
            nearest = min(reached, key=lambda r: r.n)
            day = calendar.working_days_before(step.due_on, nearest.n)
            yield DueNotice(
                key=notice_key(step.reference, clock, Kind.reminder, nearest.n),
                kind=Kind.reminder,
                clock=clock,
                rung=nearest.n,
                due_at=calendar.end_of_day(day - timedelta(days=1)),
                notify=("owner",),
                facts={
                    **facts,
                    "working_days_left": calendar.working_days_between(today, step.due_on),
                },
                **base,
            )
        return
    late = calendar.working_days_between(step.due_on, today)
    for number, rung in _rungs_reached(rule.escalation, calendar, step.due_on, now):
        yield DueNotice(
            key=notice_key(step.reference, clock, Kind.lapsed, number),
            kind=Kind.lapsed,
            clock=clock,
            rung=number,
            due_at=_rung_at(calendar, step.due_on, rung.after),
            notify=rung.notify,
            facts={**facts, "working_days_late": late, "rung_after": _after_lapse(rung.after)},
            **base,
        )


def _after_lapse(after: WorkingDays) -> str:
    return "when it lapsed" if after.n == 0 else f"{after} after it lapsed"


def _rungs_reached(
    ladder: Sequence[Rung], calendar: WorkingCalendar, due_on: date, now: datetime
) -> Iterable[tuple[int, Rung]]:
    for number, rung in enumerate(ladder, start=1):
        if now >= _rung_at(calendar, due_on, rung.after):
            yield number, rung


def first_review(rule: StepPolicy, calendar: WorkingCalendar, stopped_at: datetime) -> date:
    """Return the first review day of a clock stopped at `stopped_at` (then every stop_review_every)."""
    if rule.stop_review_first is None:
        raise ValueError(f"{rule.title} cannot be stopped: it has no review schedule")
    return calendar.due(stopped_at, rule.stop_review_first).due


def _latest_review(
    rule: StepPolicy, calendar: WorkingCalendar, stopped_at: datetime, today: date
) -> tuple[date, int]:
    """Return the latest review day that has passed and its number (0 when none has)."""
    assert rule.stop_review_every is not None
    review = first_review(rule, calendar, stopped_at)
    latest, number = review, 0
    while review < today:
        latest, number = review, number + 1
        review = calendar.due(review, rule.stop_review_every).due
    return latest, number


def _action_notices(
    action: ActionClock, policy: Policy, calendar: WorkingCalendar, now: datetime, today: date
) -> Iterable[DueNotice]:
    clock = f"action:{action.action_id}@{action.due_on.isoformat()}"
    late = calendar.working_days_between(action.due_on, today)
    own = policy.processes.get(action.process)
    ladder = (own and own.action_escalation) or policy.actions.escalation
    for number, rung in _rungs_reached(ladder, calendar, action.due_on, now):
        yield DueNotice(
            key=notice_key(action.reference, clock, Kind.action_overdue, number),
            case_id=action.case_id,
            reference=action.reference,
            kind=Kind.action_overdue,
            clock=clock,
            rung=number,
            due_at=_rung_at(calendar, action.due_on, rung.after),
            notify=rung.notify,
            owners=(action.owner_id,),
            facts={
                "action_id": action.action_id,
                "agreed_at": action.agreed_at_step.replace("_", " "),
                "due_on": action.due_on.isoformat(),
                "working_days_late": late,
                "source": policy.actions.source,
                "rung_after": _after_lapse(rung.after),
            },
        )


def _rationale_notices(
    decision: RationaleClock, policy: Policy, calendar: WorkingCalendar, now: datetime, today: date
) -> Iterable[DueNotice]:
    clock = f"decision:{decision.decision_id}"
    due_on = calendar.day_ending_at(decision.due_at)
    facts = {
        "decision_id": decision.decision_id,
        "decision": decision.decision.replace("_", " "),
        "step": decision.step.replace("_", " "),
        "recorded_on": calendar.local_date(decision.recorded_at).isoformat(),
        "due_on": due_on.isoformat(),
        "source": policy.rationale.source,
    }
    common: dict[str, Any] = {
        "case_id": decision.case_id,
        "reference": decision.reference,
        "owners": (decision.author_id,),
        "clock": clock,
    }
    yield DueNotice(
        key=notice_key(decision.reference, clock, Kind.rationale_missing, 0),
        kind=Kind.rationale_missing,
        rung=0,
        due_at=decision.recorded_at,
        notify=policy.rationale.notify_at_once,
        facts=facts,
        **common,
    )
    late = calendar.working_days_between(due_on, today)
    for number, rung in _rungs_reached(policy.rationale.escalation, calendar, due_on, now):
        yield DueNotice(
            key=notice_key(decision.reference, clock, Kind.rationale_lapsed, number),
            kind=Kind.rationale_lapsed,
            rung=number,
            due_at=_rung_at(calendar, due_on, rung.after),
            notify=rung.notify,
            facts={**facts, "working_days_late": late, "rung_after": _after_lapse(rung.after)},
            **common,
        )


def _unacknowledged(ack: AckClock, calendar: WorkingCalendar, today: date) -> DueNotice:
    clock = f"notice:{ack.notice_id}"
    return DueNotice(
        key=notice_key(ack.reference, clock, Kind.unacknowledged, ack.depth + 1),
        case_id=ack.case_id,
        reference=ack.reference,
        kind=Kind.unacknowledged,
        clock=clock,
        rung=ack.depth + 1,
        due_at=ack.ack_due_at,
        notify=("owner_manager",),
        owners=ack.recipients,
        matter=ack.matter,
        exclude=ack.recipients,
        facts={
            "notice_id": ack.notice_id,
            "notice_kind": ack.kind.replace("_", " "),
            "ack_due_on": calendar.day_ending_at(ack.ack_due_at).isoformat(),
            "working_days_late": calendar.working_days_between(
                calendar.day_ending_at(ack.ack_due_at), today
            ),
        },
    )


# --- who receives it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """The staff directory as the sweep sees it: who is active, their roles and line managers."""

    managers: Mapping[str, str | None]  # every member of staff → line manager
    roles: Mapping[str, frozenset[Role]]  # active staff only
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def active(self, staff_id: str) -> bool:
        return staff_id in self.roles

    def manager_of(self, staff_id: str) -> str | None:
        return self.managers.get(staff_id)

    def chain(self, staff_id: str) -> list[str]:
        """Return the line managers above `staff_id`, nearest first."""
        return walk_up(staff_id, self.managers.get)

    def holders(self, role: Role) -> list[str]:
        return sorted(s for s, held in self.roles.items() if role in held)


@dataclass(frozen=True)
class CaseParties:
    """Who is who in one case: its lead, each child's IRO and social worker, and the people named
    in it by role (the lead under the process's lead role, e.g. the LADO)."""

    lead: str
    iros: tuple[str, ...] = ()
    social_workers: tuple[str, ...] = ()
    named: Mapping[Role, tuple[str, ...]] = field(default_factory=dict)
    # children whose IRO is not in our directory: (placed by, contact); their IRO's notices go to
    # the case lead, with the contact
    placed_elsewhere: tuple[tuple[str, str], ...] = ()

    def holding(self, role: Role) -> tuple[str, ...]:
        """Return the people of the case in `role`: the children's IROs or social workers, or the
        people named in that role."""
        if role is Role.iro:
            return self.iros
        if role is Role.social_worker:
            return self.social_workers
        return self.named.get(role, ())

    def includes(self, staff_id: str) -> bool:
        """True if the person is in the case: its lead, a child's IRO or social worker, or named."""
        return (
            staff_id == self.lead
            or staff_id in self.iros
            or staff_id in self.social_workers
            or any(staff_id in people for people in self.named.values())
        )

    def only(self, role: Role) -> str | None:
        """Return the one person of the case in `role`, or None when there are none or several."""
        people = self.holding(role)
        return people[0] if len(people) == 1 else None


@dataclass(frozen=True)
class Recipients:
    people: dict[str, list[str]]  # staff id → why they are told
    unfilled: tuple[str, ...]  # recipients that resolved to nobody (reported to head of service)


def resolve(notice: DueNotice, parties: CaseParties, directory: Directory) -> Recipients:
    """Return who receives `notice` in its case, and which recipients resolved to nobody.

    A role is the case's own people in it when it names any (the LADO of the case, each child's
    IRO), else looked for in the line-management chains of the people in the case (so the LADO's
    own manager, the child's IRO's own manager), then among everyone who holds it. An owner is
    never "everyone who holds the role": it is the step's assignee, else the case's own person in
    the role, else a holder in the line-management chains of the case's people. Nobody inactive is
    told. A recipient that resolves to nobody is reported: the case lead's manager receives the
    notice in place of a missing owner, the head of service in place of anyone else.
    """
    base = [
        parties.lead,
        *parties.iros,
        *parties.social_workers,
        *(p for people in parties.named.values() for p in people),
    ]
    owners = [o for o in notice.owners if o] or _owner_by_role(
        notice.owner_role, parties, directory, base
    )
    in_case = [*owners, *base]
    people: dict[str, list[str]] = {}
    unfilled: list[str] = []

    def tell(who: Iterable[str], because: str) -> bool:
        found = False
        for person in who:
            if person and directory.active(person) and person not in notice.exclude:
                reasons = people.setdefault(person, [])
                if because not in reasons:
                    reasons.append(because)
                found = True
        return found

    for token in notice.notify:
        if token == "owner":
            found = tell(owners, "owner")
        elif token == "owner_manager":
            found = tell((_first_active(directory.chain(o), directory, 0) for o in owners), token)
        elif token == "owner_senior_manager":
            found = tell((_first_active(directory.chain(o), directory, 1) for o in owners), token)
        elif token == "case_lead":
            found = tell([parties.lead], token)
        elif token in ("child_iro", "child_social_worker"):
            children = parties.iros if token == "child_iro" else parties.social_workers
            found = tell(children, token) or not children  # no child in the case: nothing to tell
            for placed_by, contact in parties.placed_elsewhere:  # their IRO is not ours to reach
                who = "IRO" if token == "child_iro" else "social worker"
                found = tell([parties.lead], f"for the {who} of a child placed by {placed_by}: pass it on ({contact})") or found  # fmt: skip
        else:
            found = tell(_by_role(token, parties, directory, in_case), token)
        if not found:
            unfilled.append(token)
    gap = [] if owners else [t for t in unfilled if t.startswith("owner")]
    others = [t for t in unfilled if t not in gap]
    if gap:  # nobody in the case owns the step
        role = (notice.owner_role or "owner").replace("_", " ")
        lead_manager = _first_active(directory.chain(parties.lead), directory, 0)
        if not tell([lead_manager], f"instead of the owner (nobody in the case is its {role})"):
            others = unfilled  # nobody above the case lead either: the head of service
    if others:
        stand_in = f"instead of {', '.join(others)} (nobody holds it)"
        tell(directory.holders(Role.head_of_service), stand_in)
    return Recipients(people, tuple(unfilled))
    if unfilled:
        stand_in = f"instead of {', '.join(unfilled)} (nobody holds it)"
        tell(directory.holders(Role.head_of_service), stand_in)
    return Recipients(people, tuple(unfilled))


def _first_active(chain: Sequence[str], directory: Directory, skip: int) -> str:
    """Return the (skip+1)-th active manager up the chain, or "" when the chain runs out."""
    active = [m for m in chain if directory.active(m)]
    return active[skip] if len(active) > skip else ""


def _owner_by_role(
    role_name: str | None, parties: CaseParties, directory: Directory, in_case: Sequence[str]
) -> list[str]:
    """The owner by role: the case's own person, else a holder near the case; never everyone."""
    if role_name is None:
        return []
    role = Role(role_name)
    if role in (Role.iro, Role.social_worker) or parties.holding(role):
        return list(parties.holding(role))
    nearby = {m for person in in_case for m in (person, *directory.chain(person))}
    return [h for h in directory.holders(role) if h in nearby]


def _by_role(
    role_name: str | None, parties: CaseParties, directory: Directory, in_case: Sequence[str]
) -> list[str]:
    if role_name is None:
        return []
    role = Role(role_name)
    if role in (Role.iro, Role.social_worker) or parties.holding(role):
        return list(parties.holding(role))  # the case's own (a child's IRO, the case's LADO)
    nearby = {m for person in in_case for m in (person, *directory.chain(person))}
    holders = directory.holders(role)
    return [h for h in holders if h in nearby] or holders

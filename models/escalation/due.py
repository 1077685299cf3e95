"""What is due at a moment (DESIGN rules 4, 6, 9 and 10): `decide(clocks, policy, calendar, now)`
returns every notice due at `now` for the clocks given; it reads no database and no wall clock, so
a test runs a 65-working-day clock in microseconds."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from models.calendar import WorkingCalendar
from models.durations import WorkingDays
from models.escalation.clocks import (
    AckClock,
    ActionClock,
    Clocks,
    DoneStep,
    DueNotice,
    FailedRecord,
    Kind,
    NewCase,
    RationaleClock,
    StepClock,
    notice_key,
)
from models.policy import Policy, ProcessPolicy, Rung, StepPolicy


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
            due.append(_failed(failed, policy, calendar))
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


def step_title(policy: Policy, process: str, step: str) -> str:
    """A step as people know it: its title in the policy (its name in words if it has none)."""
    rule = policy.processes.get(process)
    found = rule.steps.get(step) if rule else None
    return found.title if found else step.replace("_", " ").capitalize()


def _failed(failed: FailedRecord, policy: Policy, calendar: WorkingCalendar) -> DueNotice:
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
            "step": step_title(policy, failed.process, failed.step),
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
    if rule is None or rule.measured_only or rule.window or rule.unscheduled:
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
                "agreed_at": step_title(policy, action.process, action.agreed_at_step),
                "due_on": action.due_on.isoformat(),
                "working_days_late": late,
                "source": policy.actions.source,
                "rung_after": _after_lapse(rung.after),
                "top_rung": number == len(ladder),  # nobody above: another process may take it up
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
        "step": step_title(policy, decision.process, decision.step),
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
            facts={
                **facts,
                "working_days_late": late,
                "rung_after": _after_lapse(rung.after),
                "top_rung": number == len(policy.rationale.escalation),
            },
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
            "about": ack.subject,
            "ack_due_on": calendar.day_ending_at(ack.ack_due_at).isoformat(),
            "working_days_late": calendar.working_days_between(
                calendar.day_ending_at(ack.ack_due_at), today
            ),
        },
    )

"""Departures from a step's timescale (DESIGN rule 9): stopping a clock, resuming it, extending it.

Each needs a reason and an approver of the seniority the policy sets for that step; each is recorded
(append-only rows plus the audit log) and moves the step's due day, which starts a fresh escalation
clock. `views.timeliness` tells "in time", "in time with extension" and "late" apart.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import Field
from sqlmodel import Session, col, select

from models import audit
from models.calendar import WorkingCalendar
from models.cases import get_case
from models.durations import CalendarDays, CalendarMonths, WorkingDays, parse_duration
from models.enums import Role, StepStatus
from models.errors import InputError, refusal
from models.inputs import StaffId, StepInput, Text, free_text
from models.inputs import approver as approver_field
from models.permissions import require_senior, require_staff
from models.policy import Policy, StepPolicy
from models.steps.opening import latest_event
from models.tables import ClockStop, Extension, Step


class ClockStopInput(StepInput):
    """What stopping a step's clock asks (a form is generated from it; the CLI's options say the
    same): why, and who approved it."""

    reason: Text = Field(
        title="Why the clock stops",
        description="Kept on the case record, for example: the police asked us to wait for their investigation",
    )
    approver: Annotated[StaffId, approver_field()] = Field(title="Approved by")


class ExtensionInput(StepInput):
    """What extending a step's timescale asks: the new timescale (in the step's unit, up to the
    policy's legal maximum), why, who approved it, and where the law asks it, the day the person
    was told in writing."""

    to: Annotated[int, Field(ge=1, le=1000)] = Field(title="New timescale")
    reason: Text = Field(title="Why it needs longer")
    approver: Annotated[StaffId, approver_field()] = Field(title="Approved by")
    told_on: date | None = Field(
        default=None, title="Day the person was told in writing why, and of the new date"
    )


def step_and_rule(
    session: Session, policy: Policy, reference: str, name: str
) -> tuple[Step, StepPolicy]:
    """Return a case's latest step of that name and its policy, or raise InputError."""
    case = get_case(session, reference)
    rule = policy.process(case.process).step(name)
    step = session.exec(
        select(Step)
        .where(Step.case_id == case.id, Step.name == name)
        .order_by(col(Step.sequence).desc())
    ).first()
    if step is None:
        raise InputError(
            f"{reference} has no {name} step yet; 'safeguard case show {reference}' shows its steps"
        )
    return step, rule


def _reason(reason: str) -> str:
    return free_text(reason, "reason")


def _when(step: Step, at: datetime, recorded_at: datetime | None, doing: str) -> None:
    """Refuse a departure dated in the future or before its step opened."""
    if recorded_at is not None and at > recorded_at:
        raise InputError(
            f"--at {at:%Y-%m-%d %H:%M} is in the future: {doing} is recorded when it happened"
        )
    if at < step.opened_at:
        raise InputError(
            f"--at {at:%Y-%m-%d %H:%M} is before the {step.name} step opened "
            f"({step.opened_at:%Y-%m-%d %H:%M}): check the date"
        )


def stop(
    session: Session,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    reference: str,
    step_name: str,
    reason: str,
    approver_id: str,
    recorded_by: str,
    now: datetime,
    recorded_at: datetime | None = None,
) -> ClockStop:
    """Stop an open step's clock (e.g. a police investigation) as at `now`; its reviews then fall
    due. `recorded_at` is the real moment it is recorded (`now` may not be after it)."""
    step, rule = step_and_rule(session, policy, reference, step_name)
    _when(step, now, recorded_at, "a clock stop")
    if not rule.stoppable or rule.stop_approver is None:
        raise InputError(f"the {step_name} clock cannot be stopped under the policy ({rule.title})")
    if step.status is StepStatus.stopped:
        raise InputError(f"the {step_name} clock of {reference} is already stopped")
    if step.status is not StepStatus.open:
        raise InputError(f"the {step_name} step of {reference} is {step.status.value}, not open")
    last = session.exec(
        select(ClockStop).where(ClockStop.step_id == step.id).order_by(col(ClockStop.id).desc())
    ).first()
    if last is not None and last.resumed_at is not None and now < last.resumed_at:
        raise InputError(
            f"--at {now:%Y-%m-%d %H:%M} falls in the clock's earlier stop (until "
            f"{last.resumed_at:%Y-%m-%d %H:%M}): stops of one clock cannot overlap"
        )
    text = _reason(reason)
    role = require_senior(
        session, approver_id, rule.stop_approver, f"stopping the {step_name} clock"
    )
    require_staff(session, recorded_by)
    return _stop_clock(
        session,
        step,
        reason=text,
        approver=(approver_id, role),
        recorded_by=recorded_by,
        at=now,
        audit_at=now,
        action="clock.stop",
        detail={"step": step_name, "approver": approver_id},
    )


def hold(
    session: Session,
    step: Step,
    *,
    reason: str,
    recorded_by: str,
    role: Role,
    at: datetime,
    recorded_at: datetime,
) -> ClockStop:
    """Hold an open step's clock from `at`, as its process's rule requires (e.g. a disruption
    meeting while the allegation behind it is open): a stop like any other (reviewed, resumed by
    `resume`), recorded by whoever recorded the step that holds it; no approver's rank is asked,
    as it is no one's departure but the rule's."""
    return _stop_clock(
        session,
        step,
        reason=_reason(reason),
        approver=(recorded_by, role),
        recorded_by=recorded_by,
        at=at,
        audit_at=recorded_at,
        action="clock.hold",
        detail={"step": step.name},
    )


def _stop_clock(
    session: Session,
    step: Step,
    *,
    reason: str,
    approver: tuple[str, Role],
    recorded_by: str,
    at: datetime,
    audit_at: datetime,
    action: str,
    detail: dict[str, str],
) -> ClockStop:
    """Write one clock stop (a stop approved, or a hold the rules make) and its audit entry."""
    clock_stop = ClockStop(
        case_id=step.case_id,
        step_id=step.id or 0,
        reason=reason,
        approver_id=approver[0],
        approver_role=approver[1],
        recorded_by=recorded_by,
        stopped_at=at,
        due_on_before=step.due_on,
    )
    step.status = StepStatus.stopped
    session.add_all([clock_stop, step])
    session.flush()
    audit.record(
        session,
        at=audit_at,
        actor_id=recorded_by,
        action=action,
        case_id=step.case_id,
        entity="step",
        entity_id=str(step.id),
        detail={**detail, "stop": clock_stop.id},
    )
    return clock_stop


def resume(
    session: Session,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    reference: str,
    step_name: str,
    recorded_by: str,
    now: datetime,
    recorded_at: datetime | None = None,
) -> ClockStop:
    """Restart a stopped clock as at `now`: the due day moves on by the working days it stood
    still. `recorded_at` is the real moment it is recorded (`now` may not be after it)."""
    step, rule = step_and_rule(session, policy, reference, step_name)
    calendar = rule.clock_calendar(calendar)
    _when(step, now, recorded_at, "a resumed clock")
    if step.status is not StepStatus.stopped:
        raise InputError(f"the {step_name} clock of {reference} is not stopped")
    require_staff(session, recorded_by)
    clock_stop = session.exec(
        select(ClockStop).where(ClockStop.step_id == step.id, col(ClockStop.resumed_at).is_(None))
    ).one()
    if now < clock_stop.stopped_at:
        raise InputError("a clock cannot resume before it was stopped: check --at")
    stood = calendar.working_days_between(
        calendar.local_date(clock_stop.stopped_at), calendar.local_date(now)
    )
    new_due = calendar.due(step.due_on, WorkingDays(stood)).due
    clock_stop.resumed_at, clock_stop.resumed_by = now, recorded_by
    clock_stop.working_days_stopped, clock_stop.due_on_after = stood, new_due
    step.status, step.due_on, step.deadline_at = (
        StepStatus.open,
        new_due,
        calendar.end_of_day(new_due),
    )
    session.add_all([clock_stop, step])
    audit.record(
        session,
        at=now,
        actor_id=recorded_by,
        action="clock.resume",
        case_id=step.case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": step_name, "working_days_stopped": stood, "due": new_due.isoformat()},
    )
    session.flush()
    return clock_stop


def extend(
    session: Session,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    reference: str,
    step_name: str,
    to: str,
    reason: str,
    approver_id: str,
    recorded_by: str,
    now: datetime,
    recorded_at: datetime | None = None,
    told_on: date | None = None,
) -> Extension:
    """Extend an open step's timescale to `to` (e.g. "65 working days"), never past the policy's maximum."""
    step, rule = step_and_rule(session, policy, reference, step_name)
    _when(step, now, recorded_at, "an extension")
    if rule.extendable_to is None or rule.extension_approver is None:
        raise InputError(
            f"the {step_name} timescale cannot be extended under the policy ({rule.title})"
        )
    if step.status is not StepStatus.open:
        raise InputError(f"the {step_name} step of {reference} is {step.status.value}, not open")
    # An extension moves a deadline not yet passed: decided after the due day, the step is late
    # and is recorded late with its reason, never "in time with extension".
    if calendar.local_date(now) > step.due_on:
        raise InputError(
            f"an extension is decided by the day it moves: the {rule.title.lower()} was due on "
            f"{step.due_on:%-d %B %Y} and this extension is dated "
            f"{calendar.local_date(now):%-d %B %Y}; if the decision came late, record the step "
            "as late, with the reason"
        )
    if rule.extension_told and told_on is None:
        raise refusal(
            "told_on",
            f"is needed to extend the {rule.title.lower()}: the day the person was told in "
            "writing why, and "
            f"of the new date ({rule.source})",
        )
    # Told by the day it was decided, which is by the due day it moves (above): never after it.
    if told_on is not None and not (
        calendar.local_date(step.opened_at) <= told_on <= calendar.local_date(now)
    ):
        raise refusal("told_on", f"{told_on} must fall between the step's opening and today")

    text = to.strip()
    wanted = parse_duration(text if not text.isdigit() else f"{text} {_unit(rule)}")
    if type(wanted) is not type(rule.due):
        raise InputError(
            f"give the new timescale in the step's unit, e.g. --to '{rule.extendable_to}'"
        )
    if wanted.n > rule.extendable_to.n:
        raise InputError(
            f"{wanted} is past the legal maximum for {rule.title}: at most {rule.extendable_to} "
            f"({rule.source})"
        )
    event = latest_event(session, step.case_id, rule.counts_from)
    trigger = event.at if event else step.opened_at
    new_due = rule.clock_calendar(calendar).due(trigger, wanted).due
    if new_due <= step.due_on:
        raise InputError(f"{wanted} does not move the due day on from {step.due_on:%a %d %b %Y}")
    extension = Extension(
        case_id=step.case_id,
        step_id=step.id or 0,
        extended_to=str(wanted),
        reason=_reason(reason),
        approver_id=approver_id,
        approver_role=require_senior(
            session, approver_id, rule.extension_approver, f"extending {step_name}"
        ),
        recorded_by=recorded_by,
        recorded_at=now,
        due_on_before=step.due_on,
        due_on_after=new_due,
        told_on=told_on,
    )
    require_staff(session, recorded_by)
    step.due_on, step.deadline_at = new_due, calendar.end_of_day(new_due)
    session.add_all([extension, step])
    session.flush()
    audit.record(
        session,
        at=now,
        actor_id=recorded_by,
        action="clock.extend",
        case_id=step.case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": step_name, "to": str(wanted), "due": new_due.isoformat()},
    )
    return extension


def _unit(rule: StepPolicy) -> str:
    units = {
        WorkingDays: "working days",
        CalendarDays: "calendar days",
        CalendarMonths: "calendar months",
    }
    return units[type(rule.due)]

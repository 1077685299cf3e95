"""Casework services: start a case, open its steps, the one write path for people, and applying
what they recorded. Every function takes its session, the policy, the calendar and `now`.

The write path (DESIGN rule 3) is `submit`: it checks the case, the step, the person and their role,
the input and the dates, stores the submission and nothing else. The flow then `apply`s it: closes
the step, writes decisions, actions and events, in one transaction, idempotently (a replay applies
nothing twice). Writes are append-only apart from the current state of a step, an action or a case,
whose every change is also in the audit log.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import allegation, audit
from models.calendar import WorkingCalendar
from models.durations import WorkingDays
from models.enums import ActionStatus, CaseStatus, Process, Role, StepStatus
from models.errors import InputError
from models.policy import Policy
from models.staff import management_chain, roles_of
from models.tables import (
    Action,
    ActionUpdate,
    AllegationDetails,
    Case,
    CaseChild,
    CaseEvent,
    ClockStop,
    Decision,
    Extension,
    Rationale,
    Step,
    Submission,
)


@dataclass(frozen=True)
class ChildInCase:
    child_ref: str
    iro_id: str
    social_worker_id: str


@dataclass(frozen=True)
class NewAllegation:
    lado_id: str
    received_at: datetime  # aware
    aware_on: date
    carer_ref: str
    fostering_service: str
    children: Sequence[ChildInCase]
    category: str
    summary: str


# --- people ----------------------------------------------------------------------------------------


def _require_role(
    session: Session, staff_id: str, allowed: set[Role] | frozenset[Role], doing: str
) -> Role:
    held = roles_of(session, staff_id)
    matching = [r for r in Role if r in held and r in allowed]
    if not matching:
        raise InputError(
            f"{staff_id} may not {doing}: that needs the role {' or '.join(sorted(allowed))} "
            f"({staff_id} has {', '.join(sorted(held)) or 'no role'})"
        )
    return matching[0]


# --- starting a case -------------------------------------------------------------------------------


def start_allegation(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    new: NewAllegation,
    now: datetime,
) -> Case:
    """Create the case, its details, children and first facts; return the case (no flow run yet)."""
    _require_role(session, new.lado_id, {Role.lado}, "start an allegation case")
    if new.received_at > now:
        raise InputError(
            f"the referral cannot be received in the future ({new.received_at:%Y-%m-%d %H:%M})"
        )
    if new.aware_on > calendar.local_date(new.received_at):
        raise InputError(
            "the organisation cannot become aware after the LADO received the referral: check --aware"
        )
    for label, value in (
        ("carer", new.carer_ref),
        ("fostering service", new.fostering_service),
        ("category", new.category),
        ("summary", new.summary),
    ):
        if not value.strip():
            raise InputError(f"the {label} is required")
    if not new.children:
        raise InputError("name at least one child: --child CHILD_REF:IRO_ID:SOCIAL_WORKER_ID")
    refs = [c.child_ref for c in new.children]
    if len(set(refs)) != len(refs):
        raise InputError("a child is listed twice")
    for child in new.children:
        _require_role(session, child.iro_id, {Role.iro}, f"be the IRO of {child.child_ref}")
        _require_role(
            session,
            child.social_worker_id,
            {Role.social_worker},
            f"be the social worker of {child.child_ref}",
        )

    process = policy.process(Process.allegation)
    referral = process.step("referral")
    referral_due = calendar.due(new.aware_on, referral.due)
    aware_at = datetime.combine(new.aware_on, time(0), tzinfo=calendar.tz)
    case = Case(
        reference=_next_reference(session, process.reference_prefix, new.received_at.year),
        process=Process.allegation,
        opened_at=new.received_at,
        opened_by=new.lado_id,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    session.add(
        AllegationDetails(
            case_id=case.id,
            received_at=new.received_at,
            aware_on=new.aware_on,
            referral_late=new.received_at >= referral_due.deadline,
            carer_ref=new.carer_ref.strip(),
            fostering_service=new.fostering_service.strip(),
            category=new.category.strip(),
            summary=new.summary.strip(),
        )
    )
    session.add_all(
        CaseChild(
            case_id=case.id,
            child_ref=c.child_ref,
            iro_id=c.iro_id,
            social_worker_id=c.social_worker_id,
        )
        for c in new.children
    )
    session.add(CaseEvent(case_id=case.id, name="aware", at=aware_at))
    session.add(CaseEvent(case_id=case.id, name="referral_received", at=new.received_at))
    # The referral itself is measured, not waited for: recorded in time or late.
    session.add(
        Step(
            case_id=case.id,
            name="referral",
            owner_id=None,
            status=StepStatus.closed,
            opened_at=aware_at,
            due_on=referral_due.due,
            deadline_at=referral_due.deadline,
            closed_at=new.received_at,
        )
    )
    audit.record(
        session,
        at=now,
        actor_id=new.lado_id,
        action="case.start",
        case_id=case.id,
        entity="case",
        entity_id=case.reference,
        detail={"process": "allegation", "children": len(new.children)},
    )
    session.flush()
    return case


def _next_reference(session: Session, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    count = session.exec(
        select(func.count()).select_from(Case).where(col(Case.reference).startswith(stem))
    ).one()
    return f"{stem}{count + 1:04d}"


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


# --- steps (the flow's side) ----------------------------------------------------------------------


def open_step(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    name: str,
    sequence: int = 1,
) -> Step:
    """Open a step's clock (idempotent by case, step and sequence): it counts from its event."""
    existing = _step(session, case_id, name, sequence)
    if existing is not None:
        return existing
    case = case_by_id(session, case_id)
    rule = policy.process(case.process).step(name)
    event = latest_event(session, case_id, rule.counts_from)
    if event is None:
        raise RuntimeError(f"{case.reference}: cannot open {name}: no {rule.counts_from} event yet")
    due = calendar.due(event.at, rule.due)
    step = Step(
        case_id=case_id,
        name=name,
        sequence=sequence,
        owner_id=case.opened_by if rule.owner in (Role.lado,) else None,
        opened_at=event.at,
        due_on=due.due,
        deadline_at=due.deadline,
    )
    session.add(step)
    session.flush()
    audit.record(
        session,
        at=event.at,
        action="step.open",
        case_id=case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": name, "sequence": sequence, "due": due.due.isoformat()},
    )
    return step


def latest_event(session: Session, case_id: int, name: str) -> CaseEvent | None:
    """Return the latest event of that name in the case (what a step's clock counts from)."""
    return session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.name == name)
        .order_by(col(CaseEvent.sequence).desc())
    ).first()


def step_of(session: Session, case_id: int, name: str, sequence: int = 1) -> Step:
    """Return an opened step (the flow's side)."""
    step = _step(session, case_id, name, sequence)
    if step is None:
        raise RuntimeError(f"case {case_id}: {name} {sequence} has not been opened")
    return step


def _step(session: Session, case_id: int, name: str, sequence: int) -> Step | None:
    return session.exec(
        select(Step).where(Step.case_id == case_id, Step.name == name, Step.sequence == sequence)
    ).first()


def submission_for(session: Session, case_id: int, name: str, sequence: int) -> Submission | None:
    """Return the stored submission of a step, if someone has recorded it."""
    step = _step(session, case_id, name, sequence)
    if step is None:
        return None
    return session.exec(
        select(Submission).where(Submission.step_id == step.id).order_by(col(Submission.id))
    ).first()


def recorded_not_applied(session: Session) -> list[tuple[str, str, str, int]]:
    """Return (case reference, flow run id, step, sequence) of every open step of an open case
    whose submission is stored but not yet applied: a run that was never resumed after `record`."""
    rows = session.exec(
        select(Case.reference, Case.flow_run_id, Step.name, Step.sequence)
        .join(Step, col(Step.case_id) == Case.id)
        .join(Submission, col(Submission.step_id) == Step.id)
        .where(Case.status == CaseStatus.open, Step.status == StepStatus.open)
        .where(col(Submission.applied_at).is_(None), col(Case.flow_run_id).is_not(None))
    ).all()
    return [(ref, str(run_id), name, sequence) for ref, run_id, name, sequence in rows]


def open_steps(session: Session, case_id: int) -> list[Step]:
    """Return the case's open steps, earliest due first."""
    return list(
        session.exec(
            select(Step)
            .where(Step.case_id == case_id, Step.status == StepStatus.open)
            .order_by(col(Step.deadline_at))
        )
    )


# --- the write path for people ---------------------------------------------------------------------


def submit(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    reference: str,
    step_name: str,
    author_id: str,
    payload: Any,
    at: datetime | None,
    key: str | None,
    now: datetime,
) -> tuple[Submission, Step]:
    """Check and store what a person recorded for an open step; return it with its step.

    Nothing is stored unless everything holds. The same `key` sent again returns the first submission.
    """
    case = get_case(session, reference)
    if key:
        earlier = session.exec(select(Submission).where(Submission.idempotency_key == key)).first()
        if earlier is not None:
            step = session.get(Step, earlier.step_id)
            if earlier.case_id != case.id or step is None or step.name != step_name:
                raise InputError(
                    f"--key {key!r} was already used for another submission; use a new key"
                )
            return earlier, step
    step_rule = allegation.rule(step_name)
    if case.status is not CaseStatus.open:
        raise InputError(f"{reference} is closed; nothing more can be recorded")
    step = session.exec(
        select(Step)
        .where(Step.case_id == case.id, Step.name == step_name, Step.status == StepStatus.open)
        .order_by(col(Step.sequence).desc())
    ).first()
    if step is None:
        waiting = (
            ", ".join(s.name for s in open_steps(session, case.id or 0))
            or "none (the flow has not opened one yet)"
        )
        raise InputError(f"{step_name} is not open in {reference}; open steps: {waiting}")
    earlier = session.exec(select(Submission).where(Submission.step_id == step.id)).first()
    if earlier is not None:
        raise InputError(
            f"{step_name} of {reference} was already recorded (submission {earlier.id}) and waits for the flow "
            f"to apply it; if it does not, run 'safeguard case repair {reference}'"
        )
    role = _require_role(session, author_id, step_rule.may_record, f"record {step_name}")
    if (
        step_rule.chair_only
        and author_id != step.owner_id
        and Role.lado_manager not in roles_of(session, author_id)
    ):
        raise InputError(
            f"only the chair ({step.owner_id}) or a LADO manager may record this {step_name}"
        )
    data = allegation.parse_input(step_name, payload)
    effective = at or now
    if effective > now:
        raise InputError(
            f"--at {effective:%Y-%m-%d %H:%M} is in the future; give when it actually happened"
        )
    if effective < step.opened_at:
        raise InputError(
            f"--at {effective:%Y-%m-%d %H:%M} is before {step_name} opened ({step.opened_at:%Y-%m-%d %H:%M}); check the date"
        )
    _check_dates(session, case, step, data, calendar, effective)
    payload_json = data.model_dump(mode="json", exclude_none=True)
    assert case.id is not None
    submission = Submission(
        case_id=case.id,
        step_id=step.id,
        kind=step_name,
        author_id=author_id,
        author_role=role,
        effective_at=effective,
        recorded_at=now,
        idempotency_key=key or None,
        payload=payload_json,
    )
    session.add(submission)
    try:
        session.flush()
    except IntegrityError:
        raise InputError(f"--key {key!r} was already used; use a new key") from None
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="step.submit",
        case_id=case.id,
        entity="submission",
        entity_id=str(submission.id),
        detail={"step": step_name, "sequence": step.sequence},
    )
    return submission, step


def _check_dates(
    session: Session,
    case: Case,
    step: Step,
    data: Any,
    calendar: WorkingCalendar,
    effective: datetime,
) -> None:
    today = calendar.local_date(effective)
    opened = calendar.local_date(step.opened_at)
    for name in ("held_on", "carer_told_on", "fostering_service_told_on", "presented_to_panel_on"):
        day = getattr(data, name, None)
        if day is not None and not opened <= day <= today:
            raise InputError(
                f"{name} {day} must fall between {opened} (the step opened) and {today} (--at)"
            )
    if isinstance(data, allegation.Meeting):
        for new in data.actions:
            roles_of(session, new.owner)  # the owner must exist
            if isinstance(new.due, date) and new.due < data.held_on:
                raise InputError(
                    f"action {new.title!r} is due {new.due}, before the meeting ({data.held_on})"
                )
    if isinstance(data, allegation.Review):
        open_ids = list(
            session.exec(
                select(Action.id).where(
                    Action.case_id == case.id, Action.status == ActionStatus.open
                )
            )
        )
        missing = allegation.unaccounted([i for i in open_ids if i is not None], data)
        if missing:
            titles = {
                a.id: a.title
                for a in session.exec(select(Action).where(col(Action.id).in_(missing)))
            }
            named = "; ".join(f"{i} ({titles[i]})" for i in missing)
            raise InputError(
                f"the review leaves open actions unaccounted for: {named}; say of each: done, "
                "carried_forward (reason, new_due) or not_needed (reason)"
            )
        unknown = sorted({a.action_id for a in data.accounted} - set(open_ids))
        if unknown:
            raise InputError(
                f"not an open action of {case.reference}: {', '.join(map(str, unknown))}"
            )
        for account in data.accounted:
            if isinstance(account.new_due, date) and account.new_due < data.held_on:
                raise InputError(
                    f"action {account.action_id}: new_due {account.new_due} is before the review"
                )


# --- applying a submission (the flow's side) --------------------------------------------------------


def apply(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    name: str,
    sequence: int,
    now: datetime,
) -> dict[str, Any]:
    """Apply a step's stored submission to the case; return what the flow branches on.

    Idempotent: a submission already applied is not applied again, and the same summary comes back.
    """
    step = _step(session, case_id, name, sequence)
    submission = submission_for(session, case_id, name, sequence)
    if step is None or submission is None:
        raise RuntimeError(f"case {case_id}: nothing recorded for {name} {sequence}")
    data = allegation.parse_input(name, submission.payload)
    summary = {
        "route": getattr(data, "route", None),
        "ready_for_outcome": getattr(data, "ready_for_outcome", None),
        "skipped": bool(getattr(data, "skipped_reason", None)),
    }
    if submission.applied_at is not None:
        return summary
    at, author, role = submission.effective_at, submission.author_id, submission.author_role

    def decide(kind: str, value: str, rationale: str | None) -> None:
        decision = Decision(
            case_id=case_id,
            step_id=step.id,
            submission_id=submission.id,
            kind=kind,
            value=value,
            author_id=author,
            author_role=role,
            decided_at=at,
            recorded_at=submission.recorded_at,
            rationale_due_at=None if rationale else calendar.due(at, policy.rationale.due).deadline,
        )
        session.add(decision)
        session.flush()
        if rationale:
            assert decision.id is not None
            session.add(
                Rationale(
                    decision_id=decision.id,
                    text=rationale,
                    author_id=author,
                    author_role=role,
                    recorded_at=submission.recorded_at,
                )
            )

    if isinstance(data, allegation.InitialConsideration):
        threshold = (
            f"threshold met ({', '.join(data.limbs)})"
            if data.threshold_met
            else "threshold not met"
        )
        decide("threshold_and_route", f"{threshold}; route: {data.route.value}", data.rationale)
    elif isinstance(data, allegation.Meeting):
        meeting_number = sequence + (1 if name == "review_meeting" else 0)
        session.add(
            CaseEvent(
                case_id=case_id,
                name="meeting_held",
                sequence=meeting_number,
                at=datetime.combine(data.held_on, time(0), tzinfo=calendar.tz),
            )
        )
        for new in data.actions:
            due = (
                new.due
                if isinstance(new.due, date)
                else calendar.due(data.held_on, WorkingDays(new.due)).due
            )
            session.add(
                Action(
                    case_id=case_id,
                    step_id=step.id,
                    title=new.title,
                    owner_id=new.owner,
                    due_on=due,
                    created_at=submission.recorded_at,
                    created_by=author,
                )
            )
        if isinstance(data, allegation.Review):
            for account in data.accounted:
                _account_for(session, calendar, account, data.held_on, submission)
    elif isinstance(data, allegation.Outcome):
        decide("outcome", data.category.value, data.rationale)
        decide(
            "dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason
        )
        session.add(CaseEvent(case_id=case_id, name="outcome_recorded", at=at))
    elif isinstance(data, allegation.ApprovalReview) and data.skipped_reason:
        decide("approval_review_skipped", "skipped", data.skipped_reason)

    step.status = StepStatus.skipped if summary["skipped"] else StepStatus.closed
    step.closed_at = at
    submission.applied_at = now
    session.add(step)
    session.add(submission)
    audit.record(
        session,
        at=now,
        actor_id=author,
        action="step.apply",
        case_id=case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": name, "sequence": sequence, "submission": submission.id},
    )
    session.flush()
    return summary


def _account_for(
    session: Session, calendar: WorkingCalendar, account: Any, held_on: date, submission: Submission
) -> None:
    action = session.get(Action, account.action_id)
    assert action is not None and action.id is not None
    new_due = None
    if account.status == "carried_forward":
        new_due = (
            account.new_due
            if isinstance(account.new_due, date)
            else calendar.due(held_on, WorkingDays(account.new_due)).due
        )
        action.due_on = new_due
    else:
        action.status = ActionStatus.done if account.status == "done" else ActionStatus.not_needed
    session.add(action)
    session.add(
        ActionUpdate(
            action_id=action.id,
            status=action.status,
            reason=account.reason,
            new_due_on=new_due,
            author_id=submission.author_id,
            author_role=submission.author_role,
            recorded_at=submission.recorded_at,
            submission_id=submission.id,
        )
    )


def close_case(*, session: Session, case_id: int, now: datetime) -> None:
    """Close the case (idempotent); its closing time is its last step's."""
    case = case_by_id(session, case_id)
    if case.status is CaseStatus.closed:
        return
    last = session.exec(select(func.max(Step.closed_at)).where(Step.case_id == case_id)).one()
    case.status, case.closed_at = CaseStatus.closed, last or now
    session.add(case)
    audit.record(
        session,
        at=now,
        action="case.close",
        case_id=case_id,
        entity="case",
        entity_id=case.reference,
    )


# --- rationale and actions -------------------------------------------------------------------------


def add_rationale(
    *, session: Session, decision_id: int, text: str, author_id: str, now: datetime
) -> Rationale:
    """Add the reasons for a decision (append-only); its author or their managers may."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise InputError(
            f"no decision {decision_id}; 'safeguard case show CASE' lists each decision's id"
        )
    if not text.strip():
        raise InputError("the rationale is empty: say why the decision was made")
    held = roles_of(session, author_id)
    if author_id != decision.author_id and author_id not in management_chain(
        session, decision.author_id
    ):
        raise InputError(
            f"only {decision.author_id} (who decided) or their line managers may give its rationale"
        )
    role = decision.author_role if decision.author_role in held else sorted(held)[0]
    rationale = Rationale(
        decision_id=decision_id,
        text=text.strip(),
        author_id=author_id,
        author_role=Role(role),
        recorded_at=now,
    )
    session.add(rationale)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="rationale.add",
        case_id=decision.case_id,
        entity="decision",
        entity_id=str(decision_id),
    )
    return rationale


def update_action(
    *,
    session: Session,
    calendar: WorkingCalendar,
    action_id: int,
    status: str,
    reason: str | None,
    new_due: date | None,
    author_id: str,
    now: datetime,
) -> Action:
    """Change an action's status: its owner, their line managers or a LADO manager may."""
    action = session.get(Action, action_id)
    if action is None:
        raise InputError(f"no action {action_id}; 'safeguard case show CASE' lists the actions")
    if action.status is not ActionStatus.open:
        raise InputError(
            f"action {action_id} is already {action.status.value}; a review can record more"
        )
    held = roles_of(session, author_id)
    if (
        author_id != action.owner_id
        and author_id not in management_chain(session, action.owner_id)
        and Role.lado_manager not in held
    ):
        raise InputError(
            f"only the action's owner ({action.owner_id}), their line managers or a LADO manager may update it"
        )
    if status not in ("done", "not_needed", "carried_forward"):
        raise InputError(f"status {status!r} is not one of done, not_needed, carried_forward")
    if status != "done" and not (reason and reason.strip()):
        raise InputError(f"an action marked {status} needs --reason")
    if status == "carried_forward":
        if new_due is None or new_due <= calendar.local_date(now):
            raise InputError("an action carried forward needs --due, a date after today")
        action.due_on = new_due
    else:
        action.status = ActionStatus(status)
    session.add(action)
    session.add(
        ActionUpdate(
            action_id=action_id,
            status=action.status,
            reason=reason,
            new_due_on=new_due if status == "carried_forward" else None,
            author_id=author_id,
            author_role=sorted(held)[0],
            recorded_at=now,
        )
    )
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="action.update",
        case_id=action.case_id,
        entity="action",
        entity_id=str(action_id),
        detail={"status": status},
    )
    session.flush()
    return action


# --- views --------------------------------------------------------------------------------------------


def case_view(
    *, session: Session, policy: Policy, calendar: WorkingCalendar, reference: str, now: datetime
) -> dict[str, Any]:
    """Return the case's timeline: steps, decisions with rationale, actions and their history."""
    case = get_case(session, reference)
    today = calendar.local_date(now)
    details = session.get(AllegationDetails, case.id)
    steps = list(
        session.exec(
            select(Step).where(Step.case_id == case.id).order_by(col(Step.opened_at), col(Step.id))
        )
    )
    decisions = list(
        session.exec(select(Decision).where(Decision.case_id == case.id).order_by(col(Decision.id)))
    )
    rationales: dict[int, list[Rationale]] = {}
    for r in session.exec(
        select(Rationale)
        .where(col(Rationale.decision_id).in_([d.id for d in decisions]))
        .order_by(col(Rationale.id))
    ):
        rationales.setdefault(r.decision_id, []).append(r)
    actions = list(
        session.exec(select(Action).where(Action.case_id == case.id).order_by(col(Action.id)))
    )
    updates: dict[int, list[ActionUpdate]] = {}
    for u in session.exec(
        select(ActionUpdate)
        .where(col(ActionUpdate.action_id).in_([a.id for a in actions]))
        .order_by(col(ActionUpdate.id))
    ):
        updates.setdefault(u.action_id, []).append(u)
    children = list(session.exec(select(CaseChild).where(CaseChild.case_id == case.id)))
    extended: dict[int, list[Extension]] = {}
    for e in session.exec(
        select(Extension).where(Extension.case_id == case.id).order_by(col(Extension.id))
    ):
        extended.setdefault(e.step_id, []).append(e)
    stopped: dict[int, list[ClockStop]] = {}
    for c in session.exec(
        select(ClockStop).where(ClockStop.case_id == case.id).order_by(col(ClockStop.id))
    ):
        stopped.setdefault(c.step_id, []).append(c)
    outcome_target = None
    if details is not None:
        outcome = next((d for d in decisions if d.kind == "outcome"), None)
        end = outcome.decided_at if outcome else now
        targets = policy.process(case.process).step("outcome").targets
        met = [str(t) for t in targets if end < calendar.due(details.received_at, t).deadline]
        outcome_target = {
            "measured_to": "outcome" if outcome else "now",
            "within": met[0] if met else "beyond every target",
        }
    return {
        "reference": case.reference,
        "process": case.process.value,
        "status": case.status.value,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "lado": case.opened_by,
        "flow_run_id": case.flow_run_id,
        "referral": None
        if details is None
        else {
            "received_at": details.received_at.isoformat(),
            "aware_on": details.aware_on.isoformat(),
            "late": details.referral_late,
            "carer": details.carer_ref,
            "fostering_service": details.fostering_service,
            "category": details.category,
            "summary": details.summary,
        },
        "children": [
            {"child": c.child_ref, "iro": c.iro_id, "social_worker": c.social_worker_id}
            for c in children
        ],
        "time_to_outcome": outcome_target,
        "steps": [
            _step_view(s, calendar, today, extended.get(s.id or 0, []), stopped.get(s.id or 0, []))
            for s in steps
        ],
        "decisions": [
            {
                "id": d.id,
                "kind": d.kind,
                "value": d.value,
                "author": d.author_id,
                "role": d.author_role.value,
                "decided_at": d.decided_at.isoformat(),
                "rationale": [
                    {
                        "text": r.text,
                        "author": r.author_id,
                        "recorded_at": r.recorded_at.isoformat(),
                    }
                    for r in rationales.get(d.id or 0, [])
                ],
                "rationale_due": None
                if rationales.get(d.id or 0) or d.rationale_due_at is None
                else d.rationale_due_at.isoformat(),
                "rationale_due_day": None
                if rationales.get(d.id or 0) or d.rationale_due_at is None
                else calendar.day_ending_at(d.rationale_due_at).isoformat(),
            }
            for d in decisions
        ],
        "actions": [
            {
                "id": a.id,
                "title": a.title,
                "owner": a.owner_id,
                "due": a.due_on.isoformat(),
                "status": a.status.value,
                "overdue": a.status is ActionStatus.open and a.due_on < today,
                "history": [
                    {
                        "status": u.status.value,
                        "reason": u.reason,
                        "new_due": u.new_due_on.isoformat() if u.new_due_on else None,
                        "by": u.author_id,
                        "at": u.recorded_at.isoformat(),
                    }
                    for u in updates.get(a.id or 0, [])
                ],
            }
            for a in actions
        ],
    }


def timeliness(
    step: Step,
    extensions: Sequence[Extension],
    stops: Sequence[ClockStop],
    calendar: WorkingCalendar,
    today: date,
) -> str:
    """Return how a step stands against its timescale, for reports.

    Closed: "in time" (by its first due day), "in time with extension" or "in time (clock stopped)"
    (by the due day an extension or a stop moved it to), or "late". Not closed: "open", "stopped"
    or "overdue".
    """
    original = min(
        [e.due_on_before for e in extensions] + [s.due_on_before for s in stops],
        default=step.due_on,
    )
    if step.closed_at is None:
        if step.status is StepStatus.stopped:
            return "stopped"
        return "overdue" if today > step.due_on else "open"
    closed_day = calendar.local_date(step.closed_at)
    if closed_day <= original:
        return "in time"
    if closed_day <= step.due_on:
        return "in time with extension" if extensions else "in time (clock stopped)"
    return "late"


def _step_view(
    step: Step,
    calendar: WorkingCalendar,
    today: date,
    extensions: Sequence[Extension] = (),
    stops: Sequence[ClockStop] = (),
) -> dict[str, Any]:
    late = (step.closed_at >= step.deadline_at) if step.closed_at else (today > step.due_on)
    left = (
        calendar.working_days_between(today, step.due_on)
        if step.status is StepStatus.open
        else None
    )
    return {
        "step": step.name,
        "sequence": step.sequence,
        "status": step.status.value,
        "owner": step.owner_id,
        "opened": step.opened_at.isoformat(),
        "due": step.due_on.isoformat(),
        "closed": step.closed_at.isoformat() if step.closed_at else None,
        "late": late,
        "timeliness": timeliness(step, extensions, stops, calendar, today),
        "extensions": [
            {
                "to": e.extended_to,
                "from_due": e.due_on_before.isoformat(),
                "reason": e.reason,
                "approver": e.approver_id,
            }
            for e in extensions
        ],
        "stops": [
            {
                "stopped_at": c.stopped_at.isoformat(),
                "reason": c.reason,
                "approver": c.approver_id,
                "resumed_at": c.resumed_at.isoformat() if c.resumed_at else None,
                "working_days_stopped": c.working_days_stopped,
            }
            for c in stops
        ],
        "working_days_left": left,
    }


def status_rows(
    *, session: Session, calendar: WorkingCalendar, now: datetime, process: Process | None = None
) -> list[dict[str, Any]]:
    """Return one row per open case: where it is, when that is due, what is overdue or missing."""
    today = calendar.local_date(now)
    query = select(Case).where(Case.status == CaseStatus.open).order_by(col(Case.id))
    if process is not None:
        query = query.where(Case.process == process)
    rows = []
    for case in session.exec(query):
        steps = open_steps(session, case.id or 0)
        current = steps[0] if steps else None
        overdue_actions = session.exec(
            select(func.count())
            .select_from(Action)
            .where(
                Action.case_id == case.id,
                Action.status == ActionStatus.open,
                col(Action.due_on) < today,
            )
        ).one()
        with_rationale = select(Rationale.decision_id)
        missing = session.exec(
            select(func.count())
            .select_from(Decision)
            .where(
                Decision.case_id == case.id,
                col(Decision.rationale_due_at).is_not(None),
                col(Decision.id).not_in(with_rationale),
            )
        ).one()
        left = calendar.working_days_between(today, current.due_on) if current else None
        rows.append(
            {
                "reference": case.reference,
                "process": case.process.value,
                "step": ", ".join(
                    s.name if s.sequence == 1 else f"{s.name} {s.sequence}" for s in steps
                )
                or "-",
                "due": current.due_on.isoformat() if current else None,
                "working_days_left": left,
                "overdue": bool(current and today > current.due_on),
                "actions_overdue": overdue_actions,
                "rationale_missing": missing,
                "flow_run_id": case.flow_run_id,
            }
        )
    return rows

"""Steps: opening their clocks, the one write path for people, and applying what they recorded.

The write path (DESIGN rule 3) is `submit`: it checks the case, the step, the person and their
role, the input (each field's own rules, then the step's `check`) and stores the submission,
nothing else. The flow then `apply`s it: closes the step and writes what the step's declaration
says (decisions, events, actions, accounts of earlier actions) in one transaction, idempotently
(a replay applies nothing twice). The engine reaches the process only through the registry.

Several steps may be open at once (a phase): they share the flow's suspend key (`wait_key`), and
the flow waits until each is recorded (`advance`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col, select

from models import audit, followup, registry
from models.calendar import WorkingCalendar
from models.cases import (
    case_by_id,
    child_of,
    details_of,
    get_case,
    keep_details,
    link_cases,
    parties_of,
    start_case,
)
from models.db import database_message
from models.durations import WorkingDays
from models.enums import CaseStatus, Role, StepStatus
from models.errors import InputError
from models.inputs import ActionAccount, NewAction, free_text, parse
from models.permissions import DirectoryContext, require_chair, require_role
from models.policy import Policy, StepPolicy
from models.process import StepDecl, upgraded
from models.tables import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseParty,
    Decision,
    Rationale,
    Step,
    Submission,
)

KEY_MAX = 128  # submissions.idempotency_key


def wait_key(name: str, sequence: int = 1) -> str:
    """Return the flow's suspend key for a step or a phase: lowercase letters, digits and dashes
    only (prefect-notes rule 1), stable across deployments."""
    return f"{name.replace('_', '-')}-{sequence}"


def again(key: str, attempt: int) -> str:
    """Return the key of a later wait at the same place (a resume that found it not yet recorded)."""
    return key if attempt == 0 else f"{key}-again-{attempt}"


# --- opening (the flow's side) --------------------------------------------------------------------


def open_steps(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    names: Sequence[str],
    sequence: int = 1,
    key: str | None = None,
    now: datetime | None = None,
) -> list[Step]:
    """Open these steps' clocks together (idempotent by case, step and sequence); each counts from
    its own event. The flow waits for them under `key` (default: the first step's own key).

    A step whose event is still to come (a planned ending's day) opens `now`, when the flow opens
    it, and is due from the event: it cannot open in the future."""
    key = key or wait_key(names[0], sequence)
    case = case_by_id(session, case_id)
    parties = parties_of(session, [case_id])[case_id]
    opened = []
    for name in names:
        existing = _step(session, case_id, name, sequence)
        if existing is not None:
            if existing.status is not StepStatus.closed and existing.wait_key != key:
                existing.wait_key = key  # the flow now waits for it elsewhere (e.g. in a phase)
                session.add(existing)
            opened.append(existing)
            continue
        rule = policy.process(case.process).step(name)
        event = latest_event(session, case_id, rule.counts_from)
        if event is None:
            raise RuntimeError(
                f"{case.reference}: cannot open {name}: no {rule.counts_from} event yet"
            )
        due = rule.clock_calendar(calendar).due(event.at, rule.due)
        agreed = _agreed(session, case_id, rule.agreed_by, event.sequence)
        if agreed is not None and calendar.local_date(agreed.at) < due.due:
            due = rule.clock_calendar(calendar).due(agreed.at, WorkingDays(0))
        step = Step(
            case_id=case_id,
            name=name,
            sequence=sequence,
            owner_id=parties.only(rule.owner),  # the case's one person in the owner's role
            opened_at=min(event.at, now) if now is not None else event.at,
            due_on=due.due,
            deadline_at=due.deadline,
            wait_key=key,
        )
        session.add(step)
        session.flush()
        audit.record(
            session,
            at=step.opened_at,
            action="step.open",
            case_id=case_id,
            entity="step",
            entity_id=str(step.id),
            detail={"step": name, "sequence": sequence, "due": due.due.isoformat()},
        )
        opened.append(step)
    return opened


def latest_event(session: Session, case_id: int, name: str) -> CaseEvent | None:
    """Return the latest event of that name in the case (what a step's clock counts from)."""
    return session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.name == name)
        .order_by(col(CaseEvent.sequence).desc())
    ).first()


def _agreed(session: Session, case_id: int, name: str | None, sequence: int) -> CaseEvent | None:
    """Return the event naming the day agreed for a step (e.g. the next review), if any."""
    if name is None:
        return None
    return session.exec(
        select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.name == name, CaseEvent.sequence == sequence
        )
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


def step_exists(session: Session, case_id: int, name: str, sequence: int = 1) -> bool:
    """True if the case's step of that name (and sequence) has been opened."""
    return _step(session, case_id, name, sequence) is not None


def submission_for(session: Session, case_id: int, name: str, sequence: int) -> Submission | None:
    """Return the stored submission of a step, if someone has recorded it."""
    step = _step(session, case_id, name, sequence)
    if step is None:
        return None
    return live_submission(session, step.id or 0)


def recorded_keys(session: Session, case_id: int) -> set[str]:
    """Return the wait keys of the case's open steps whose record is stored but not applied."""
    return {
        s.wait_key or wait_key(s.name, s.sequence)
        for s in open_steps_of(session, case_id)
        if submission_for(session, case_id, s.name, s.sequence) is not None
    }


def stalled(session: Session, now: datetime, before: datetime) -> list[Case]:
    """Return the open cases that should have moved and have not: a record stored by `now` and not
    applied; or, started (or last moved) by `before`, no open step at all (a run that died before
    opening the next) or no flow run (Prefect failed as the case was stored)."""
    unapplied = (
        select(Submission.case_id)
        .join(Step, col(Step.id) == Submission.step_id)
        .where(Step.status == StepStatus.open, col(Submission.applied_at).is_(None))
        .where(col(Submission.failed_at).is_(None), col(Submission.recorded_at) <= now)
    )
    has_open = select(Step.case_id).where(
        col(Step.status).in_([StepStatus.open, StepStatus.stopped])
    )
    moved_lately = select(Submission.case_id).where(col(Submission.applied_at) > before)
    started_by = select(AuditEntry.case_id).where(
        AuditEntry.action == "case.start", col(AuditEntry.at) <= before
    )
    quiet = col(Case.id).in_(started_by) & col(Case.id).not_in(moved_lately)
    return list(
        session.exec(
            select(Case)
            .where(Case.status == CaseStatus.open)
            .where(
                col(Case.id).in_(unapplied)
                | (quiet & (col(Case.id).not_in(has_open) | col(Case.flow_run_id).is_(None)))
            )
            .order_by(col(Case.id))
        ).all()
    )


def settled(session: Session, submission_id: int) -> bool:
    """True once the flow has applied the record, or found it could not (or it is unknown)."""
    stored = session.get(Submission, submission_id)
    return stored is None or stored.applied_at is not None or stored.failed_at is not None


def being_applied(session: Session, case_id: int) -> list[Submission]:
    """Return the case's records stored but not yet applied by its flow (nor failed)."""
    return list(
        session.exec(
            select(Submission)
            .where(
                Submission.case_id == case_id,
                col(Submission.applied_at).is_(None),
                col(Submission.failed_at).is_(None),
            )
            .order_by(col(Submission.id))
        )
    )


def open_steps_of(session: Session, case_id: int) -> list[Step]:
    """Return the case's open steps, earliest due first."""
    return list(
        session.exec(
            select(Step)
            .where(Step.case_id == case_id, Step.status == StepStatus.open)
            .order_by(col(Step.deadline_at), col(Step.id))
        )
    )


# --- the write path for people -------------------------------------------------------------------


class _Check:
    """The CheckContext a step's `check` is given."""

    def __init__(
        self,
        session: Session,
        case: Case,
        policy: Policy,
        calendar: WorkingCalendar,
        now: datetime,
    ) -> None:
        self.session, self.case, self.reference = session, case, case.reference
        self.policy, self.calendar, self.now = policy, calendar, now
        self.details = details_of(case)
        self.parties = parties_of(session, [case.id or 0])[case.id or 0]

    def latest_agreed(self, step: str, after: date) -> date | None:
        return _latest_agreed(self.policy, self.calendar, self.case.process, step, after)

    def child(self, ref: str) -> dict[str, str] | None:
        return child_of(self.session, self.case.id or 0, ref)

    def rule(self, step: str) -> StepPolicy:
        return self.policy.process(self.case.process).step(step)

    def try_start(self, process: str, author: str, payload: Mapping[str, Any]) -> None:
        savepoint = self.session.begin_nested()  # as the start would be; then nothing kept
        try:
            start_case(
                session=self.session,
                policy=self.policy,
                calendar=self.calendar,
                process=process,
                author_id=author,
                payload=dict(payload),
                now=self.now,
            )
        finally:
            savepoint.rollback()

    def require_every_open_action_accounted(
        self, accounted: Sequence[ActionAccount], held_on: date
    ) -> None:
        followup.require_accounted(self.session, self.case, accounted, held_on)

    def due_of(self, step: str) -> date | None:
        found = self.session.exec(
            select(Step)
            .where(Step.case_id == self.case.id, Step.name == step)
            .order_by(col(Step.sequence).desc())
        ).first()
        return found.due_on if found else None

    def was_late(self, step: str) -> bool:
        done = self.session.exec(
            select(Step)
            .where(Step.case_id == self.case.id, Step.name == step)
            .order_by(col(Step.sequence).desc())
        ).first()
        return bool(done and done.closed_at and done.closed_at >= done.deadline_at)


def _latest_agreed(
    policy: Policy, calendar: WorkingCalendar, process: str, step: str, after: date
) -> date | None:
    rule = policy.process(process).step(step)
    if rule.agreed_by is None:
        return None
    return rule.clock_calendar(calendar).due(after, rule.due).due


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
    late_reason: str | None = None,
) -> tuple[Submission, Step]:
    """Check and store what a person recorded for an open step; return it with its step. A step
    done after its due day takes the reason (`late_reason`); without it, the lateness is a
    decision whose rationale is due (DESIGN rule 9).

    Nothing is stored unless everything holds. The same `key` sent again returns the first submission.
    """
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise InputError(f"--key is {len(key)} characters: give 1 to {KEY_MAX}")
    case = get_case(session, reference)
    if key:
        earlier = session.exec(select(Submission).where(Submission.idempotency_key == key)).first()
        if earlier is not None:
            return _same_again(session, case, earlier, step_name, author_id, payload, at, key)
    decl = registry.get(case.process)
    step_decl = decl.step(step_name)
    if case.status is not CaseStatus.open:
        raise InputError(f"{reference} is closed; nothing more can be recorded")
    step = session.exec(
        select(Step)
        .where(Step.case_id == case.id, Step.name == step_name, Step.status == StepStatus.open)
        .order_by(col(Step.sequence).desc())
    ).first()
    if step is None:
        waiting = (
            ", ".join(s.name for s in open_steps_of(session, case.id or 0))
            or "none (the flow has not opened one yet)"
        )
        raise InputError(f"{step_name} is not open in {reference}; open steps: {waiting}")
    earlier = live_submission(session, step.id or 0)
    if earlier is not None:
        raise _already_recorded(step_name, reference, earlier)
    role = require_role(session, author_id, step_decl.may_record, f"record {step_name}")
    if step_decl.chair_only:
        require_chair(session, author_id, step.owner_id, decl.overseer, f"record this {step_name}")
    effective = at or now
    if effective > now:
        raise InputError(
            f"--at {effective:%Y-%m-%d %H:%M} is in the future; give when it actually happened"
        )
    if effective < step.opened_at:
        raise InputError(
            f"--at {effective:%Y-%m-%d %H:%M} is before {step_name} opened ({step.opened_at:%Y-%m-%d %H:%M}); check the date"
        )
    context = DirectoryContext(
        session,
        calendar,
        policy.actions.due_within,
        now=now,
        effective=effective,
        opened=calendar.local_date(step.opened_at),
        approver_role=policy.process(case.process).step(step_name).approver,
    )
    data = parse(
        step_decl.input, payload, what=step_name, example=step_decl.example, context=context
    )
    if step_decl.check is not None:
        step_decl.check(_Check(session, case, policy, calendar, now), data)
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
        payload=data.model_dump(mode="json", exclude_none=True),
        schema_version=step_decl.version,
        late_reason=free_text(late_reason, "--late-reason") if late_reason is not None else None,
    )
    try:
        with session.begin_nested():  # the database has the last word on "one per step"
            session.add(submission)
    except IntegrityError:
        if (
            key
            and session.exec(select(Submission).where(Submission.idempotency_key == key)).first()
        ):
            raise InputError(f"--key {key!r} was used at the same moment; use a new key") from None
        winner = live_submission(session, step.id or 0)
        raise _already_recorded(step_name, reference, winner) from None
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


def live_submission(session: Session, step_id: int) -> Submission | None:
    """Return the step's submission that has not failed, if any (there is at most one)."""
    return session.exec(
        select(Submission).where(Submission.step_id == step_id, col(Submission.failed_at).is_(None))
    ).first()


def _already_recorded(step_name: str, reference: str, earlier: Submission | None) -> InputError:
    which = f" (submission {earlier.id})" if earlier is not None else ""
    return InputError(
        f"{step_name} of {reference} was already recorded{which} and waits for the flow "
        f"to apply it; if it does not, run 'safeguard case repair {reference}'"
    )


def _same_again(
    session: Session,
    case: Case,
    earlier: Submission,
    step_name: str,
    author_id: str,
    payload: Any,
    at: datetime | None,
    key: str,
) -> tuple[Submission, Step]:
    """A key seen before: the same submission again answers as it did; anything else is refused."""
    step = session.get(Step, earlier.step_id)
    different = InputError(
        f"--key {key!r} was used for a different submission ({earlier.kind} of submission "
        f"{earlier.id}); the same key stores one submission only: use a new key"
    )
    if earlier.case_id != case.id or step is None or step.name != step_name:
        raise different
    if earlier.author_id != author_id or (at is not None and at != earlier.effective_at):
        raise different
    step_decl = registry.get(case.process).step(step_name)
    try:
        again = parse(step_decl.input, payload, what=step_name, example=step_decl.example)
    except InputError:
        raise different from None
    stored = upgraded(
        earlier.payload, earlier.schema_version, step_decl.version, step_decl.upgrades
    )
    if again.model_dump(mode="json", exclude_none=True) != stored:
        raise different
    return earlier, step


# --- applying a submission (the flow's side) --------------------------------------------------------


@dataclass
class _Apply:
    """The ApplyContext a step's `apply` is given: what it writes lands in the session."""

    session: Session
    policy: Policy
    calendar: WorkingCalendar
    step: Step
    submission: Submission
    sequence: int
    at: datetime

    def decide(self, kind: str, value: str, rationale: str | None) -> None:
        sub = self.submission
        decision = Decision(
            case_id=sub.case_id,
            step_id=self.step.id,
            submission_id=sub.id,
            kind=kind,
            value=value,
            author_id=sub.author_id,
            author_role=sub.author_role,
            decided_at=self.at,
            recorded_at=sub.recorded_at,
            rationale_due_at=None
            if rationale
            else self.calendar.due(sub.recorded_at, self.policy.rationale.due).deadline,
        )
        self.session.add(decision)
        self.session.flush()
        if rationale:
            assert decision.id is not None
            self.session.add(
                Rationale(
                    decision_id=decision.id,
                    text=rationale,
                    author_id=sub.author_id,
                    author_role=sub.author_role,
                    recorded_at=sub.recorded_at,
                )
            )

    def event(self, name: str, at: datetime | date, sequence: int = 1) -> None:
        moment = at if isinstance(at, datetime) else self.calendar.start_of_day(at)
        self.session.add(
            CaseEvent(case_id=self.submission.case_id, name=name, sequence=sequence, at=moment)
        )

    def add_actions(self, actions: Sequence[NewAction], agreed_on: date) -> None:
        followup.add_actions(
            self.session,
            self.calendar,
            case_id=self.submission.case_id,
            step_id=self.step.id,
            actions=actions,
            agreed_on=agreed_on,
            author_id=self.submission.author_id,
            recorded_at=self.submission.recorded_at,
        )

    def party(self, role: Role, staff_id: str) -> None:
        exists = self.session.exec(
            select(CaseParty).where(
                CaseParty.case_id == self.submission.case_id,
                CaseParty.role == role,
                CaseParty.staff_id == staff_id,
            )
        ).first()
        if exists is None:
            self.session.add(
                CaseParty(case_id=self.submission.case_id, role=role, staff_id=staff_id)
            )

    def keep(self, details: dict[str, Any]) -> None:
        keep_details(
            self.session,
            self.submission.case_id,
            details,
            at=self.submission.recorded_at,
            actor=self.submission.author_id,
        )

    def link(self, reference: str, why: str, process: str | None = None) -> None:
        link_cases(self.session, self.submission.case_id, reference, why, process)

    @property
    def reference(self) -> str:
        return case_by_id(self.session, self.submission.case_id).reference

    @property
    def details(self) -> dict[str, Any]:
        return details_of(case_by_id(self.session, self.submission.case_id))

    def child(self, ref: str) -> dict[str, str] | None:
        return child_of(self.session, self.submission.case_id, ref)

    def start_case(self, process: str, author: str, payload: Mapping[str, Any]) -> str:
        self.session.flush()
        started = start_case(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            process=process,
            author_id=author,
            payload=dict(payload),
            now=self.submission.recorded_at,
        )
        return started.reference

    def latest_agreed(self, step: str, after: date) -> date | None:
        process = case_by_id(self.session, self.submission.case_id).process
        return _latest_agreed(self.policy, self.calendar, process, step, after)

    def open_next(self, step: str, sequence: int = 1) -> None:
        self.session.flush()  # the events it counts from, just written
        open_steps(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            case_id=self.submission.case_id,
            names=[step],
            sequence=sequence,
            now=self.at,
        )

    def close_also(self, step: str) -> None:
        other = self.session.exec(
            select(Step).where(
                Step.case_id == self.submission.case_id,
                Step.name == step,
                col(Step.status).in_([StepStatus.open, StepStatus.stopped]),
            )
        ).first()
        if other is None:
            return
        other.status, other.closed_at = StepStatus.closed, self.at
        self.session.add(other)
        audit.record(
            self.session,
            at=self.submission.recorded_at,
            actor_id=self.submission.author_id,
            action="step.close",
            case_id=self.submission.case_id,
            entity="step",
            entity_id=str(other.id),
            detail={"step": step, "answered_by": self.step.name},
        )

    def account_for(self, accounted: Sequence[ActionAccount], held_on: date) -> None:
        followup.account_for(
            self.session,
            self.calendar,
            accounted,
            held_on=held_on,
            author_id=self.submission.author_id,
            author_role=self.submission.author_role,
            recorded_at=self.submission.recorded_at,
            submission_id=self.submission.id,
        )


def stored_input(step_decl: StepDecl[Any, Any], submission: Submission) -> Any:
    """Return a stored submission's input as the step's current version reads it."""
    payload = upgraded(
        submission.payload, submission.schema_version, step_decl.version, step_decl.upgrades
    )
    return parse(step_decl.input, payload, what=step_decl.name, example=step_decl.example)


def apply(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    name: str,
    sequence: int,
    now: datetime,
) -> Any:
    """Apply a step's stored submission to the case; return what the flow branches on (the step's
    declared `result`). Idempotent: applied once, and the same result comes back every time."""
    step = _step(session, case_id, name, sequence)
    submission = submission_for(session, case_id, name, sequence)
    if step is None or submission is None:
        raise RuntimeError(f"case {case_id}: nothing recorded for {name} {sequence}")
    step_decl = registry.get(case_by_id(session, case_id).process).step(name)
    data = stored_input(step_decl, submission)
    result = step_decl.result(data)
    if submission.applied_at is not None:
        return result
    done_on = step_decl.done_on(data) if step_decl.done_on else None
    # The step closes when it was done: the day its input names (the IRO told on...), if it
    # names one, else when it was recorded as having happened (--at).
    done_at = calendar.start_of_day(done_on) if done_on else submission.effective_at
    if step_decl.apply is not None:
        step_decl.apply(
            _Apply(session, policy, calendar, step, submission, sequence=sequence, at=done_at),
            data,
        )
    if done_at >= step.deadline_at:  # closed late: a departure, with its reason (DESIGN rule 9)
        late = calendar.working_days_between(step.due_on, calendar.local_date(done_at))
        _Apply(session, policy, calendar, step, submission, sequence=sequence, at=done_at).decide(
            "late",
            f"{name} done {late} working day(s) after its due day ({step.due_on.isoformat()})",
            submission.late_reason,
        )
    step.status = StepStatus.skipped if step_decl.skipped(data) else StepStatus.closed
    step.closed_at = done_at
    submission.applied_at = now
    session.add(step)
    session.add(submission)
    audit.record(
        session,
        at=now,
        actor_id=submission.author_id,
        action="step.apply",
        case_id=case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": name, "sequence": sequence, "submission": submission.id},
    )
    session.flush()
    return result


@dataclass
class Progress:
    """Where a step or phase stands for the flow: each recorded step's result, and what it waits for."""

    results: dict[str, Any] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    applied_now: list[str] = field(default_factory=list)  # applied by this call (not a replay)
    failed_now: list[str] = field(default_factory=list)  # could not be applied: open again


def advance(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    names: Sequence[str],
    sequence: int,
    key: str,
    now: datetime,
) -> Progress:
    """Open these steps (once), apply each one recorded (once), and say which are still awaited.

    Every other open step of the case recorded meanwhile is applied too (a step opened to run
    alongside the one the flow waits at: the record resumed the run, the replay applies it), so a
    recorded step never stays open because the flow was waiting elsewhere.
    """
    progress = Progress()
    waited = open_steps(
        session=session,
        policy=policy,
        calendar=calendar,
        case_id=case_id,
        names=names,
        sequence=sequence,
        key=key,
        now=now,
    )
    alongside = [s for s in open_steps_of(session, case_id) if s.id not in {w.id for w in waited}]
    for step in [*waited, *alongside]:
        submission = submission_for(session, case_id, step.name, step.sequence)
        if submission is None:
            if step in waited:
                progress.waiting.append(step.name)
            continue
        if submission.applied_at is not None:  # a replay: the same result, nothing written
            progress.results[step.name] = apply(
                session=session,
                policy=policy,
                calendar=calendar,
                case_id=case_id,
                name=step.name,
                sequence=step.sequence,
                now=now,
            )
            continue
        try:
            with session.begin_nested():
                result = apply(
                    session=session,
                    policy=policy,
                    calendar=calendar,
                    case_id=case_id,
                    name=step.name,
                    sequence=step.sequence,
                    now=now,
                )
            if step in waited:
                progress.results[step.name] = result
            progress.applied_now.append(step.name)
        except (InputError, DataError, IntegrityError) as exc:
            # What was stored cannot be applied (an input the schema no longer reads, a value the
            # database refuses): it must not poison the case. Kept, marked failed with the reason;
            # the step takes a corrected record; the case lead and the author are told at once.
            _fail(session, submission, exc, now)
            progress.failed_now.append(step.name)
            if step in waited:
                progress.waiting.append(step.name)
    return progress


def open_alongside(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    names: Sequence[str],
    now: datetime | None = None,
) -> list[Step]:
    """Open steps that run alongside the flow (each with its own clock, owner and ladder): they are
    applied whenever recorded, and waited for only where the flow asks (a later phase)."""
    return [
        step
        for name in names
        for step in open_steps(
            session=session,
            policy=policy,
            calendar=calendar,
            case_id=case_id,
            names=[name],
            now=now,
        )
    ]


def _fail(session: Session, submission: Submission, exc: Exception, now: datetime) -> None:
    reason = (
        str(exc).split(" (example input:")[0]
        if isinstance(exc, InputError)
        else f"the database refused it: {database_message(exc)}"
    )
    submission.failed_at, submission.failure = now, " ".join(reason.split())[:500]
    session.add(submission)
    audit.record(
        session,
        at=now,
        actor_id=None,
        action="step.apply_failed",
        case_id=submission.case_id,
        entity="submission",
        entity_id=str(submission.id),
        detail={"step": submission.kind, "error": type(exc).__name__},
    )

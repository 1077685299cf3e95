"""Applying what people recorded (the flow's side): a step's stored submission closes it and writes
what its declaration says (decisions, events, actions, accounts of earlier actions) in one
transaction, idempotently (a replay applies nothing twice); `advance` opens a step or phase,
applies each one recorded, and says what is still awaited. A record that cannot be applied is kept,
marked failed, and never poisons the case."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col, select

from models import audit, departures, followup, registry
from models.calendar import WorkingCalendar
from models.cases import (
    case_by_id,
    child_of,
    details_of,
    keep_details,
    link_cases,
    links_of,
    start_case,
)
from models.db import database_message
from models.durations import WorkingDays
from models.enums import CaseStatus, Role, StepStatus
from models.errors import InputError
from models.inputs import ActionAccount, NewAction, parse
from models.policy import Policy
from models.process import StepDecl, upgraded
from models.staff import roles_of
from models.steps.opening import latest_agreed, open_steps
from models.steps.queries import find_step, open_steps_of, submission_for
from models.tables import (
    Case,
    CaseEvent,
    CaseParty,
    Decision,
    Rationale,
    Step,
    Submission,
)


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

    def end_procedure(self, keep: Sequence[str] = ()) -> None:
        sub = self.submission
        for other in open_steps_of(self.session, sub.case_id):
            if other.id == self.step.id or other.name in keep:
                continue
            other.status, other.closed_at = StepStatus.ended, max(self.at, other.opened_at)
            self.session.add(other)
            audit.record(
                self.session,
                at=sub.recorded_at,
                actor_id=sub.author_id,
                action="step.end",
                case_id=sub.case_id,
                entity="step",
                entity_id=str(other.id),
                detail={"step": other.name, "sequence": other.sequence, "by": self.step.name},
            )
        self.session.flush()

    def is_open(self, reference: str) -> bool:
        found = self.session.exec(select(Case).where(Case.reference == reference)).first()
        return found is not None and found.status is CaseStatus.open

    def hold_clock(self, step: str, reason: str) -> None:
        sub = self.submission
        [held] = open_steps(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            case_id=sub.case_id,
            names=[step],
            now=self.at,
        )
        if held.status is not StepStatus.open:
            return  # held (or done) before: a replay
        departures.hold(
            self.session,
            held,
            reason=reason,
            recorded_by=sub.author_id,
            role=sub.author_role,
            at=max(self.at, held.opened_at),
            recorded_at=sub.recorded_at,
        )

    def resume_linked(self, step: str) -> list[str]:
        linked = [link["reference"] for link in links_of(self.session, self.submission.case_id)]
        return [reference for reference in linked if self._resume(reference, step)]

    def resume_clock(self, step: str) -> bool:
        return self._resume(case_by_id(self.session, self.submission.case_id).reference, step)

    def _resume(self, reference: str, step: str) -> bool:
        """Restart a case's `step` clock as at this step, if it is stopped; say whether it was."""
        case = self.session.exec(select(Case).where(Case.reference == reference)).one()
        found = self.session.exec(
            select(Step)
            .where(Step.case_id == case.id, Step.name == step)
            .order_by(col(Step.sequence).desc())
        ).first()
        if found is None or found.status is not StepStatus.stopped:
            return False
        departures.resume(
            self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            step_name=step,
            recorded_by=self.submission.author_id,
            now=max(self.at, found.opened_at),
        )
        return True

    def rounds(self, event: str) -> int:
        found = self.session.exec(
            select(CaseEvent.sequence)
            .where(CaseEvent.case_id == self.submission.case_id, CaseEvent.name == event)
            .order_by(col(CaseEvent.sequence).desc())
        ).first()
        return found or 0

    def working_days_after(self, day: date, days: int) -> date:
        return self.calendar.due(day, WorkingDays(days)).due

    def decide(self, kind: str, value: str, rationale: str | None, by: str | None = None) -> None:
        sub = self.submission
        author, role = sub.author_id, sub.author_role
        held = roles_of(self.session, by) if by and by != author else set()
        if held:  # the decision maker's, in their most senior role
            author, role = by or author, max(held, key=lambda r: r.seniority)
        decision = Decision(
            case_id=sub.case_id,
            step_id=self.step.id,
            submission_id=sub.id,
            kind=kind,
            value=value,
            author_id=author,
            author_role=role,
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
                    author_id=author,
                    author_role=role,
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
        return latest_agreed(self.policy, self.calendar, process, step, after)

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
    step = find_step(session, case_id, name, sequence)
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
    rule = policy.process(case_by_id(session, case_id).process).step(name)
    # Closed late: a departure, with its reason (DESIGN rule 9); a person's own window, or a step
    # recorded only if it happens, is not a staff deadline, so it is never late.
    if done_at >= step.deadline_at and not (rule.window or rule.unscheduled):
        late = calendar.working_days_between(step.due_on, calendar.local_date(done_at))
        _Apply(session, policy, calendar, step, submission, sequence=sequence, at=done_at).decide(
            "late",
            f"{rule.title} done {late} working day{'' if late == 1 else 's'} after its due day "
            f"({step.due_on:%-d %B %Y})",
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
    ended: list[str] = field(default_factory=list)  # the case ended before these were done


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
            lapsed = _lapsed_window(session, case_id, step, now)
            if lapsed is not None:
                progress.results[step.name] = lapsed()
            elif step in waited:
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
    for step in waited:  # the case ended (now, or before a replay) with these still to do
        if step.status is StepStatus.ended:
            progress.ended.append(step.name)
            progress.waiting = [w for w in progress.waiting if w != step.name]
    return progress


def _lapsed_window(
    session: Session, case_id: int, step: Step, now: datetime
) -> Callable[[], Any] | None:
    """Return what a window that has closed unused gives the flow (closing it now, once, if its due
    day has passed), or None if the step is not such a window."""
    lapsed = registry.get(case_by_id(session, case_id).process).step(step.name).when_lapsed
    if lapsed is None:
        return None
    if step.status is StepStatus.lapsed:
        return lapsed  # a replay: closed before
    if step.status is not StepStatus.open or now < step.deadline_at:
        return None
    step.status, step.closed_at = StepStatus.lapsed, step.deadline_at
    session.add(step)
    audit.record(
        session,
        at=now,
        actor_id=None,
        action="step.lapse",
        case_id=case_id,
        entity="step",
        entity_id=str(step.id),
        detail={"step": step.name, "sequence": step.sequence, "due": step.due_on.isoformat()},
    )
    session.flush()
    return lapsed


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

"""What the flow, the sweep and orchestration ask of a case's steps: opened or not, recorded or
not, applied or not, and the cases that should have moved and have not."""

from datetime import datetime

from sqlmodel import Session, col, select

from models import registry
from models.enums import CaseStatus, StepStatus
from models.steps.keys import wait_key
from models.tables import (
    AuditEntry,
    Case,
    Step,
    Submission,
)


def step_of(session: Session, case_id: int, name: str, sequence: int = 1) -> Step:
    """Return an opened step (the flow's side)."""
    step = find_step(session, case_id, name, sequence)
    if step is None:
        raise RuntimeError(f"case {case_id}: {name} {sequence} has not been opened")
    return step


def find_step(session: Session, case_id: int, name: str, sequence: int) -> Step | None:
    """Return the case's step of that name and sequence, if it has been opened."""
    return session.exec(
        select(Step).where(Step.case_id == case_id, Step.name == name, Step.sequence == sequence)
    ).first()


def step_exists(session: Session, case_id: int, name: str, sequence: int = 1) -> bool:
    """True if the case's step of that name (and sequence) has been opened."""
    return find_step(session, case_id, name, sequence) is not None


def submission_for(session: Session, case_id: int, name: str, sequence: int) -> Submission | None:
    """Return the stored submission of a step, if someone has recorded it."""
    step = find_step(session, case_id, name, sequence)
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


def _window_names() -> list[str]:
    """The steps of every registered process that close themselves when they lapse."""
    return sorted(
        {s.name for d in registry.processes() for s in d.steps if s.when_lapsed is not None}
    )


def lapsed_windows(session: Session, case_id: int, now: datetime) -> set[str]:
    """Return the wait keys of the case's open windows whose time has run out by `now`: the flow
    closes them when it next runs."""
    return {
        s.wait_key or wait_key(s.name, s.sequence)
        for s in open_steps_of(session, case_id)
        if s.status is StepStatus.open and s.name in _window_names() and s.deadline_at <= now
    }


def stalled(session: Session, now: datetime, before: datetime) -> list[Case]:
    """Return the open cases that should have moved and have not: a record stored by `now` and not
    applied, or a window that ran out by `now` (the flow closes it); or, started (or last moved)
    by `before`, no open step at all (a run that died before opening the next) or no flow run
    (Prefect failed as the case was stored)."""
    unapplied = (
        select(Submission.case_id)
        .join(Step, col(Step.id) == Submission.step_id)
        .where(Step.status == StepStatus.open, col(Submission.applied_at).is_(None))
        .where(col(Submission.failed_at).is_(None), col(Submission.recorded_at) <= now)
    )
    windows = select(Step.case_id).where(
        Step.status == StepStatus.open,
        col(Step.name).in_(_window_names()),
        col(Step.deadline_at) <= now,
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
                | col(Case.id).in_(windows)
                | (quiet & (col(Case.id).not_in(has_open) | col(Case.flow_run_id).is_(None)))
            )
            .order_by(col(Case.id))
        ).all()
    )


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


def live_submission(session: Session, step_id: int) -> Submission | None:
    """Return the step's submission that has not failed, if any (there is at most one)."""
    return session.exec(
        select(Submission).where(Submission.step_id == step_id, col(Submission.failed_at).is_(None))
    ).first()


def newest_open_step(session: Session, case_id: int) -> int:
    """Return the id of the case's newest open step (0 when none is open)."""
    return max((s.id or 0 for s in open_steps_of(session, case_id)), default=0)


def progress_of(session: Session, submission_id: int, newest: int) -> str:
    """Where a stored record stands: "waiting" for the flow, "failed" (the flow could not apply
    it), "applied", or "moved" (applied, and the flow opened a step newer than `newest` or closed
    the case)."""
    submission = session.get(Submission, submission_id)
    if submission is not None and submission.failed_at is not None:
        return "failed"
    if submission is None or submission.applied_at is None:
        return "waiting"
    case = session.get(Case, submission.case_id)
    if case is not None and case.status is CaseStatus.closed:
        return "moved"
    later = [s for s in open_steps_of(session, submission.case_id) if (s.id or 0) > newest]
    return "moved" if later else "applied"

"""The one write path for people (DESIGN rule 3): `submit` checks the case, the step, the person
and their role, the input (each field's own rules, then the step's `check`) and stores the
submission, nothing else; the flow applies it (models/steps/applying.py). Nothing is stored unless
everything holds; the same idempotency key sent again returns the first submission."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit, followup, registry
from models.calendar import WorkingCalendar
from models.cases import (
    child_of,
    details_of,
    get_case,
    parties_of,
    start_case,
)
from models.enums import CaseStatus, StepStatus
from models.errors import FieldErrors, InputError, refusal
from models.inputs import ActionAccount, free_text, lists_of, parse
from models.permissions import DirectoryContext, require_chair, require_role
from models.policy import Policy, StepPolicy
from models.process import upgraded
from models.staff import management_chain
from models.steps.opening import latest_agreed
from models.steps.queries import live_submission, open_steps_of
from models.tables import (
    Case,
    Step,
    Submission,
)

KEY_MAX = 128  # submissions.idempotency_key


class Recorded(NamedTuple):
    """A step's record as stored: the submission, its step and its case."""

    submission: Submission
    step: Step
    case: Case


class _Check:
    """The CheckContext a step's `check` is given."""

    def __init__(
        self,
        session: Session,
        case: Case,
        policy: Policy,
        calendar: WorkingCalendar,
        now: datetime,
        step_input: type[BaseModel],
    ) -> None:
        self.session, self.case, self.reference = session, case, case.reference
        self.policy, self.calendar, self.now = policy, calendar, now
        self.step_input = step_input  # what the step's refusals name fields of
        self.details = details_of(case)
        self.parties = parties_of(session, [case.id or 0])[case.id or 0]

    def latest_agreed(self, step: str, after: date) -> date | None:
        return latest_agreed(self.policy, self.calendar, self.case.process, step, after)

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
        try:
            followup.require_accounted(self.session, self.case, accounted, held_on)
        except InputError as refused:  # said of the step's list of accounts, whatever its name
            where = lists_of(self.step_input, ActionAccount)
            if len(where) != 1:
                raise
            raise FieldErrors(str(refused), [(where[0], str(refused))], sep="") from None

    def times_carried_forward(self, action_id: int) -> int:
        return followup.times_carried_forward(self.session, action_id)

    def managers_of(self, staff_id: str) -> Sequence[str]:
        return management_chain(self.session, staff_id)

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


def input_context(
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    author_id: str,
    now: datetime,
    effective: datetime | None = None,
) -> DirectoryContext:
    """Return what a step's input is checked against when `author_id` records it: its window, the
    moment, the staff directory and who may approve it (a form lists the people it accepts)."""
    rule = policy.process(case.process).step(step.name)
    return DirectoryContext(
        session,
        calendar,
        policy.actions.due_within,
        now=now,
        effective=effective or now,
        opened=calendar.local_date(step.opened_at),
        approver_role=rule.approver,
        approver_roles=rule.approver_roles,
        author=author_id,
    )


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
) -> Recorded:
    """Check and store what a person recorded for an open step; return it with its step and case
    (what its callers would otherwise look up again). A step
    done after its due day takes the reason (`late_reason`); without it, the lateness is a
    decision whose rationale is due (DESIGN rule 9).

    Nothing is stored unless everything holds. The same `key` sent again returns the first submission.
    """
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise refusal("key", f"is {len(key)} characters: give 1 to {KEY_MAX}")
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
        raise refusal(
            "at", f"{effective:%Y-%m-%d %H:%M} is in the future; give when it actually happened"
        )
    if effective < step.opened_at:
        raise refusal(
            "at",
            f"{effective:%Y-%m-%d %H:%M} is before {step_name} opened ({step.opened_at:%Y-%m-%d %H:%M}); check the date",
        )
    context = input_context(session, policy, calendar, case, step, author_id, now, effective)
    data = parse(
        step_decl.input, payload, what=step_name, example=step_decl.example, context=context
    )
    if step_decl.check is not None:
        step_decl.check(_Check(session, case, policy, calendar, now, step_decl.input), data)
    rule = policy.process(case.process).step(step_name)
    done_on = step_decl.done_on(data) if step_decl.done_on else calendar.local_date(effective)
    if rule.late_needs_reason and done_on > step.due_on and not (late_reason or "").strip():
        raise refusal(
            "late_reason",
            f"say why it was not reasonably practicable sooner ({rule.source.split(':')[0]}): "
            f"{rule.title.lower()} is done on {done_on:%-d %B %Y}, after its due day "
            f"({step.due_on:%-d %B %Y})",
            sep=": ",
        )
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
        late_reason=free_text(late_reason, "late_reason") if late_reason is not None else None,
    )
    try:
        with session.begin_nested():  # the database has the last word on "one per step"
            session.add(submission)
    except IntegrityError:
        if (
            key
            and session.exec(select(Submission).where(Submission.idempotency_key == key)).first()
        ):
            raise refusal("key", f"{key!r} was used at the same moment; use a new key") from None
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
    return Recorded(submission, step, case)


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
) -> Recorded:
    """A key seen before: the same submission again answers as it did; anything else is refused."""
    step = session.get(Step, earlier.step_id)
    different = refusal(
        "key",
        f"{key!r} was used for a different submission ({earlier.kind} of submission "
        f"{earlier.id}); the same key stores one submission only: use a new key",
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
    return Recorded(earlier, step, case)

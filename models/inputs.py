"""The building blocks of every process's inputs: what a person types, validated completely before
anything is stored (Prefect checks resume input only against a JSON schema: prefect-notes rule 5).

A process declares its start input and each step's input as pydantic models made of these parts.
Rules that need the case are declared on the fields, not listed in the engine:

    held_on: StepDay                       on or after the step opened, not after the moment recorded
    received_at: PastMoment                a date-time not in the future (naive = local time)
    owner: Annotated[str, Staff()]         someone in the staff directory
    iro: Annotated[str, Staff(Role.iro)]   someone holding that role

They are checked when the engine validates with an `InputContext` (at submission); a stored input
read back later (on a replay) is validated without one, so it is never judged against a later today.
No database or Prefect imports here.
"""

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from models.enums import Role
from models.errors import FieldErrors, InputError, refusal

TEXT_MAX = 4000  # every free text, on every path (a rationale, a reason, a summary)


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL cannot store it: refused here, never at apply time
        raise ValueError("contains a NUL character (\\u0000); remove it")
    return value


# Free text: stripped, never blank, capped within the database's columns, never a NUL.
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX),
    AfterValidator(_no_nul),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
Ref = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_no_nul),
]


class InputContext(ABC):
    """What the engine knows when it checks an input: the step's window and the staff directory.

    The engine's implementation (models/steps.py) reads the database; a test's may not.
    """

    opened: date | None  # the day the step opened (None when starting a case)
    today: date  # the local day it is recorded as done (`at`), never after the real today
    now: datetime  # the moment it is recorded

    @abstractmethod
    def local(self, moment: datetime) -> datetime:
        """Return a moment as local time (a naive one is read as local)."""

    @abstractmethod
    def check_staff(self, staff_id: str, roles: frozenset[Role]) -> None:
        """Raise ValueError unless the person is in the directory (holding one of `roles`, if any)."""

    @abstractmethod
    def check_approver(self, staff_id: str) -> None:
        """Raise ValueError unless the person may approve the step's departure (the policy's
        `approver` role or a more senior one)."""

    @abstractmethod
    def check_independent(self, staff_id: str) -> None:
        """Raise ValueError unless the person is recorded as independent of the authority."""

    @abstractmethod
    def latest_action_due(self, agreed_on: date) -> date:
        """Return the latest day an action agreed on `agreed_on` may be due (the policy's limit)."""

    @abstractmethod
    def action_due(self, agreed_on: date, due: date | int) -> date:
        """Return the day an action is due: a date, or working days after `agreed_on`."""

    def working_days_after(self, day: date, n: int) -> date:
        """Return the day `n` working days after `day` (the authority's calendar)."""
        return self.action_due(day, n)


def _context(info: ValidationInfo) -> InputContext | None:
    return info.context if isinstance(info.context, InputContext) else None


def input_context(info: ValidationInfo | None) -> InputContext | None:
    """Return the engine's context a validator was given (None when a stored input replays)."""
    return _context(info) if info is not None else None


def _step_day(value: date, info: ValidationInfo) -> date:
    ctx = _context(info)
    if ctx is None:
        return value
    if ctx.opened is not None and not ctx.opened <= value <= ctx.today:
        raise ValueError(
            f"{value} must fall between {ctx.opened} (the step opened) and {ctx.today} (the day "
            "it is recorded as done)"
        )
    if value > ctx.today:
        raise ValueError(
            f"{value} is after {ctx.today} (the day it is recorded as done): give the day it "
            "actually happened"
        )
    return value


def _past_day(value: date, info: ValidationInfo) -> date:
    ctx = _context(info)
    if ctx is not None and value > ctx.today:
        raise ValueError(f"{value} is in the future: give the day it actually happened")
    return value


def _past_moment(value: datetime, info: ValidationInfo) -> datetime:
    ctx = _context(info)
    if ctx is None:
        return value
    value = ctx.local(value)
    if value > ctx.now:
        raise ValueError(f"{value:%Y-%m-%d %H:%M} is in the future; give when it actually happened")
    return value


StepDay = Annotated[date, AfterValidator(_step_day)]
"""A day within the step's window: not before it opened, not after the moment it is recorded."""
PastDay = Annotated[date, AfterValidator(_past_day)]
"""A day that is not in the future."""
PastMoment = Annotated[datetime, AfterValidator(_past_moment)]
"""A date-time that is not in the future; a naive one is read as local time."""


@dataclass(frozen=True)
class InDirectory(AfterValidator):
    """The validator of a field naming someone in the staff directory, saying who may fill it, so
    a page can offer those people by name: holders of `roles` (anyone when empty), an `approver`
    (at least as senior as the step's policy says), or someone `independent` of the authority."""

    roles: frozenset[Role] = frozenset()
    approver: bool = False
    independent: bool = False


def staff(*roles: Role) -> Any:
    """Return the validator of a staff-id field: Annotated[str, staff(Role.iro)] must name someone
    in the directory holding one of `roles` (anyone in the directory when no role is given)."""
    wanted = frozenset(roles)
    return _in_directory(lambda ctx, value: ctx.check_staff(value, wanted), roles=wanted)


def approver() -> Any:
    """Return the validator of an approver field: Annotated[str, approver()] must name someone at
    least as senior as the step's policy `approver` (e.g. a head of service)."""
    return _in_directory(lambda ctx, value: ctx.check_approver(value), approver=True)


def independent() -> Any:
    """Return the validator of a field naming someone who must be independent of the authority
    (RPR 2006 reg 2: not a member or officer of it, nor the spouse or civil partner of one), as the
    staff directory records (`staff add --independent`)."""
    return _in_directory(lambda ctx, value: ctx.check_independent(value), independent=True)


def _in_directory(check: Callable[[InputContext, str], None], **who: Any) -> Any:
    """Return a field validator asking the staff directory (only when the engine's context is
    given: a stored input replays without it)."""

    def validate(value: str, info: ValidationInfo) -> str:
        ctx = _context(info)
        if ctx is not None:
            check(ctx, value)
        return value

    return InDirectory(validate, **who)


# A field asked of every record made now, and checked when it is recorded (by the step's check),
# but absent from records stored before it was asked: optional in the model so those still read,
# shown as required on a form.
ASKED_NOW: dict[str, Any] = {"asked_now": True}

StaffId = Ref  # checked against the directory by staff(...)
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # a row id: an integer column holds no more


class StepInput(BaseModel):
    """Base of every input: unknown fields refused, values frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChildInCase(StepInput):
    """A child in a case, with the IRO and social worker who must hear of it; or, for a child
    neither of whom is in our directory (the carer's own child, a child another authority
    placed), who placed them and the contact there (what their IRO's notices go out with)."""

    model_config = ConfigDict(title="Child")  # one of a list, as a form numbers it

    child: Ref = Field(
        title="Child's reference", description="As on the child's record, for example C-1042"
    )
    iro: Annotated[StaffId, staff(Role.iro)] | None = Field(default=None, title="Their IRO")
    social_worker: Annotated[StaffId, staff(Role.social_worker)] | None = Field(
        default=None, title="Their social worker"
    )
    # "own child", or the placing authority
    placed_by: Label | None = Field(
        default=None, title="Placed by (for a child whose IRO is not in the directory)"
    )
    # e.g. the placing authority's duty IRO line
    contact: Label | None = Field(default=None, title="Contact there")

    @model_validator(mode="after")
    def _one_way(self) -> "ChildInCase":
        ours = self.iro is not None and self.social_worker is not None
        theirs = self.placed_by is not None and self.contact is not None
        partly = self.iro is not None or self.social_worker is not None
        if ours == theirs or (theirs and partly):
            raise ValueError(
                f"child {self.child}: give iro and social_worker (staff ids), or, for a child "
                "whose IRO is not in the directory (the carer's own child, a child another "
                "authority placed), placed_by and contact"
            )
        return self

    @property
    def external(self) -> bool:
        return self.iro is None


def free_text(value: str, field: str) -> str:
    """Return a free text given outside a JSON input (a rationale, a reason) checked by the same
    rules as every Text field, or raise the refusal of `field` (its name in the service's call)."""
    text = value.strip()
    if not text:
        raise refusal(field, "is empty: give the reason (it is kept on the case record)")
    if len(text) > TEXT_MAX:
        raise refusal(field, f"is {len(text):,} characters: at most {TEXT_MAX:,}")
    if "\x00" in text:
        raise refusal(field, "contains a NUL character (\\u0000); remove it")
    return text


# --- actions agreed at meetings, and a later meeting's account of them --------------------------
# Shared by every process whose meetings agree actions (allegation meetings, disruption meetings,
# complaint remedies): one shape, one rule for their status (models/followup.py).

MAX_ACTION_DAYS = 260  # about a year of working days


class NewAction(StepInput):
    """An action agreed at a meeting: due on a date or a number of working days after the meeting."""

    model_config = ConfigDict(title="Action")  # one of a list, as a form numbers it

    title: Label = Field(title="What is to be done")
    owner: Annotated[StaffId, staff()] = Field(title="Owner")
    due: date | Annotated[int, Field(ge=1, le=MAX_ACTION_DAYS)] = Field(
        description="a date, or working days after the meeting",
        title="Due (a date, or working days after the meeting)",
    )


class ActionAccount(StepInput):
    """What a review says of one open action."""

    model_config = ConfigDict(title="Earlier action")  # one of a list, as a form numbers it

    action_id: DbId = Field(title="Action")
    status: Literal["done", "carried_forward", "not_needed", "transferred"] = Field(
        title="What happened to it",
        description="Done, carried forward (give the reason and new due), not needed (give the reason), or transferred to another case",
    )
    reason: Text | None = Field(default=None, title="Reason")
    new_due: date | Annotated[int, Field(ge=1, le=MAX_ACTION_DAYS)] | None = Field(
        default=None, title="New due (a date, or working days)"
    )
    # transferred: the case that carries it on
    to_case: Ref | None = Field(
        default=None,
        title="Case that carries it on",
        description="If transferred: its reference, for example DIS-2026-0003",
    )

    @model_validator(mode="after")
    def _reasons(self) -> "ActionAccount":
        if self.status != "done" and not self.reason:
            raise ValueError(f"action {self.action_id} is {self.status}: give the reason")
        if self.status == "carried_forward" and self.new_due is None:
            raise ValueError(
                f"action {self.action_id} is carried forward: give new_due (a date or working days)"
            )
        if self.status != "carried_forward" and self.new_due is not None:
            raise ValueError(
                f"action {self.action_id}: new_due is only for an action carried forward"
            )
        if (self.status == "transferred") != (self.to_case is not None):
            raise ValueError(
                f"action {self.action_id}: give the case that carries it on when, and only "
                "when, it is transferred"
            )
        return self


def lists_of(model: type[BaseModel], item: type[BaseModel]) -> list[str]:
    """Return the names of the model's fields that are lists of `item` (e.g. a review's accounts
    of earlier actions: found by what they hold, never by a process's name for them)."""
    found = []
    for name, info in model.model_fields.items():
        kinds = [info.annotation]
        while kinds:
            kind = kinds.pop()
            if get_origin(kind) in (tuple, list) and item in get_args(kind):
                found.append(name)
                break
            kinds += [k for k in get_args(kind) if k is not Ellipsis]
    return found


def once_each(value: tuple[ActionAccount, ...]) -> tuple[ActionAccount, ...]:
    """Refuse an account that names an action twice."""
    ids = [a.action_id for a in value]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"action(s) accounted for twice: {', '.join(map(str, twice))}")
    return value


def unaccounted(open_action_ids: list[int], accounted: tuple[ActionAccount, ...]) -> list[int]:
    """Return the open actions an account leaves out (it must name every one)."""
    named = {a.action_id for a in accounted}
    return sorted(set(open_action_ids) - named)


def actions_after(
    held_on: date,
    actions: tuple[NewAction, ...],
    info: ValidationInfo | None = None,
    accounted: tuple[ActionAccount, ...] = (),
) -> None:
    """Refuse an action due before the meeting that agreed it, or later than the policy allows
    (checked when validated with the engine's context)."""
    for new in actions:
        if isinstance(new.due, date) and new.due < held_on:
            raise ValueError(
                f"action {new.title!r} is due {new.due}, before the meeting ({held_on})"
            )
    ctx = _context(info) if info is not None else None
    if ctx is None:
        return
    latest = ctx.latest_action_due(held_on)
    dues = [(f"action {new.title!r}", new.due) for new in actions] + [
        (f"action {a.action_id}'s new_due", a.new_due) for a in accounted
    ]
    for label, due in dues:
        if due is not None and ctx.action_due(held_on, due) > latest:
            raise ValueError(
                f"{label} is due {ctx.action_due(held_on, due)}, later than the policy allows "
                f"({latest}, from {held_on}): agree a nearer date and review it"
            )


# --- parsing ------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def parse(
    schema: type[M],
    payload: Any,
    *,
    what: str,
    example: Any,
    context: InputContext | None = None,
) -> M:
    """Return the validated input, or raise InputError naming the field and showing an example."""
    if not isinstance(payload, dict):
        raise InputError(f"the input for {what} must be a JSON object, e.g. {json.dumps(example)}")
    try:
        return schema.model_validate(payload, context=context)
    except ValidationError as exc:
        named = [_said(error, what) for error in exc.errors()]
        field, message = named[0]
        raise FieldErrors(
            f"{what}: {field}: {message} (example input: {json.dumps(example)})", named
        ) from None


def _said(error: Any, what: str) -> tuple[str, str]:
    """One validation error as (the field's dotted path, what is wrong with it)."""
    field = ".".join(str(p) for p in error["loc"]) or "input"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = f"is not a field of {what}"
    elif error["type"] == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        message = "is required (it is blank)"
    return field, message

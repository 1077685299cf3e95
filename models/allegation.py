"""The allegation process (LADO) as data: what each step asks for, and who may record it.

Read top to bottom it is the procedure (reference §1, steps L4, L5, L8, L10, L11, L16):

    initial_consideration  threshold decision (four limbs) and route          only a LADO
    allegation_meeting     held on, attendees by role, decisions, actions     the chair
    review_meeting (1..n)  every open action accounted for; ready for outcome? the chair
    outcome                category, rationale, DBS referral decision + reason only a LADO
    outcome_notification   carer and fostering service told in writing        the LADO
    approval_review        presented to panel (or skipped: carer resigned)    fostering service

The schemas validate a person's input completely before anything is stored (Prefect checks resume
input only against a JSON schema: prefect-notes rule 5). No database or Prefect imports here.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.durations import WorkingDays
from models.enums import Role
from models.errors import InputError

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Label = Annotated[str, Field(min_length=1, max_length=200)]


class Limb(StrEnum):
    """The four limbs of the harm threshold (reference §1a)."""

    harm = "harm"  # behaved in a way that has harmed, or may have harmed, a child
    offence = "offence"  # possibly committed a criminal offence against or related to a child
    risk = "risk"  # behaved in a way that indicates they may pose a risk of harm to children
    unsuitability = "unsuitability"  # may not be suitable to work with children


class Route(StrEnum):
    """What the initial consideration decides to do next (reference L4)."""

    strategy_discussion = (
        "strategy_discussion"  # s47 strategy discussion via children's social care
    )
    allegation_meeting = "allegation_meeting"  # LADO allegation management meeting
    no_further_action = "no_further_action"
    advice = "advice"  # advice / single-agency action by the employer or fostering service

    @property
    def needs_meeting(self) -> bool:
        return self in (Route.strategy_discussion, Route.allegation_meeting)


class OutcomeCategory(StrEnum):
    """KCSIE Part 4 outcome categories (reference §7); Welsh categories are deliberately absent."""

    substantiated = "substantiated"  # sufficient evidence to prove the allegation
    unsubstantiated = "unsubstantiated"  # insufficient evidence to prove or disprove
    false = "false"  # sufficient evidence to disprove the allegation
    malicious = "malicious"  # disproved, and a deliberate act to deceive
    unfounded = "unfounded"  # no evidence or proper basis supports the allegation


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InitialConsideration(_Input):
    threshold_met: bool
    limbs: tuple[Limb, ...] = ()
    route: Route
    rationale: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "InitialConsideration":
        if self.threshold_met and not self.limbs:
            raise ValueError(
                "threshold_met is true: name the limbs that apply (harm, offence, risk, unsuitability)"
            )
        if not self.threshold_met and self.limbs:
            raise ValueError(
                "threshold_met is false, so no limb can apply: remove 'limbs' or set threshold_met"
            )
        if not self.threshold_met and self.route.needs_meeting:
            raise ValueError(
                f"route {self.route.value} needs the threshold met; choose no_further_action or advice"
            )
        return self


class NewAction(_Input):
    """An action agreed at a meeting: due on a date or a number of working days after the meeting."""

    title: Label
    owner: Annotated[str, Field(min_length=1, max_length=64)]
    due: date | Annotated[int, Field(ge=1, le=260)] = Field(
        description="a date, or working days after the meeting"
    )


class ActionAccount(_Input):
    """What a review says of one open action."""

    action_id: int
    status: Literal["done", "carried_forward", "not_needed"]
    reason: Text | None = None
    new_due: date | Annotated[int, Field(ge=1, le=260)] | None = None

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
        return self


class Meeting(_Input):
    held_on: date
    attendees: tuple[Label, ...] = Field(min_length=1, description="who attended, by role")
    decisions: tuple[Text, ...] = ()
    actions: tuple[NewAction, ...] = ()
    ready_for_outcome: bool = False


class Review(Meeting):
    accounted: tuple[ActionAccount, ...] = ()

    @field_validator("accounted")
    @classmethod
    def _once_each(cls, value: tuple[ActionAccount, ...]) -> tuple[ActionAccount, ...]:
        ids = [a.action_id for a in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"action(s) accounted for twice: {', '.join(map(str, twice))}")
        return value


class Outcome(_Input):
    category: OutcomeCategory
    rationale: Text | None = None
    dbs_referral: bool
    dbs_reason: Text = Field(
        description="why a DBS referral is, or is not, made (required either way)"
    )


class OutcomeNotification(_Input):
    carer_told_on: date
    fostering_service_told_on: date


class ApprovalReview(_Input):
    presented_to_panel_on: date | None = None
    panel_recommendation: Text | None = None
    skipped_reason: Text | None = None

    @model_validator(mode="after")
    def _one_or_other(self) -> "ApprovalReview":
        if (self.presented_to_panel_on is None) == (self.skipped_reason is None):
            raise ValueError(
                "give presented_to_panel_on (with panel_recommendation), or skipped_reason "
                "(e.g. the carer has resigned), not both"
            )
        if self.presented_to_panel_on and not self.panel_recommendation:
            raise ValueError("give the panel_recommendation")
        return self


class StepRule(BaseModel):
    """One step of the process: its input, and who may record it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    schema_: type[_Input]
    may_record: frozenset[Role]
    chair_only: bool = False  # a meeting: only its chair (the step's owner) or a LADO manager
    example: dict[str, Any]


STEPS: dict[str, StepRule] = {
    "initial_consideration": StepRule(
        schema_=InitialConsideration,
        may_record=frozenset({Role.lado}),
        example={
            "threshold_met": True,
            "limbs": ["harm"],
            "route": "allegation_meeting",
            "rationale": "...",
        },
    ),
    "allegation_meeting": StepRule(
        schema_=Meeting,
        may_record=frozenset({Role.lado, Role.lado_manager}),
        chair_only=True,
        example={
            "held_on": "2026-11-05",
            "attendees": ["lado", "supervising_social_worker", "police"],
            "decisions": ["..."],
            "actions": [{"title": "...", "owner": "STAFF_ID", "due": 5}],
        },
    ),
    "review_meeting": StepRule(
        schema_=Review,
        may_record=frozenset({Role.lado, Role.lado_manager}),
        chair_only=True,
        example={
            "held_on": "2026-12-03",
            "attendees": ["lado"],
            "accounted": [{"action_id": 1, "status": "done"}],
            "ready_for_outcome": True,
        },
    ),
    "outcome": StepRule(
        schema_=Outcome,
        may_record=frozenset({Role.lado}),
        example={
            "category": "unsubstantiated",
            "rationale": "...",
            "dbs_referral": False,
            "dbs_reason": "...",
        },
    ),
    "outcome_notification": StepRule(
        schema_=OutcomeNotification,
        may_record=frozenset({Role.lado, Role.lado_manager}),
        example={"carer_told_on": "2026-12-10", "fostering_service_told_on": "2026-12-10"},
    ),
    "approval_review": StepRule(
        schema_=ApprovalReview,
        may_record=frozenset(
            {
                Role.supervising_social_worker,
                Role.team_manager,
                Role.service_manager,
                Role.lado_manager,
            }
        ),
        example={"presented_to_panel_on": "2027-01-14", "panel_recommendation": "..."},
    ),
}

# Steps that open together once the outcome is recorded (both count from it).
AFTER_OUTCOME = ("outcome_notification", "approval_review")


def rule(step: str) -> StepRule:
    """Return the rule of a step, or raise InputError listing the steps."""
    try:
        return STEPS[step]
    except KeyError:
        raise InputError(
            f"{step!r} is not a step of an allegation; steps: {', '.join(STEPS)}"
        ) from None


def parse_input(step: str, payload: Any) -> _Input:
    """Return the validated input of `step`, or raise InputError naming the field and an example."""
    step_rule = rule(step)
    if not isinstance(payload, dict):
        raise InputError(
            f"the input for {step} must be a JSON object, e.g. {_json(step_rule.example)}"
        )
    try:
        return step_rule.schema_.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "input"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = f"is not a field of {step}"
        raise InputError(
            f"{step}: {field}: {message} (example input: {_json(step_rule.example)})"
        ) from None


def unaccounted(open_action_ids: list[int], review: Review) -> list[int]:
    """Return the open actions a review leaves unaccounted for (it must name every one)."""
    named = {a.action_id for a in review.accounted}
    return sorted(set(open_action_ids) - named)


def due_after(meeting_day: date, due: date | int) -> date | WorkingDays:
    """Return an action's due date as given: a date, or working days after the meeting."""
    return due if isinstance(due, date) else WorkingDays(due)


def pause_key(step: str, sequence: int, attempt: int = 0) -> str:
    """Return the Prefect suspend key of a step: lowercase, digits and dashes only (prefect-notes
    rule 1), stable across deployments. A later attempt exists only if someone resumed the run
    from the UI without recording anything."""
    key = f"{step.replace('_', '-')}-{sequence}"
    return key if attempt == 0 else f"{key}-again-{attempt}"


def _json(example: dict[str, Any]) -> str:
    import json

    return json.dumps(example)

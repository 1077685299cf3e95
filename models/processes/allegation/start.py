"""The allegation's start and its initial consideration (reference L2-L4): the referral, the
threshold decision on its four limbs, and the route it takes next."""

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from models.enums import Role
from models.errors import about
from models.inputs import (
    ChildInCase,
    Label,
    PastMoment,
    Ref,
    StaffId,
    StepInput,
    Text,
    approver,
    staff,
)
from models.process import (
    ApplyContext,
    CheckContext,
    StartPlan,
    StepDecl,
)


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

    @property
    def words(self) -> str:
        """The route as a decision says it: "an allegation management meeting"."""
        return {
            Route.strategy_discussion: "a strategy discussion",
            Route.allegation_meeting: "an allegation management meeting",
            Route.no_further_action: "no further action",
            Route.advice: "advice",
        }[self]


class Category(StrEnum):
    """What kind of harm the allegation is about (Working Together 2023's categories of abuse,
    and behaviour that may mean the carer is not suitable to care for children)."""

    physical = "physical"
    emotional = "emotional"
    sexual = "sexual"
    neglect = "neglect"
    suitability = "suitability"
    other = "other"

    @property
    def label(self) -> str:
        """The category as a person reads it (the choices on the start form)."""
        return {
            Category.physical: "Physical abuse",
            Category.emotional: "Emotional abuse",
            Category.sexual: "Sexual abuse",
            Category.neglect: "Neglect",
            Category.suitability: "Behaviour that may mean they are not suitable to care for "
            "children",
            Category.other: "Other",
        }[self]


def categorised(data: dict[str, Any]) -> dict[str, Any]:
    """A start kept before the category was a fixed set (version 1, free text): its words read as
    the category they name ("physical abuse" -> physical), else as other, the words kept."""
    said = str(data.get("category", "")).strip()
    for category in Category:
        if category is not Category.other and said.lower().startswith(category.value):
            return {**data, "category": category.value}
    return {**data, "category": Category.other.value, "category_other": said or None}


class NewAllegation(StepInput):
    """A referral to the LADO. Names and narrative stay in our database (DESIGN rule 2)."""

    received_at: PastMoment = Field(title="When the LADO received the referral")
    aware_on: date = Field(title="Date the organisation became aware")
    carer: Ref = Field(
        title="Foster carer's reference",
        description="As on the fostering service's record, for example FC-0042",
    )
    fostering_service: Label = Field(title="Fostering service")
    # the carer's: a named party (their steps and ladders go to them)
    supervising_social_worker: Annotated[StaffId, staff(Role.supervising_social_worker)] = Field(
        title="The carer's supervising social worker"
    )
    children: tuple[ChildInCase, ...] = Field(title="Children")
    category: Category = Field(title="Category of allegation")
    category_other: Label | None = Field(
        default=None,
        title="If other, what the allegation is about",
        description="A few words",
        validate_default=True,
    )
    summary: Text = Field(title="Summary")
    # if known: the record is kept at least until then
    carer_pension_age_on: date | None = Field(default=None, title="The carer's normal pension age")

    @field_validator("children")
    @classmethod
    def _children(cls, value: tuple[ChildInCase, ...]) -> tuple[ChildInCase, ...]:
        if not value:
            raise ValueError("name at least one child, with their IRO and social worker")
        refs = [c.child for c in value]
        if len(set(refs)) != len(refs):
            raise ValueError("a child is listed twice")
        return value

    @field_validator("category_other")
    @classmethod
    def _other_said(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("category") is Category.other and not value:
            raise ValueError("say what the allegation is about, in a few words")
        return value

    @model_validator(mode="after")
    def _aware_first(self) -> "NewAllegation":
        if self.aware_on > self.received_at.date():
            raise ValueError(
                "the organisation cannot become aware after the LADO received the referral: "
                "check the day the organisation became aware"
            )
        return self


def start(plan: StartPlan, new: NewAllegation) -> None:
    """The case begins when the LADO receives the referral; the referral itself is measured."""
    plan.opened_at = new.received_at
    plan.details = new.model_dump(mode="json", exclude={"children"})
    for child in new.children:
        plan.child(child.child, child.iro, child.social_worker, child.placed_by, child.contact)
    plan.party(Role.supervising_social_worker, new.supervising_social_worker)
    plan.details["child_refs"] = [child.child for child in new.children]
    if new.carer_pension_age_on is not None:  # the retention rule's other date (L12)
        plan.details["retain_at_least_until"] = new.carer_pension_age_on.isoformat()
    plan.event("aware", new.aware_on)
    plan.event("referral_received", new.received_at)
    plan.measured_step("referral", new.received_at)  # in time or late: 1 working day after aware


class InitialConsideration(StepInput):
    threshold_met: bool = Field(title="Is the harm threshold met?")
    limbs: tuple[Limb, ...] = Field(default=(), title="Which limbs of the harm threshold apply")
    route: Route = Field(title="What happens next")
    rationale: Text | None = Field(default=None, title="Rationale")
    # Closing here (no further action, or advice) is a decision with a senior manager's approval
    # (L4); advice records the fostering service's follow-up.
    approved_by: Annotated[StaffId, approver()] | None = Field(default=None, title="Approved by")
    follow_up: Text | None = Field(default=None, title="Follow-up")
    # a police strand: reviews 4 weeks on, then fortnightly
    police_investigating: bool = Field(default=False, title="Are the police investigating?")

    @model_validator(mode="after")
    def _consistent(self) -> "InitialConsideration":
        if self.threshold_met and not self.limbs:
            raise ValueError(
                "The harm threshold is met: choose the limbs of it that apply (harm, offence, "
                "risk, unsuitability)"
            )
        if not self.threshold_met and self.limbs:
            raise ValueError(
                "The harm threshold is not met, so no limb of it can apply: remove the limbs, or "
                "say the threshold is met"
            )
        if not self.threshold_met and self.route.needs_meeting:
            raise ValueError(
                f"{self.route.words.capitalize()} needs the harm threshold met: choose no further "
                "action or advice"
            )
        return self


def closing_rules(ctx: CheckContext, data: InitialConsideration) -> None:
    """Closing at initial consideration is a decision with approval (L4). Checked when recorded,
    so an input stored before these rules still replays."""
    field, fault = "route", ""
    if data.threshold_met and data.route is Route.no_further_action:
        fault = (
            "No further action cannot follow a harm threshold that is met: a case that meets it "
            "goes to a strategy discussion or an allegation meeting (or advice, with reasons)"
        )
    elif not data.route.needs_meeting:
        given = (
            ("rationale", "its rationale", data.rationale),
            ("approved_by", "who approved it", data.approved_by),
        )
        missing = [(name, words) for name, words, value in given if not value]
        if missing:
            field, fault = (
                missing[0][0],
                (
                    f"Closing at initial consideration ({data.route.words}) needs "
                    f"{' and '.join(w for _, w in missing)}: the reasons and a LADO manager's (or "
                    "more senior) approval"
                ),
            )
        elif data.route is Route.advice and not data.follow_up:
            field, fault = "follow_up", "Advice needs the fostering service's follow-up: record it"
    elif data.approved_by or data.follow_up:
        field = "approved_by" if data.approved_by else "follow_up"
        fault = (
            "An approval and a follow-up belong to closing at initial consideration: leave them "
            "out when the case goes to a meeting"
        )
    if not fault and data.police_investigating and not data.route.needs_meeting:
        field, fault = (
            "police_investigating",
            (
                f"A police investigation needs a strategy discussion or an allegation meeting, "
                f"not {data.route.words}"
            ),
        )
    if fault:
        raise about(field, fault)
    if data.approved_by:
        outside_the_carers_service(ctx, data.approved_by, "approved_by")


def outside_the_carers_service(ctx: CheckContext, who: str, field: str) -> None:
    """An approval about the carer is never given by someone who manages the carer's supervising
    social worker: the fostering service's own line has a stake in it."""
    for ssw in ctx.parties.holding(Role.supervising_social_worker):
        if who == ssw or who in ctx.managers_of(ssw):
            raise about(
                field,
                f"{who} is in the line management of the carer's supervising social "
                f"worker ({ssw}): the approval must come from outside the carer's own service",
            )


def decide_threshold(ctx: ApplyContext, data: InitialConsideration) -> None:
    threshold = (
        f"threshold met ({', '.join(data.limbs)})" if data.threshold_met else "threshold not met"
    )
    ctx.decide("threshold_and_route", f"{threshold}; next: {data.route.words}", data.rationale)
    ctx.keep({"initial_evaluation_at": ctx.at.isoformat()})  # a police strand counts from it
    if data.police_investigating:  # the first police review no later than 4 weeks on (L7)
        ctx.event("police_review_due", ctx.at + timedelta(days=28), sequence=1)
        ctx.open_next("police_review", 1)
    if not data.route.needs_meeting:  # concluded here: the time to outcome ends now
        ctx.decide("closure_approved", f"approved by {data.approved_by}", data.rationale)
        if data.follow_up:
            ctx.decide("advice_follow_up", "fostering service follow-up", data.follow_up)
        ctx.close_also("outcome")


def route(data: InitialConsideration) -> Route:
    return data.route


INITIAL_CONSIDERATION: StepDecl[InitialConsideration, Route] = StepDecl(
    name="initial_consideration",
    input=InitialConsideration,
    may_record=frozenset({Role.lado}),
    check=closing_rules,
    apply=decide_threshold,
    result=route,
    example={
        "threshold_met": True,
        "limbs": ["harm"],
        "route": "allegation_meeting",
        "rationale": "...",
    },
)

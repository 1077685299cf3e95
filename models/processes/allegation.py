"""The allegation against a foster carer (the LADO process), declared: reference §1, steps L2-L16.

Read top to bottom it is the procedure:

    start                  referral received (when, and when the organisation became aware), the
                           carer, the fostering service, the children with their IRO and social
                           worker; the referral is measured against its 1 working day at once
    initial_consideration  threshold decision (four limbs) and route          a LADO
    allegation_meeting     held on, attendees by role, decisions, actions     the chair (the LADO)
    review_meeting (1..n)  every open action accounted for; ready for outcome? the chair
    outcome                category, rationale, DBS referral decision + reason a LADO
    outcome_notification   carer and fostering service told in writing        the LADO   } opened
    approval_review        presented to panel (or skipped: carer resigned)    fostering  } together

What comes next is the flow's (flows/allegation.py); clocks and ladders are the policy's
([processes.allegation] in policy/england.toml). No database or Prefect imports here.
"""

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from models.enums import Role
from models.errors import InputError
from models.inputs import (
    ActionAccount,
    ChildInCase,
    Label,
    NewAction,
    PastMoment,
    Ref,
    StaffId,
    StepDay,
    StepInput,
    Text,
    actions_after,
    approver,
    once_each,
    staff,
)
from models.process import ApplyContext, CheckContext, ProcessDecl, StartPlan, StepDecl, ViewFacts


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


# --- the start ---------------------------------------------------------------------------------------


class NewAllegation(StepInput):
    """A referral to the LADO. Names and narrative stay in our database (DESIGN rule 2)."""

    received_at: PastMoment  # the LADO received the referral
    aware_on: date  # the organisation became aware
    carer: Ref  # the foster carer's reference
    fostering_service: Label
    supervising_social_worker: Annotated[
        StaffId, staff(Role.supervising_social_worker)
    ]  # the carer's: a named party (their steps and ladders go to them)
    children: tuple[ChildInCase, ...]
    category: Ref  # physical, sexual, emotional, neglect...
    summary: Text

    @field_validator("children")
    @classmethod
    def _children(cls, value: tuple[ChildInCase, ...]) -> tuple[ChildInCase, ...]:
        if not value:
            raise ValueError("name at least one child: --child CHILD_REF:IRO_ID:SOCIAL_WORKER_ID")
        refs = [c.child for c in value]
        if len(set(refs)) != len(refs):
            raise ValueError("a child is listed twice")
        return value

    @model_validator(mode="after")
    def _aware_first(self) -> "NewAllegation":
        if self.aware_on > self.received_at.date():
            raise ValueError(
                "the organisation cannot become aware after the LADO received the referral: "
                "check aware_on (--aware)"
            )
        return self


def start(plan: StartPlan, new: NewAllegation) -> None:
    """The case begins when the LADO receives the referral; the referral itself is measured."""
    plan.opened_at = new.received_at
    plan.details = new.model_dump(mode="json", exclude={"children"})
    for child in new.children:
        plan.child(child.child, child.iro, child.social_worker)
    plan.party(Role.supervising_social_worker, new.supervising_social_worker)
    plan.details["child_refs"] = [child.child for child in new.children]
    plan.event("aware", new.aware_on)
    plan.event("referral_received", new.received_at)
    plan.measured_step("referral", new.received_at)  # in time or late: 1 working day after aware


# --- the steps ---------------------------------------------------------------------------------------


class InitialConsideration(StepInput):
    threshold_met: bool
    limbs: tuple[Limb, ...] = ()
    route: Route
    rationale: Text | None = None
    # Closing here (no further action, or advice) is a decision with a senior manager's approval
    # (L4); advice records the fostering service's follow-up.
    approved_by: Annotated[StaffId, approver()] | None = None
    follow_up: Text | None = None

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
        if self.threshold_met and self.route is Route.no_further_action:
            raise ValueError(
                "no_further_action with threshold_met true: a case that meets the harm threshold "
                "goes to a strategy discussion or an allegation meeting (or advice, with reasons)"
            )
        if not self.route.needs_meeting:
            missing = [
                name
                for name, value in (
                    ("rationale", self.rationale),
                    ("approved_by", self.approved_by),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"closing at initial consideration ({self.route.value}) needs "
                    f"{' and '.join(missing)}: the reasons and a LADO manager's (or more senior) approval"
                )
        if self.route is Route.advice and not self.follow_up:
            raise ValueError("advice: record the fostering service's follow-up (follow_up)")
        if self.route.needs_meeting and (self.approved_by or self.follow_up):
            raise ValueError("approved_by and follow_up belong to closing at initial consideration")
        return self


def decide_threshold(ctx: ApplyContext, data: InitialConsideration) -> None:
    threshold = (
        f"threshold met ({', '.join(data.limbs)})" if data.threshold_met else "threshold not met"
    )
    ctx.decide("threshold_and_route", f"{threshold}; route: {data.route.value}", data.rationale)
    if not data.route.needs_meeting:  # concluded here: the time to outcome ends now
        ctx.decide("closure_approved", f"approved by {data.approved_by}", data.rationale)
        if data.follow_up:
            ctx.decide("advice_follow_up", "fostering service follow-up", data.follow_up)
        ctx.close_also("outcome")


class Meeting(StepInput):
    held_on: StepDay
    attendees: tuple[Label, ...] = Field(min_length=1, description="who attended, by role")
    decisions: tuple[Text, ...] = ()
    actions: tuple[NewAction, ...] = ()
    ready_for_outcome: bool = False

    @model_validator(mode="after")
    def _dues(self, info: ValidationInfo) -> "Meeting":
        actions_after(self.held_on, self.actions, info, getattr(self, "accounted", ()))
        return self


class Review(Meeting):
    accounted: tuple[ActionAccount, ...] = ()

    _once = field_validator("accounted")(once_each)


def hold_meeting(ctx: ApplyContext, data: Meeting) -> None:
    """The meeting is an event (the next review counts from it); its actions start their clocks."""
    number = ctx.sequence + (1 if isinstance(data, Review) else 0)  # the first review is meeting 2
    ctx.event("meeting_held", data.held_on, sequence=number)
    ctx.add_actions(data.actions, data.held_on)
    if isinstance(data, Review):
        ctx.account_for(data.accounted, data.held_on)
    if data.ready_for_outcome:
        ctx.keep({"ready_for_outcome_on": data.held_on.isoformat()})


def every_action_accounted(ctx: CheckContext, data: Review) -> None:
    """A review must say of every open action: done, carried forward or not needed (Sefton 15.12)."""
    ctx.require_every_open_action_accounted(data.accounted, data.held_on)


def ready(data: Meeting) -> bool:
    return data.ready_for_outcome


class Outcome(StepInput):
    category: OutcomeCategory
    rationale: Text | None = None
    dbs_referral: bool
    dbs_reason: Text = Field(
        description="why a DBS referral is, or is not, made (required either way)"
    )


def meeting_found_ready(ctx: CheckContext, data: Outcome) -> None:
    """The outcome clock runs from the referral; recording the outcome waits for a meeting that
    found the case ready for it."""
    if not ctx.details.get("ready_for_outcome_on"):
        raise InputError(
            "outcome: no meeting has found the case ready for outcome yet: record the meeting "
            "(or review) with ready_for_outcome true first; the outcome's clock runs meanwhile"
        )


def decide_outcome(ctx: ApplyContext, data: Outcome) -> None:
    ctx.decide("outcome", data.category.value, data.rationale)
    ctx.decide(
        "dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason
    )
    ctx.event("outcome_recorded", ctx.at)


class ChildTold(StepInput):
    """Who was told of the outcome for one child: their social worker (or placing authority),
    their IRO, and their parents where appropriate (else why not)."""

    child: Ref
    social_worker_told_on: StepDay
    iro_told_on: StepDay
    parents_told_on: StepDay | None = None
    parents_not_told_reason: Text | None = None

    @model_validator(mode="after")
    def _parents(self) -> "ChildTold":
        if (self.parents_told_on is None) == (self.parents_not_told_reason is None):
            raise ValueError(
                f"child {self.child}: give parents_told_on, or parents_not_told_reason "
                "(why telling them was not appropriate), not both"
            )
        return self


class OutcomeNotification(StepInput):
    carer_told_on: StepDay
    fostering_service_told_on: StepDay
    how: Literal["letter", "email", "meeting_and_letter"] = "letter"  # in writing (L11)
    children: tuple[ChildTold, ...] = Field(min_length=1)

    @field_validator("children")
    @classmethod
    def _once(cls, value: tuple[ChildTold, ...]) -> tuple[ChildTold, ...]:
        refs = [c.child for c in value]
        if len(set(refs)) != len(refs):
            raise ValueError("a child is listed twice")
        return value


def every_child_told(ctx: CheckContext, data: OutcomeNotification) -> None:
    named = set(ctx.details.get("child_refs", ()))
    given = {c.child for c in data.children}
    if not named:  # a case started before the children's references were kept
        return
    if given != named:
        missing, unknown = sorted(named - given), sorted(given - named)
        raise InputError(
            "outcome_notification: say who was told for each child of the case "
            f"(missing: {', '.join(missing) or '-'}; not in the case: {', '.join(unknown) or '-'})"
        )


def record_told(ctx: ApplyContext, data: OutcomeNotification) -> None:
    ctx.event("carer_told_outcome", data.carer_told_on)
    ctx.event("fostering_service_told_outcome", data.fostering_service_told_on)
    for child in data.children:
        if child.parents_not_told_reason:
            ctx.decide("parents_not_told", f"child {child.child}", child.parents_not_told_reason)


class ApprovalReview(StepInput):
    presented_to_panel_on: StepDay | None = None
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


def review_approval(ctx: ApplyContext, data: ApprovalReview) -> None:
    if data.skipped_reason:  # a departure from procedure needs its reason (DESIGN rule 9)
        ctx.decide("approval_review_skipped", "skipped", data.skipped_reason)


def skipped(data: ApprovalReview) -> bool:
    return data.skipped_reason is not None


def route(data: InitialConsideration) -> Route:
    return data.route


MEETING_RECORDERS = frozenset({Role.lado, Role.lado_manager})

INITIAL_CONSIDERATION: StepDecl[InitialConsideration, Route] = StepDecl(
    name="initial_consideration",
    input=InitialConsideration,
    may_record=frozenset({Role.lado}),
    apply=decide_threshold,
    result=route,
    example={
        "threshold_met": True,
        "limbs": ["harm"],
        "route": "allegation_meeting",
        "rationale": "...",
    },
)
ALLEGATION_MEETING: StepDecl[Meeting, bool] = StepDecl(
    name="allegation_meeting",
    input=Meeting,
    may_record=MEETING_RECORDERS,
    chair_only=True,
    apply=hold_meeting,
    result=ready,
    example={
        "held_on": "2026-11-05",
        "attendees": ["lado", "supervising_social_worker", "police"],
        "decisions": ["..."],
        "actions": [{"title": "...", "owner": "STAFF_ID", "due": 5}],
    },
)
REVIEW_MEETING: StepDecl[Review, bool] = StepDecl(
    name="review_meeting",
    input=Review,
    may_record=MEETING_RECORDERS,
    chair_only=True,
    check=every_action_accounted,
    apply=hold_meeting,
    result=ready,
    example={
        "held_on": "2026-12-03",
        "attendees": ["lado"],
        "accounted": [{"action_id": 1, "status": "done"}],
        "ready_for_outcome": True,
    },
)
OUTCOME: StepDecl[Outcome, None] = StepDecl(
    name="outcome",
    input=Outcome,
    may_record=frozenset({Role.lado}),
    check=meeting_found_ready,
    apply=decide_outcome,
    example={
        "category": "unsubstantiated",
        "rationale": "...",
        "dbs_referral": False,
        "dbs_reason": "...",
    },
)
OUTCOME_NOTIFICATION: StepDecl[OutcomeNotification, None] = StepDecl(
    name="outcome_notification",
    input=OutcomeNotification,
    may_record=MEETING_RECORDERS,
    check=every_child_told,
    apply=record_told,
    example={
        "carer_told_on": "2026-12-10",
        "fostering_service_told_on": "2026-12-10",
        "how": "letter",
        "children": [
            {
                "child": "C-1042",
                "social_worker_told_on": "2026-12-10",
                "iro_told_on": "2026-12-10",
                "parents_not_told_reason": "...",
            }
        ],
    },
)
APPROVAL_REVIEW: StepDecl[ApprovalReview, None] = StepDecl(
    name="approval_review",
    input=ApprovalReview,
    may_record=frozenset(
        {Role.supervising_social_worker, Role.team_manager, Role.service_manager, Role.lado_manager}
    ),
    apply=review_approval,
    skipped=skipped,
    example={"presented_to_panel_on": "2027-01-14", "panel_recommendation": "..."},
)


# --- the view ----------------------------------------------------------------------------------------


def view(facts: ViewFacts) -> dict[str, Any]:
    """The referral (in time or late) and the time to outcome against KCSIE's targets (L10)."""
    details, seen = facts.details, facts.view
    referral = next((s for s in seen["steps"] if s["step"] == "referral"), None)
    received_at = datetime.fromisoformat(details["received_at"])
    outcome = next((d for d in seen["decisions"] if d["kind"] == "outcome"), None)
    end = datetime.fromisoformat(outcome["decided_at"]) if outcome else facts.now
    met = [
        str(target)
        for target in facts.policy.step("outcome").targets
        if end < facts.calendar.due(received_at, target).deadline
    ]
    return {
        "lado": seen["lead"],
        "referral": {
            "received_at": received_at.isoformat(),
            "aware_on": details["aware_on"],
            "late": bool(referral and referral["late"]),
            "carer": details["carer"],
            "fostering_service": details["fostering_service"],
            "category": details["category"],
            "summary": details["summary"],
        },
        "time_to_outcome": {
            "measured_to": "outcome" if outcome else "now",
            "within": met[0] if met else "beyond every target",
        },
    }


def headline(seen: Mapping[str, Any]) -> str:
    return (
        f"LADO {seen['lado']}; referral {'LATE' if seen['referral']['late'] else 'in time'}; "
        f"time to outcome: {seen['time_to_outcome']['within']}"
    )


ALLEGATION: ProcessDecl[NewAllegation] = ProcessDecl(
    code="allegation",
    noun="an allegation",
    start_input=NewAllegation,
    start_example={
        "received_at": "2026-10-19T09:15",
        "aware_on": "2026-10-19",
        "carer": "FC-0042",
        "fostering_service": "Northshire Fostering",
        "supervising_social_worker": "ssw-1",
        "children": [{"child": "C-1042", "iro": "iro-1", "social_worker": "sw-1"}],
        "category": "physical",
        "summary": "...",
    },
    may_start=frozenset({Role.lado}),
    lead_role=Role.lado,
    overseer=Role.lado_manager,
    start=start,
    steps=(
        INITIAL_CONSIDERATION,
        ALLEGATION_MEETING,
        REVIEW_MEETING,
        OUTCOME,
        OUTCOME_NOTIFICATION,
        APPROVAL_REVIEW,
    ),
    flow="flows.allegation:allegation",
    view=view,
    headline=headline,
)

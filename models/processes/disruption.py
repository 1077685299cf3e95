"""Placement disruption, declared: reference §2 (D3-D11) and CPPCR 2010 regs 9, 10, 13, 14, 28, 32.

One child, one placement ending (planned, or an emergency under reg 14(3)). Read top to bottom:

    start                  the child (IRO, social worker), the carer, the fostering service and
                           the carer's supervising social worker (named), the team manager who
                           leads, the placement type, siblings, Key Stage 4, how it ended; the
                           earlier unplanned endings of the child and the carer in 12 months are
                           counted; an ending that followed an allegation is linked to its case
    care_plan_review       planned: the review that considered the ending, before it (reg 14(1))
    emergency_ending       emergency: the ground (reg 14(3)) and its rationale, approved
    iro_informed           before a planned ending (reg 14(2)(b)); after an emergency, by the next
      (_emergency)         working day (design); told late: the IRO and their manager hear at once
    written_notice         } after the ending, side by side, each with its own clock: notice to
    new_placement_notice   } those not told in advance (reg 14(4)), the new placement notified
    placement_plan         } (reg 13), its plan with the child's wishes (reg 9), the social
    social_worker_visit    } worker's visit (reg 28), a Key Stage 4 move approved with the IRO
    education_approval     } consulted (reg 10); separating siblings needs reasons
    meeting_decision       hold a disruption meeting, or record why not (a required one, for a
                           long-term or permanent placement, only with the head of service's
                           approval)
    disruption_meeting     chaired by someone independent of the placement; recommendations
    meeting_report         on the child's and the carer's records; the next reviews' date
    follow_through (1..n)  each recommendation accounted for at the next reviews

What comes next is the flow's (flows/disruption.py); clocks and ladders are the policy's
([processes.disruption] in policy/england.toml). No database or Prefect imports here.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from models.enums import Role
from models.errors import InputError
from models.inputs import (
    ActionAccount,
    ChildInCase,
    Label,
    NewAction,
    PastDay,
    Ref,
    StaffId,
    StepInput,
    Text,
    actions_after,
    approver,
    once_each,
    staff,
)
from models.process import (
    ApplyContext,
    CheckContext,
    EarlierCase,
    Measure,
    ProcessDecl,
    StartPlan,
    StepDecl,
    ViewFacts,
)


class PlacementType(StrEnum):
    short_term = "short_term"
    long_term = "long_term"
    permanent = "permanent"  # matched for permanence
    emergency = "emergency"
    parent_and_child = "parent_and_child"
    respite = "respite"
    other = "other"

    @property
    def meeting_required(self) -> bool:
        """A disruption meeting is required for long-term or permanent placements (D6)."""
        return self in (PlacementType.long_term, PlacementType.permanent)


class EndedBy(StrEnum):
    carer_notice = "carer_notice"
    authority = "authority"
    child = "child"
    court = "court"
    allegation = "allegation"  # following an allegation against the carer: its ALG- case linked


class Ending(StepInput):
    ended_by: EndedBy = Field(title="Who or what ended it")
    planned: bool = Field(title="Is the ending planned?")
    # the day the placement ends (planned) or ended (emergency)
    ends_on: date = Field(title="Date the placement ends")
    # the day the child's next placement starts
    new_placement_on: date = Field(title="Date the new placement starts")
    # the allegation case (ALG-...) it followed
    allegation: Ref | None = Field(default=None, title="The allegation case it followed")

    @model_validator(mode="after")
    def _consistent(self) -> "Ending":
        if (self.ended_by is EndedBy.allegation) != (self.allegation is not None):
            raise ValueError(
                "name the allegation case (ending.allegation, e.g. ALG-2026-0001) when, and only "
                "when, the placement ended following an allegation (ended_by: allegation)"
            )
        if self.new_placement_on < self.ends_on:
            raise ValueError(
                "new_placement_on is before ends_on: the child cannot move back in time"
            )
        return self


class AtRisk(StepInput):
    # the carer gave notice, the child asked to leave, an allegation...
    identified_on: PastDay = Field(title="Date the risk was seen")
    concern: Text = Field(title="The concern")


class NewDisruption(StepInput):
    """A placement ending or ended (`ending`), or at risk of it (`at_risk`): one of the two."""

    child: ChildInCase = Field(title="The child")
    carer: Ref = Field(title="Foster carer's reference")
    fostering_service: Label = Field(title="Fostering service")
    supervising_social_worker: Annotated[StaffId, staff(Role.supervising_social_worker)] = Field(
        title="The carer's supervising social worker (staff id)"
    )
    # leads the case
    team_manager: Annotated[StaffId, staff(Role.team_manager)] = Field(
        title="Team manager (staff id)"
    )
    placement_type: PlacementType = Field(title="Type of placement")
    # siblings placed with the child
    siblings_together: tuple[Ref, ...] = Field(
        default=(), title="Siblings placed with the child (one per line)"
    )
    # years 10-11: a move needs the nominated officer (reg 10)
    key_stage_4: bool = Field(default=False, title="Is the child in key stage 4 (years 10 and 11)?")
    ending: Ending | None = Field(default=None, title="The ending")
    at_risk: AtRisk | None = Field(default=None, title="A placement at risk")

    @model_validator(mode="after")
    def _one_way_in(self) -> "NewDisruption":
        if (self.ending is None) == (self.at_risk is None):
            raise ValueError(
                "give either ending (the placement ends or ended) or at_risk (a stability "
                "meeting first), not both"
            )
        if self.child.external:
            raise ValueError(
                "child: a placement this authority ends is of a child it looks after: give the "
                "child's iro and social_worker (staff ids)"
            )
        return self


UNPLANNED_WINDOW = timedelta(days=365)


def start(plan: StartPlan, new: NewDisruption) -> None:
    """The clocks count from the risk identified, or from the placement's end and the new one's
    start."""
    plan.details = new.model_dump(mode="json")
    plan.child(new.child.child, new.child.iro, new.child.social_worker)
    plan.party(Role.supervising_social_worker, new.supervising_social_worker)
    plan.lead = new.team_manager
    if new.at_risk is not None:
        plan.event("risk_identified", new.at_risk.identified_on)
        return
    assert new.ending is not None
    today = plan.opened_at.astimezone(plan.tz).date()
    plan.details.update(_history(new.ending, new.child.child, new.carer, plan.earlier(), today))
    plan.event("placement_ended", new.ending.ends_on)
    plan.event("placement_started", new.ending.new_placement_on)
    if new.ending.allegation:
        plan.link(new.ending.allegation, LINKED, "allegation")


LINKED = "the allegation that led to the ending"


def _history(
    ending: Ending, child: str, carer: str, earlier: Sequence[EarlierCase], today: date
) -> dict[str, Any]:
    """The child's and the carer's earlier endings: the unplanned ones in the 12 months before
    this one prompt a disruption meeting (D6)."""
    if not ending.planned and ending.ends_on > today:
        raise InputError(
            "an emergency ending has happened: ending.ends_on cannot be in the future "
            "(a planned ending may be)"
        )
    ended = [e for e in earlier if e.details.get("ending")]
    since = ending.ends_on - UNPLANNED_WINDOW

    def unplanned(by: str, value: str) -> list[str]:
        return [
            e.reference
            for e in ended
            if _who(e.details, by) == value
            and not e.details["ending"]["planned"]
            and since <= date.fromisoformat(e.details["ending"]["ends_on"]) <= ending.ends_on
        ]

    return {
        "earlier_unplanned_endings": {
            "child": unplanned("child", child),
            "carer": unplanned("carer", carer),
        },
        "earlier_cases": [
            e.reference
            for e in earlier
            if _who(e.details, "child") == child or _who(e.details, "carer") == carer
        ],
    }


def _who(details: Mapping[str, Any], by: str) -> str | None:
    return details["child"]["child"] if by == "child" else details.get("carer")


def facts(details: Mapping[str, Any]) -> dict[str, Any]:
    """What the flow branches on (codes only)."""
    ending = details.get("ending")
    return {
        "at_risk": ending is None,
        "planned": bool(ending and ending["planned"]),
        "key_stage_4": details["key_stage_4"],
    }


# --- a placement at risk: the stability meeting (D1, D2) ------------------------------------------


class Stability(StrEnum):
    stable = "stable"  # the placement goes on, with its support plan
    ending = "ending"  # it ends: how, below


class StabilityMeeting(StepInput):
    held_on: PastDay = Field(title="Date held")
    attendees: tuple[Label, ...] = Field(min_length=1, title="Who attended (one per line, by role)")
    decision: Stability = Field(title="Decision")
    rationale: Text = Field(title="Rationale")
    # extra visits, respite, direct work...
    support_plan: tuple[NewAction, ...] = Field(default=(), title="Support plan")
    # when the support plan is reviewed (needed with one)
    review_on: date | None = Field(default=None, title="Date the support plan is reviewed")
    ending: Ending | None = Field(default=None, title="How the placement ends")  # when it ends

    @model_validator(mode="after")
    def _complete(self) -> "StabilityMeeting":
        actions_after(self.held_on, self.support_plan)
        if (self.decision is Stability.ending) != (self.ending is not None):
            raise ValueError("the placement ends: give ending (and only then)")
        if self.decision is Stability.stable and self.support_plan and self.review_on is None:
            raise ValueError("a support plan needs review_on: when it is reviewed")
        if self.review_on is not None and self.review_on <= self.held_on:
            raise ValueError("review_on must come after the meeting")
        return self


def after_the_risk(ctx: CheckContext, data: StabilityMeeting) -> None:
    identified = date.fromisoformat(ctx.details["at_risk"]["identified_on"])
    if data.held_on < identified:
        raise InputError(
            f"stability_meeting: held_on {data.held_on} is before the risk was identified ({identified})"
        )


def meet_on_stability(ctx: ApplyContext, data: StabilityMeeting) -> None:
    ctx.decide("placement_stability", data.decision.value, data.rationale)
    ctx.add_actions(data.support_plan, data.held_on)
    if data.review_on is not None:
        ctx.event("next_review", data.review_on)
    if data.ending is not None:  # from here the case runs as an ending
        ctx.keep({"ending": data.ending.model_dump(mode="json")})
        ctx.event("placement_ended", data.ending.ends_on)
        ctx.event("placement_started", data.ending.new_placement_on)
        if data.ending.allegation:
            ctx.link(data.ending.allegation, LINKED, "allegation")


def decided(data: StabilityMeeting) -> tuple[Stability, bool]:
    """The decision, and whether a support plan is to be reviewed."""
    return data.decision, data.review_on is not None


# --- before or at the ending -----------------------------------------------------------------------


class CarePlanReview(StepInput):
    # the review (chaired by the IRO) that considered the ending
    reviewed_on: PastDay = Field(title="Date reviewed")
    # what the review decided about the care plan
    decision: Text = Field(title="Decision on the care plan")
    rationale: Text | None = Field(default=None, title="Rationale")


def must_precede(ctx: CheckContext, data: CarePlanReview) -> None:
    ends_on = date.fromisoformat(ctx.details["ending"]["ends_on"])
    if data.reviewed_on > ends_on:
        raise InputError(
            f"care_plan_review: reviewed_on {data.reviewed_on} is after the placement ends "
            f"({ends_on}): reg 14(1) asks for the review before; if it could not be held, the "
            "ending is an emergency"
        )


def review_care_plan(ctx: ApplyContext, data: CarePlanReview) -> None:
    ctx.decide("care_plan_review", "ending considered at a review", data.rationale)


class Ground(StrEnum):
    significant_harm = "significant_harm"  # an immediate risk of significant harm to the child
    protect_others = "protect_others"  # to protect others from serious injury


class EmergencyEnding(StepInput):
    ground: Ground = Field(title="Ground")
    rationale: Text = Field(title="Rationale")
    # at least the policy's approver
    approved_by: Annotated[StaffId, approver()] = Field(title="Approved by (staff id)")


def record_emergency(ctx: ApplyContext, data: EmergencyEnding) -> None:
    ctx.decide("emergency_ending", data.ground.value, data.rationale)


class IroInformed(StepInput):
    told_on: PastDay = Field(title="Date the IRO was told")
    how: Label = Field(title="How they were told")  # in person, by phone, by email...


# --- after the ending, side by side --------------------------------------------------------------------


class WrittenNotice(StepInput):
    sent_on: PastDay = Field(title="Date sent")
    # those not told in advance (reg 14(4))
    to: tuple[Label, ...] = Field(min_length=1, title="Sent to (one per line)")


class NewPlacementNotice(StepInput):
    notified_on: PastDay = Field(title="Date notified")
    # who was told in writing (reg 13)
    notified: tuple[Label, ...] = Field(
        min_length=1, title="Who was told in writing (one per line)"
    )
    siblings_separated: bool = Field(default=False, title="Are siblings separated?")
    separation_reasons: Text | None = Field(default=None, title="Why siblings are separated")

    @model_validator(mode="after")
    def _iro_and_reasons(self) -> "NewPlacementNotice":
        if not any(who.lower() == "iro" for who in self.notified):
            raise ValueError('notified must include the IRO (reg 13(2)(i)): add "iro"')
        if self.siblings_separated and not self.separation_reasons:
            raise ValueError("siblings separated: give separation_reasons (CA 1989 s22C(8)(c))")
        return self


def notify_placement(ctx: ApplyContext, data: NewPlacementNotice) -> None:
    if data.siblings_separated:
        ctx.decide("siblings_separated", "placed apart", data.separation_reasons)


class PlacementPlan(StepInput):
    agreed_on: PastDay = Field(title="Date agreed")
    # the child's wishes and feelings (reg 9(1)(b))
    childs_wishes: Text = Field(title="The child's wishes and feelings")


class SocialWorkerVisit(StepInput):
    visited_on: PastDay = Field(title="Date visited")
    seen_alone: bool = Field(title="Was the child seen alone?")


def after_the_move(ctx: CheckContext, data: SocialWorkerVisit) -> None:
    start_on = date.fromisoformat(ctx.details["ending"]["new_placement_on"])
    if data.visited_on < start_on:
        raise InputError(
            f"social_worker_visit: visited_on {data.visited_on} is before the new placement "
            f"started ({start_on}): reg 28 asks for a visit in it"
        )


class EducationApproval(StepInput):
    approved_on: PastDay = Field(title="Date approved")
    # reg 10: the authority's nominated officer
    nominated_officer: Annotated[StaffId, approver()] = Field(title="Nominated officer (staff id)")
    iro_consulted_on: PastDay = Field(title="Date the IRO was consulted")
    rationale: Text = Field(title="Rationale")


def approve_education(ctx: ApplyContext, data: EducationApproval) -> None:
    ctx.decide("key_stage_4_move", "approved by the nominated officer", data.rationale)


# --- the disruption meeting ------------------------------------------------------------------------


class MeetingDecision(StepInput):
    hold: bool = Field(title="Is a disruption meeting held?")
    reasons: Text | None = Field(default=None, title="Reasons")  # why not, when not
    # a required meeting not held
    approved_by: Annotated[StaffId, approver()] | None = Field(
        default=None, title="Approved by (staff id)"
    )


def meeting_rules(ctx: CheckContext, data: MeetingDecision) -> None:
    if data.hold:
        return
    if not data.reasons:
        raise InputError("meeting_decision: not holding a disruption meeting needs reasons")
    kind = PlacementType(ctx.details["placement_type"])
    if kind.meeting_required and not data.approved_by:
        raise InputError(
            f"meeting_decision: a disruption meeting is required for a {kind.value.replace('_', '-')} "
            "placement: not holding one needs the head of service's approval (approved_by)"
        )


def decide_meeting(ctx: ApplyContext, data: MeetingDecision) -> None:
    ctx.decide(
        "disruption_meeting",
        "hold" if data.hold else "not held",
        data.reasons or "a disruption meeting is to be held",
    )


def hold(data: MeetingDecision) -> bool:
    return data.hold


class Excluded(StepInput):
    who: Label = Field(title="Who")
    reason: Text = Field(title="Why")


class DisruptionMeeting(StepInput):
    held_on: PastDay = Field(title="Date held")
    chair: Annotated[StaffId, staff()] = Field(title="Chair (staff id)")
    attendees: tuple[Label, ...] = Field(min_length=1, title="Who attended (one per line, by role)")
    excluded: tuple[Excluded, ...] = Field(default=(), title="Who was not invited, and why")
    sequence_of_events: Text = Field(title="Sequence of events")
    # whether the placement was appropriate and adequately resourced
    the_match: Text = Field(title="The match")
    support_given: Text = Field(title="Support given")
    childs_view: Text = Field(title="The child's view")
    recommendations: tuple[NewAction, ...] = Field(default=(), title="Recommendations")

    @model_validator(mode="after")
    def _dues(self) -> "DisruptionMeeting":
        actions_after(self.held_on, self.recommendations)
        return self


def independent_chair(ctx: CheckContext, data: DisruptionMeeting) -> None:
    parties = ctx.parties
    if data.chair in parties.social_workers:
        raise InputError(
            f"disruption_meeting: {data.chair} is the child's social worker: the chair must be "
            "independent of the placement (an IRO or an independent chair)"
        )
    if data.chair in parties.holding(Role.supervising_social_worker):
        raise InputError(
            f"disruption_meeting: {data.chair} is the carer's supervising social worker: the chair "
            "must be independent of the placement (an IRO or an independent chair)"
        )
    ends_on = date.fromisoformat(ctx.details["ending"]["ends_on"])
    if data.held_on < ends_on:
        raise InputError(
            f"disruption_meeting: held_on {data.held_on} is before the placement ended ({ends_on})"
        )


def hold_meeting(ctx: ApplyContext, data: DisruptionMeeting) -> None:
    ctx.event("meeting_held", data.held_on)
    ctx.add_actions(data.recommendations, data.held_on)


class MeetingReport(StepInput):
    filed_on: PastDay = Field(title="Date filed")
    on_child_record: Literal[True] = Field(title="Is it on the child's record?")
    on_carer_record: Literal[True] = Field(title="Is it on the carer's record?")
    summary: Text = Field(title="Summary")
    # the child's next looked-after review or the carer's approval review
    next_review_on: date = Field(title="Date of the next review")

    @model_validator(mode="after")
    def _after(self) -> "MeetingReport":
        if self.next_review_on < self.filed_on:
            raise ValueError("next_review_on is before the report was filed")
        return self


def file_report(ctx: ApplyContext, data: MeetingReport) -> None:
    """Filed on the child's and the carer's records: `safeguard child show` and `carer show`
    list it with the case."""
    ctx.decide("meeting_report", "filed on the child's and the carer's records", data.summary)
    ctx.event("next_review", data.next_review_on)


class FollowThrough(StepInput):
    held_on: PastDay = Field(title="Date held")
    review: Literal["looked_after_review", "approval_review"] = Field(title="Review")
    accounted: tuple[ActionAccount, ...] = Field(
        default=(), title="What happened to each recommendation"
    )
    # when a recommendation is carried forward
    next_review_on: date | None = Field(default=None, title="Date of the next review")

    _once = field_validator("accounted")(once_each)

    @model_validator(mode="after")
    def _next(self) -> "FollowThrough":
        carried = any(a.status == "carried_forward" for a in self.accounted)
        if carried and self.next_review_on is None:
            raise ValueError("a recommendation is carried forward: give next_review_on")
        if self.next_review_on is not None and self.next_review_on <= self.held_on:
            raise ValueError("next_review_on must come after this review")
        return self


def every_recommendation(ctx: CheckContext, data: FollowThrough) -> None:
    ctx.require_every_open_action_accounted(data.accounted, data.held_on)


def follow_through(ctx: ApplyContext, data: FollowThrough) -> None:
    ctx.account_for(data.accounted, data.held_on)
    if data.next_review_on is not None:
        ctx.event("next_review", data.next_review_on, sequence=ctx.sequence + 1)


def more_to_follow(data: FollowThrough) -> bool:
    return any(a.status == "carried_forward" for a in data.accounted)


SOCIAL_WORK = frozenset({Role.social_worker, Role.team_manager})
MANAGERS = frozenset({Role.team_manager, Role.service_manager, Role.head_of_service})

STABILITY_MEETING: StepDecl[StabilityMeeting, tuple[Stability, bool]] = StepDecl(
    name="stability_meeting",
    input=StabilityMeeting,
    may_record=MANAGERS | {Role.social_worker, Role.supervising_social_worker},
    check=after_the_risk,
    apply=meet_on_stability,
    result=decided,
    done_on=lambda data: data.held_on,
    example={
        "held_on": "2026-11-10",
        "attendees": ["social worker", "supervising social worker", "carers"],
        "decision": "stable",
        "rationale": "...",
        "support_plan": [{"title": "Respite weekend", "owner": "STAFF_ID", "due": 10}],
        "review_on": "2026-12-08",
    },
)
CARE_PLAN_REVIEW: StepDecl[CarePlanReview, None] = StepDecl(
    name="care_plan_review",
    input=CarePlanReview,
    may_record=frozenset({Role.social_worker, Role.team_manager, Role.iro}),
    check=must_precede,
    apply=review_care_plan,
    done_on=lambda data: data.reviewed_on,
    example={"reviewed_on": "2026-11-10", "decision": "...", "rationale": "..."},
)
EMERGENCY_ENDING: StepDecl[EmergencyEnding, None] = StepDecl(
    name="emergency_ending",
    input=EmergencyEnding,
    may_record=SOCIAL_WORK,
    apply=record_emergency,
    example={"ground": "significant_harm", "rationale": "...", "approved_by": "STAFF_ID"},
)
IRO_INFORMED: StepDecl[IroInformed, None] = StepDecl(
    name="iro_informed",
    input=IroInformed,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.told_on,
    example={"told_on": "2026-11-12", "how": "by phone, then email"},
)
IRO_INFORMED_EMERGENCY: StepDecl[IroInformed, None] = StepDecl(
    name="iro_informed_emergency",
    input=IroInformed,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.told_on,
    example={"told_on": "2026-11-12", "how": "by phone"},
)
WRITTEN_NOTICE: StepDecl[WrittenNotice, None] = StepDecl(
    name="written_notice",
    input=WrittenNotice,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.sent_on,
    example={"sent_on": "2026-11-16", "to": ["parents", "school"]},
)
NEW_PLACEMENT_NOTICE: StepDecl[NewPlacementNotice, None] = StepDecl(
    name="new_placement_notice",
    input=NewPlacementNotice,
    may_record=SOCIAL_WORK,
    apply=notify_placement,
    done_on=lambda data: data.notified_on,
    example={"notified_on": "2026-11-13", "notified": ["iro", "parents", "school"]},
)
PLACEMENT_PLAN: StepDecl[PlacementPlan, None] = StepDecl(
    name="placement_plan",
    input=PlacementPlan,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.agreed_on,
    example={"agreed_on": "2026-11-14", "childs_wishes": "..."},
)
SOCIAL_WORKER_VISIT: StepDecl[SocialWorkerVisit, None] = StepDecl(
    name="social_worker_visit",
    input=SocialWorkerVisit,
    may_record=SOCIAL_WORK,
    check=after_the_move,
    done_on=lambda data: data.visited_on,
    example={"visited_on": "2026-11-17", "seen_alone": True},
)
EDUCATION_APPROVAL: StepDecl[EducationApproval, None] = StepDecl(
    name="education_approval",
    input=EducationApproval,
    may_record=MANAGERS | {Role.social_worker},
    apply=approve_education,
    done_on=lambda data: data.approved_on,
    example={
        "approved_on": "2026-11-12",
        "nominated_officer": "STAFF_ID",
        "iro_consulted_on": "2026-11-11",
        "rationale": "...",
    },
)
MEETING_DECISION: StepDecl[MeetingDecision, bool] = StepDecl(
    name="meeting_decision",
    input=MeetingDecision,
    may_record=MANAGERS | {Role.iro},
    check=meeting_rules,
    apply=decide_meeting,
    result=hold,
    example={"hold": False, "reasons": "...", "approved_by": "STAFF_ID"},
)
DISRUPTION_MEETING: StepDecl[DisruptionMeeting, None] = StepDecl(
    name="disruption_meeting",
    input=DisruptionMeeting,
    may_record=MANAGERS | {Role.iro},
    check=independent_chair,
    apply=hold_meeting,
    done_on=lambda data: data.held_on,
    example={
        "held_on": "2026-11-20",
        "chair": "STAFF_ID",
        "attendees": ["iro", "social worker", "carers", "supervising social worker"],
        "excluded": [{"who": "birth father", "reason": "..."}],
        "sequence_of_events": "...",
        "the_match": "...",
        "support_given": "...",
        "childs_view": "...",
        "recommendations": [{"title": "...", "owner": "STAFF_ID", "due": 10}],
    },
)
MEETING_REPORT: StepDecl[MeetingReport, None] = StepDecl(
    name="meeting_report",
    input=MeetingReport,
    may_record=MANAGERS | {Role.iro},
    apply=file_report,
    done_on=lambda data: data.filed_on,
    example={
        "filed_on": "2026-11-27",
        "on_child_record": True,
        "on_carer_record": True,
        "summary": "...",
        "next_review_on": "2027-01-15",
    },
)
FOLLOW_THROUGH: StepDecl[FollowThrough, bool] = StepDecl(
    name="follow_through",
    input=FollowThrough,
    may_record=SOCIAL_WORK | {Role.iro, Role.supervising_social_worker},
    check=every_recommendation,
    apply=follow_through,
    result=more_to_follow,
    done_on=lambda data: data.held_on,
    example={
        "held_on": "2027-01-15",
        "review": "looked_after_review",
        "accounted": [{"action_id": 1, "status": "done"}],
    },
)


# --- the view ----------------------------------------------------------------------------------------


def view(facts_: ViewFacts) -> dict[str, Any]:
    """The placement and how it ended, the earlier disruptions, and the meeting's footing."""
    details = facts_.details
    kind = PlacementType(details["placement_type"])
    earlier = details.get("earlier_unplanned_endings", {"child": [], "carer": []})
    return {
        "placement": {
            "child": details["child"]["child"],
            "carer": details["carer"],
            "fostering_service": details["fostering_service"],
            "supervising_social_worker": details["supervising_social_worker"],
            "type": kind.value,
            "siblings_together": details["siblings_together"],
            "key_stage_4": details["key_stage_4"],
            "at_risk": details.get("at_risk"),
            **(details.get("ending") or {}),
        },
        "meeting": {
            "required": kind.meeting_required,
            "prompted_by": earlier,  # second unplanned ending in 12 months, of the child or carer
        },
        "earlier_cases": details.get("earlier_cases", []),
        "notes": [f"earlier cases of this child or carer: {', '.join(details['earlier_cases'])}"]
        if details.get("earlier_cases")
        else [],
    }


def measures(cases: list[dict[str, str]]) -> list[Measure]:
    """The failures the seeds name: the IRO not told in time; no meeting and no recorded reason."""
    endings = [c for c in cases if "iro_informed" in c or "iro_informed_emergency" in c]

    def told_in_time(case: dict[str, str]) -> bool:
        how = case.get("iro_informed") or case.get("iro_informed_emergency") or ""
        return how.startswith("in time")

    def held_or_justified(case: dict[str, str]) -> bool:
        return case.get("meeting_decision", "open") not in ("open", "overdue", "stopped")

    return [
        Measure(
            "endings where the IRO was told in time", sum(map(told_in_time, endings)), len(endings)
        ),
        Measure(
            "endings with a meeting held or its absence justified",
            sum(map(held_or_justified, endings)),
            len(endings),
        ),
        Measure(
            "endings with both",
            sum(1 for c in endings if told_in_time(c) and held_or_justified(c)),
            len(endings),
        ),
    ]


def headline(seen: Mapping[str, Any]) -> str:
    placement, meeting = seen["placement"], seen["meeting"]
    if "ends_on" not in placement:
        return (
            f"team manager {seen['lead']}; child {placement['child']}, "
            f"{placement['type'].replace('_', '-')} placement AT RISK since "
            f"{placement['at_risk']['identified_on']}"
        )
    prompted = meeting["prompted_by"]["child"] or meeting["prompted_by"]["carer"]
    basis = (
        "required"
        if meeting["required"]
        else f"prompted (unplanned endings in 12 months: {', '.join(prompted)})"
        if prompted
        else "to decide"
    )
    return (
        f"team manager {seen['lead']}; child {placement['child']}, "
        f"{placement['type'].replace('_', '-')} placement, "
        f"{'planned' if placement['planned'] else 'EMERGENCY'} ending {placement['ends_on']}; "
        f"disruption meeting {basis}"
    )


DISRUPTION: ProcessDecl[NewDisruption] = ProcessDecl(
    code="disruption",
    noun="a placement disruption",
    start_input=NewDisruption,
    start_example={
        "child": {"child": "C-1042", "iro": "iro-1", "social_worker": "sw-1"},
        "carer": "FC-0042",
        "fostering_service": "Northshire Fostering",
        "supervising_social_worker": "ssw-1",
        "team_manager": "tm-1",
        "placement_type": "long_term",
        "siblings_together": [],
        "key_stage_4": False,
        "ending": {
            "ended_by": "carer_notice",
            "planned": True,
            "ends_on": "2026-12-04",
            "new_placement_on": "2026-12-04",
        },
    },
    may_start=frozenset({Role.social_worker, Role.team_manager}),
    lead_role=Role.team_manager,
    overseer=Role.service_manager,
    start=start,
    steps=(
        STABILITY_MEETING,
        CARE_PLAN_REVIEW,
        EMERGENCY_ENDING,
        IRO_INFORMED,
        IRO_INFORMED_EMERGENCY,
        WRITTEN_NOTICE,
        NEW_PLACEMENT_NOTICE,
        PLACEMENT_PLAN,
        SOCIAL_WORKER_VISIT,
        EDUCATION_APPROVAL,
        MEETING_DECISION,
        DISRUPTION_MEETING,
        MEETING_REPORT,
        FOLLOW_THROUGH,
    ),
    flow="flows.disruption:disruption",
    view=view,
    headline=headline,
    facts=facts,
    measures=measures,
    # Who viewed a case is read by these (as for every case until now; the IRO and complaints
    # services may want their own managers here).
    access_log_readers=frozenset({Role.lado_manager, Role.head_of_service, Role.director}),
    carer_of=lambda details: details.get("carer"),
    filed_on_record=frozenset({"meeting_report"}),  # the meeting's report (reg 14(6)-(7))
    cli="safeguard.cli.processes.disruption:app",
)

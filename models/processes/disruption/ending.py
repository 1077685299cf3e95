"""Before, at and after a placement ends (reference D4-D8; CPPCR 2010 regs 9, 10, 13, 14, 28):
the care plan review or the emergency's ground, the IRO told, and, side by side after the ending,
the notices, the new placement's plan, the social worker's visit and a Key Stage 4 move approved."""

from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from models.enums import Role
from models.errors import about
from models.inputs import (
    ASKED_NOW,
    Label,
    PastDay,
    Ref,
    StaffId,
    StepInput,
    Text,
    approver,
)
from models.process import (
    ApplyContext,
    CheckContext,
    StepDecl,
)
from models.processes.disruption.start import MANAGERS, SOCIAL_WORK


class CarePlanReview(StepInput):
    # the review (chaired by the IRO) that considered the ending
    reviewed_on: PastDay = Field(title="Date reviewed")
    # what the review decided about the care plan
    decision: Text = Field(title="Decision on the care plan")
    rationale: Text | None = Field(default=None, title="Rationale")


def must_precede(ctx: CheckContext, data: CarePlanReview) -> None:
    ends_on = date.fromisoformat(ctx.details["ending"]["ends_on"])
    if data.reviewed_on > ends_on:
        raise about(
            "reviewed_on",
            f"care_plan_review: reviewed_on {data.reviewed_on} is after the placement ends "
            f"({ends_on}): reg 14(1) asks for the review before; if it could not be held, the "
            "ending is an emergency",
        )


def review_care_plan(ctx: ApplyContext, data: CarePlanReview) -> None:
    ctx.decide("care_plan_review", "ending considered at a review", data.rationale)


CARE_PLAN_REVIEW: StepDecl[CarePlanReview, None] = StepDecl(
    name="care_plan_review",
    input=CarePlanReview,
    may_record=frozenset({Role.social_worker, Role.team_manager, Role.iro}),
    check=must_precede,
    apply=review_care_plan,
    done_on=lambda data: data.reviewed_on,
    example={"reviewed_on": "2026-11-10", "decision": "...", "rationale": "..."},
)


class Ground(StrEnum):
    significant_harm = "significant_harm"  # an immediate risk of significant harm to the child
    protect_others = "protect_others"  # to protect others from serious injury
    # neither of reg 14(3)'s grounds (a carer's immediate notice, a placement breaking down
    # overnight): recorded as what it was, with its reasons, never forced into a ground untrue
    other_emergency = "other_emergency"


class EmergencyEnding(StepInput):
    ground: Ground = Field(title="Ground")
    rationale: Text = Field(title="Rationale")
    # at least the policy's approver
    approved_by: Annotated[StaffId, approver()] = Field(title="Approved by")


def record_emergency(ctx: ApplyContext, data: EmergencyEnding) -> None:
    value = data.ground.value
    if data.ground is Ground.other_emergency:
        value = "other_emergency (not a reg 14(3) ground)"
    ctx.decide("emergency_ending", value, data.rationale)


EMERGENCY_ENDING: StepDecl[EmergencyEnding, None] = StepDecl(
    name="emergency_ending",
    input=EmergencyEnding,
    may_record=SOCIAL_WORK,
    apply=record_emergency,
    example={"ground": "significant_harm", "rationale": "...", "approved_by": "STAFF_ID"},
)


class IroInformed(StepInput):
    told_on: PastDay = Field(title="Date the IRO was told")
    how: Label = Field(title="How they were told")  # in person, by phone, by email...


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


class ReviewForward(StepInput):
    """After an emergency ending, the child's IRO decides whether their review comes earlier
    (CPPCR 2010 regs 32(2), 33(3))."""

    decided_on: PastDay = Field(title="Date decided")
    bring_forward: bool = Field(title="Is the child's review brought forward?")
    review_on: date | None = Field(default=None, title="Date of the review, if brought forward")
    reasons: Text = Field(title="Reasons")

    @model_validator(mode="after")
    def _day(self) -> "ReviewForward":
        if self.bring_forward != (self.review_on is not None):
            raise ValueError("give review_on when (and only when) the review is brought forward")
        if self.review_on is not None and self.review_on < self.decided_on:
            raise ValueError("review_on is before the decision")
        return self


def decide_review(ctx: ApplyContext, data: ReviewForward) -> None:
    when = f" to {data.review_on:%-d %B %Y}" if data.review_on else ""
    value = f"brought forward{when}" if data.bring_forward else "not brought forward"
    ctx.decide("review_brought_forward", value, data.reasons)


REVIEW_BROUGHT_FORWARD: StepDecl[ReviewForward, None] = StepDecl(
    name="review_brought_forward",
    input=ReviewForward,
    may_record=frozenset({Role.iro, Role.iro_manager}),
    apply=decide_review,
    done_on=lambda data: data.decided_on,
    example={
        "decided_on": "2026-11-13",
        "bring_forward": True,
        "review_on": "2026-11-27",
        "reasons": "...",
    },
)


class WrittenNotice(StepInput):
    sent_on: PastDay = Field(title="Date sent")
    # those not told in advance (reg 14(4))
    to: tuple[Label, ...] = Field(min_length=1, title="Sent to (one per line)")


WRITTEN_NOTICE: StepDecl[WrittenNotice, None] = StepDecl(
    name="written_notice",
    input=WrittenNotice,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.sent_on,
    example={"sent_on": "2026-11-16", "to": ["parents", "school"]},
)


class Sibling(StepInput):
    """Where a looked-after sibling lives from the new placement (CA 1989 s22C(8)(c))."""

    model_config = ConfigDict(title="Sibling")  # one of a list, as a form numbers it
    sibling: Ref = Field(
        title="Sibling's reference", description="As on their record, for example C-1043"
    )
    together: bool = Field(title="Placed together with the child?")
    # apart: the assessment that found it right, approved by a service manager, with reasons
    assessed_on: PastDay | None = Field(default=None, title="Date of the assessment, if apart")
    approved_by: Annotated[StaffId, approver()] | None = Field(
        default=None, title="Approved by, if apart"
    )
    reasons: Text | None = Field(default=None, title="Why they are apart")

    @model_validator(mode="after")
    def _apart(self) -> "Sibling":
        apart = (self.assessed_on, self.approved_by, self.reasons)
        if not self.together and None in apart:
            raise ValueError(
                f"{self.sibling} is placed apart: give the assessment's day (assessed_on), the "
                "service manager's approval (approved_by) and the reasons (CA 1989 s22C(8)(c))"
            )
        if self.together and any(a is not None for a in apart):
            raise ValueError(f"{self.sibling} is placed together: nothing more is needed")
        return self


class NewPlacementNotice(StepInput):
    notified_on: PastDay = Field(title="Date notified")
    # who was told in writing (reg 13)
    notified: tuple[Label, ...] = Field(
        min_length=1, title="Who was told in writing (one per line)"
    )
    siblings_separated: bool = Field(default=False, title="Are siblings separated?")
    separation_reasons: Text | None = Field(default=None, title="Why siblings are separated")
    # each looked-after sibling named at the start: together, or apart with approval
    siblings: tuple[Sibling, ...] = Field(
        default=(), title="Each looked-after sibling: together or apart"
    )

    @model_validator(mode="after")
    def _iro_and_reasons(self) -> "NewPlacementNotice":
        if not any(who.lower() == "iro" for who in self.notified):
            raise ValueError('notified must include the IRO (reg 13(2)(i)): add "iro"')
        if self.siblings_separated and not self.separation_reasons:
            raise ValueError("siblings separated: give separation_reasons (CA 1989 s22C(8)(c))")
        return self


def every_sibling(ctx: CheckContext, data: NewPlacementNotice) -> None:
    named = list(ctx.details.get("looked_after_siblings", []))
    given = [s.sibling for s in data.siblings]
    missing = [s for s in named if s not in given]
    if missing:
        raise about(
            "siblings",
            f"new placement: say for each looked-after sibling whether they are placed together "
            f"with the child or apart ({', '.join(missing)} not given)",
        )
    unknown = [s for s in given if s not in named]
    if unknown or len(set(given)) != len(given):
        raise about(
            "siblings",
            f"new placement: give each looked-after sibling named at the start once "
            f"(not named: {', '.join(unknown) or '-'})",
        )


def notify_placement(ctx: ApplyContext, data: NewPlacementNotice) -> None:
    if data.siblings_separated:
        ctx.decide("siblings_separated", "placed apart", data.separation_reasons)
    for sibling in data.siblings:
        if not sibling.together:  # the service manager's decision, on the assessment
            ctx.decide(
                "sibling_apart",
                f"{sibling.sibling} placed apart (assessed {sibling.assessed_on:%-d %B %Y})",
                sibling.reasons,
                by=sibling.approved_by,
            )


# A planned move: by the day the new placement starts (reg 13(1)); an emergency's: within 5
# working days of its start (policy). The same record either way.
NEW_PLACEMENT_NOTICE: StepDecl[NewPlacementNotice, None] = StepDecl(
    name="new_placement_notice",
    input=NewPlacementNotice,
    may_record=SOCIAL_WORK,
    check=every_sibling,
    apply=notify_placement,
    done_on=lambda data: data.notified_on,
    example={"notified_on": "2026-11-13", "notified": ["iro", "parents", "school"]},
)
NEW_PLACEMENT_NOTICE_EMERGENCY = replace(
    NEW_PLACEMENT_NOTICE, name="new_placement_notice_emergency"
)


class PlacementPlan(StepInput):
    agreed_on: PastDay = Field(title="Date agreed")
    # the child's wishes and feelings (reg 9(1)(b))
    childs_wishes: Text = Field(title="The child's wishes and feelings")
    # the new carer's agreement to the plan (reg 9(3)); asked of every plan recorded now
    carer_signed_on: PastDay | None = Field(
        default=None, title="Date the carer signed the plan", json_schema_extra=ASKED_NOW
    )


def carer_agreed(ctx: CheckContext, data: PlacementPlan) -> None:
    if data.carer_signed_on is None:
        raise about(
            "carer_signed_on",
            "placement_plan: give the day the new carer signed the plan to show they agree to it "
            "(reg 9(3))",
        )


# A planned move: by the day the new placement starts (reg 9(2)); an emergency's: within 5
# working days of its start (policy).
PLACEMENT_PLAN: StepDecl[PlacementPlan, None] = StepDecl(
    name="placement_plan",
    input=PlacementPlan,
    may_record=SOCIAL_WORK,
    check=carer_agreed,
    done_on=lambda data: data.agreed_on,
    example={"agreed_on": "2026-11-14", "childs_wishes": "...", "carer_signed_on": "2026-11-14"},
)
PLACEMENT_PLAN_EMERGENCY = replace(PLACEMENT_PLAN, name="placement_plan_emergency")


class NoticeOfIntention(StepInput):
    """Before a planned ending, those the regulations name are told it is to end (reg 14(2)(c))."""

    sent_on: PastDay = Field(title="Date sent")
    to: tuple[Label, ...] = Field(min_length=1, title="Sent to (one per line)")


NOTICE_OF_INTENTION: StepDecl[NoticeOfIntention, None] = StepDecl(
    name="notice_of_intention",
    input=NoticeOfIntention,
    may_record=SOCIAL_WORK,
    done_on=lambda data: data.sent_on,
    example={"sent_on": "2026-11-06", "to": ["carers", "parents", "school"]},
)


class SocialWorkerVisit(StepInput):
    visited_on: PastDay = Field(title="Date visited")
    seen_alone: bool = Field(title="Was the child seen alone?")


def after_the_move(ctx: CheckContext, data: SocialWorkerVisit) -> None:
    start_on = date.fromisoformat(ctx.details["ending"]["new_placement_on"])
    if data.visited_on < start_on:
        raise about(
            "visited_on",
            f"social_worker_visit: visited_on {data.visited_on} is before the new placement "
            f"started ({start_on}): reg 28 asks for a visit in it",
        )


SOCIAL_WORKER_VISIT: StepDecl[SocialWorkerVisit, None] = StepDecl(
    name="social_worker_visit",
    input=SocialWorkerVisit,
    may_record=SOCIAL_WORK,
    check=after_the_move,
    done_on=lambda data: data.visited_on,
    example={"visited_on": "2026-11-17", "seen_alone": True},
)


class EducationApproval(StepInput):
    approved_on: PastDay = Field(title="Date approved")
    # reg 10: the authority's nominated officer
    nominated_officer: Annotated[StaffId, approver()] = Field(title="Nominated officer")
    iro_consulted_on: PastDay = Field(title="Date the IRO was consulted")
    rationale: Text = Field(title="Rationale")
    # asked of every approval recorded now (reg 10(2)): the school's designated teacher, and the
    # child's personal education plan
    designated_teacher_consulted_on: PastDay | None = Field(
        default=None,
        title="Date the designated teacher was consulted",
        json_schema_extra=ASKED_NOW,
    )
    pep_considered: bool | None = Field(
        default=None,
        title="Was the child's personal education plan considered?",
        json_schema_extra=ASKED_NOW,
    )


def before_the_move(ctx: CheckContext, data: EducationApproval) -> None:
    """Approved before the move (by the day the placement ends), the school and the plan heard."""
    if data.designated_teacher_consulted_on is None:
        raise about(
            "designated_teacher_consulted_on",
            "education_approval: give the day the designated teacher was consulted (reg 10)",
        )
    if data.pep_considered is not True:
        raise about(
            "pep_considered",
            "education_approval: the child's personal education plan is considered before a Key "
            "Stage 4 move is approved (reg 10): confirm it was",
        )


def approve_education(ctx: ApplyContext, data: EducationApproval) -> None:
    ctx.decide("key_stage_4_move", "approved by the nominated officer", data.rationale)


EDUCATION_APPROVAL: StepDecl[EducationApproval, None] = StepDecl(
    name="education_approval",
    input=EducationApproval,
    may_record=MANAGERS | {Role.social_worker},
    check=before_the_move,
    apply=approve_education,
    done_on=lambda data: data.approved_on,
    example={
        "approved_on": "2026-11-12",
        "nominated_officer": "STAFF_ID",
        "iro_consulted_on": "2026-11-11",
        "rationale": "...",
        "designated_teacher_consulted_on": "2026-11-10",
        "pep_considered": True,
    },
)


class EducationArrangements(StepInput):
    """In an emergency (reg 10(3)): no approval before the move; the arrangements made for the
    child's education, the nominated officer told."""

    arranged_on: PastDay = Field(title="Date arranged")
    arrangements: Text = Field(title="The arrangements for the child's education")
    nominated_officer_told_on: PastDay = Field(title="Date the nominated officer was told")


def arrange_education(ctx: ApplyContext, data: EducationArrangements) -> None:
    ctx.decide("key_stage_4_move", "emergency: education arrangements made", data.arrangements)


EDUCATION_ARRANGEMENTS: StepDecl[EducationArrangements, None] = StepDecl(
    name="education_arrangements",
    input=EducationArrangements,
    may_record=MANAGERS | {Role.social_worker},
    apply=arrange_education,
    done_on=lambda data: data.arranged_on,
    example={
        "arranged_on": "2026-11-13",
        "arrangements": "...",
        "nominated_officer_told_on": "2026-11-13",
    },
)

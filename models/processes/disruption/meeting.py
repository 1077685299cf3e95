"""The disruption meeting (reference D9-D11; reg 14(6)-(7)): the decision to hold one or the
recorded reason not to, the meeting chaired by someone independent of the placement, its report
on the child's and the carer's records, and each recommendation followed through."""

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from models.enums import Role
from models.errors import about
from models.inputs import (
    ActionAccount,
    Label,
    NewAction,
    PastDay,
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
    StepDecl,
)
from models.processes.disruption.start import MANAGERS, SOCIAL_WORK, PlacementType


class MeetingDecision(StepInput):
    hold: bool = Field(title="Is a disruption meeting held?")
    reasons: Text | None = Field(default=None, title="Reasons")  # why not, when not
    # a required meeting not held
    approved_by: Annotated[StaffId, approver()] | None = Field(default=None, title="Approved by")


def meeting_rules(ctx: CheckContext, data: MeetingDecision) -> None:
    if data.hold:
        return
    if not data.reasons:
        raise about("reasons", "meeting_decision: not holding a disruption meeting needs reasons")
    kind = PlacementType(ctx.details["placement_type"])
    if kind.meeting_required and not data.approved_by:
        raise about(
            "approved_by",
            f"meeting_decision: a disruption meeting is required for a {kind.value.replace('_', '-')} "
            "placement: not holding one needs the head of service's approval (approved_by)",
        )


def decide_meeting(ctx: ApplyContext, data: MeetingDecision) -> None:
    ctx.decide(
        "disruption_meeting",
        "hold" if data.hold else "not held",
        data.reasons or "a disruption meeting is to be held",
    )
    allegation = (ctx.details.get("ending") or {}).get("allegation")
    if data.hold and allegation and ctx.is_open(allegation):
        # The meeting would go over what the allegation is looking into: its clock is held until
        # the allegation's outcome (which resumes it), or the LADO agrees (`clock resume`).
        ctx.hold_clock("disruption_meeting", f"{HELD_FOR} {allegation}, or until the LADO agrees it goes ahead")  # fmt: skip


HELD_FOR = "waits for the outcome of the allegation"


def hold(data: MeetingDecision) -> bool:
    return data.hold


MEETING_DECISION: StepDecl[MeetingDecision, bool] = StepDecl(
    name="meeting_decision",
    input=MeetingDecision,
    may_record=MANAGERS | {Role.iro},
    check=meeting_rules,
    apply=decide_meeting,
    result=hold,
    example={"hold": False, "reasons": "...", "approved_by": "STAFF_ID"},
)


class Excluded(StepInput):
    model_config = ConfigDict(title="Person not invited")  # one of a list, as a form numbers it
    who: Label = Field(title="Who")
    reason: Text = Field(title="Why")


class DisruptionMeeting(StepInput):
    held_on: PastDay = Field(title="Date held")
    chair: Annotated[StaffId, staff()] = Field(title="Chair")
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
    """The chair is independent of the placement: neither the child's social worker nor the
    carer's supervising social worker, nor anyone who manages either (the team manager who leads
    the case included)."""
    parties = ctx.parties
    for role, whose in (
        (Role.social_worker, "the child's social worker"),
        (Role.supervising_social_worker, "the carer's supervising social worker"),
    ):
        for worker in parties.holding(role):
            if data.chair == worker:
                why = f"is {whose}"
            elif data.chair in ctx.managers_of(worker):
                why = f"manages {whose} ({worker})"
            else:
                continue
            raise about(
                "chair",
                f"disruption_meeting: {data.chair} {why}: the chair must be independent of the "
                "placement (an IRO or an independent chair)",
            )
    if data.chair == parties.lead:
        raise about(
            "chair",
            f"disruption_meeting: {data.chair} leads the case: the chair must be independent of "
            "the placement (an IRO or an independent chair)",
        )
    ends_on = date.fromisoformat(ctx.details["ending"]["ends_on"])
    if data.held_on < ends_on:
        raise about(
            "held_on",
            f"disruption_meeting: held_on {data.held_on} is before the placement ended ({ends_on})",
        )


def hold_meeting(ctx: ApplyContext, data: DisruptionMeeting) -> None:
    ctx.event("meeting_held", data.held_on)
    ctx.add_actions(data.recommendations, data.held_on)


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


# A recommendation may be carried forward this many times; once more needs the child's IRO to
# decide (design: follow-through has an end, D11; the IRO's dispute resolution, IRO Handbook ch 6).
CARRIED_FORWARD_AT_MOST = 2


class IroDecision(StepInput):
    """The IRO's decision on a recommendation carried forward a third time or more."""

    model_config = ConfigDict(title="The IRO's decision")  # one of a list, as a form numbers it
    action_id: int = Field(ge=1, title="Recommendation")
    decision: Literal["dispute_resolution", "accept"] = Field(
        title="Escalate to dispute resolution, or accept it being carried forward again?"
    )
    reasons: Text = Field(title="Reasons")
    iro: Annotated[StaffId, staff(Role.iro)] = Field(title="The child's IRO")


class FollowThrough(StepInput):
    held_on: PastDay = Field(title="Date held")
    review: Literal["looked_after_review", "approval_review"] = Field(title="Review")
    accounted: tuple[ActionAccount, ...] = Field(
        default=(), title="What happened to each recommendation"
    )
    iro_decisions: tuple[IroDecision, ...] = Field(
        default=(),
        title="The IRO's decision on each recommendation carried forward a third time",
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
    decided = {d.action_id: d for d in data.iro_decisions}
    for account in data.accounted:
        if account.status != "carried_forward":
            continue
        times = ctx.times_carried_forward(account.action_id)
        if times >= CARRIED_FORWARD_AT_MOST and account.action_id not in decided:
            raise about(
                "iro_decisions",
                f"follow_through: recommendation {account.action_id} has been carried forward "
                f"{times} times already: once more needs the child's IRO to decide (escalate to "
                "dispute resolution, or accept it with reasons)",
            )
    for decision in data.iro_decisions:
        if decision.decision == "dispute_resolution":  # its challenge could start, or say why not
            ctx.try_start(DISPUTE, decision.iro, challenge(ctx.details, ctx.reference, data, decision))  # fmt: skip
        if decision.iro not in ctx.parties.holding(Role.iro):
            raise about(
                "iro_decisions",
                f"follow_through: {decision.iro} is not the child's IRO: the decision is theirs",
            )
        carried = [a for a in data.accounted if a.action_id == decision.action_id]
        if not carried or carried[0].status != "carried_forward":
            raise about(
                "iro_decisions",
                f"follow_through: the IRO's decision is for a recommendation carried forward "
                f"again, and {decision.action_id} is not",
            )


DISPUTE = "iro_dispute"  # the IRO's dispute resolution (IRO Handbook ch 6), its own process


def challenge(
    details: Mapping[str, Any], reference: str, data: FollowThrough, decision: IroDecision
) -> dict[str, Any]:
    """The IRO's challenge of a recommendation carried forward past its limit: this case's child
    and team manager, the recommendation, the IRO's reasons (as the challenge's issue)."""
    return {
        "child": details["child"],
        "team_manager": details["team_manager"],
        "category": "action_not_taken",
        "issue": decision.reasons,
        "resolution_sought": "The recommendation carried out, or a decision on it with reasons",
        "first_raised_on": data.held_on.isoformat(),
        "about_case": reference,
        "about_item": f"Recommendation {decision.action_id}, carried forward past its limit",
    }


def follow_through(ctx: ApplyContext, data: FollowThrough) -> None:
    for decision in data.iro_decisions:
        value = (
            "escalated to dispute resolution"
            if decision.decision == "dispute_resolution"
            else "accepted, carried forward again"
        )
        ctx.decide(
            "iro_decision",
            f"recommendation {decision.action_id}: {value}",
            decision.reasons,
            by=decision.iro,
        )
        if decision.decision == "dispute_resolution":  # the IRO's challenge starts, linked here
            ctx.start_case(DISPUTE, decision.iro, challenge(ctx.details, ctx.reference, data, decision))  # fmt: skip
    ctx.account_for(data.accounted, data.held_on)
    if data.next_review_on is not None:
        ctx.event("next_review", data.next_review_on, sequence=ctx.sequence + 1)


def more_to_follow(data: FollowThrough) -> bool:
    return any(a.status == "carried_forward" for a in data.accounted)


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

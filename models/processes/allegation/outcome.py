"""The allegation's outcome and what follows it (reference L9-L18): the outcome with its
category, who is told, the review of the carer's approval and its determination, a resignation,
and closure with nothing left open."""

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from models.enums import Role
from models.errors import InputError, about
from models.inputs import (
    ActionAccount,
    Ref,
    StaffId,
    StepDay,
    StepInput,
    Text,
    approver,
    once_each,
)
from models.process import (
    ApplyContext,
    CaseEventDecl,
    CheckContext,
    StepDecl,
)
from models.processes.allegation.meetings import MEETING_RECORDERS
from models.processes.allegation.start import outside_the_carers_service


class OutcomeCategory(StrEnum):
    """KCSIE Part 4 outcome categories (reference §7); Welsh categories are deliberately absent."""

    substantiated = "substantiated"  # sufficient evidence to prove the allegation
    unsubstantiated = "unsubstantiated"  # insufficient evidence to prove or disprove
    false = "false"  # sufficient evidence to disprove the allegation
    malicious = "malicious"  # disproved, and a deliberate act to deceive
    unfounded = "unfounded"  # no evidence or proper basis supports the allegation


class Outcome(StepInput):
    category: OutcomeCategory = Field(title="Outcome")
    rationale: Text | None = Field(default=None, title="Rationale")
    dbs_referral: bool = Field(title="Is a DBS referral made?")
    dbs_reason: Text = Field(
        description="why a DBS referral is, or is not, made (required either way)",
        title="Reason for the DBS referral decision",
    )
    # a false or malicious allegation leaves the carer's file unless they consent to its being
    # kept (KCSIE, L12)
    carer_consents_to_keep: bool = Field(
        default=False, title="Does the carer consent to it being kept on their file?"
    )


def waits_for_a_ready_meeting(details: Mapping[str, Any]) -> str | None:
    """The outcome clock runs from the referral; recording the outcome waits for a meeting that
    found the case ready for it."""
    if details.get("ready_for_outcome_on"):
        return None
    return "a meeting or review that finds the case ready for its outcome"


def meeting_found_ready(ctx: CheckContext, data: Outcome) -> None:
    if waits_for_a_ready_meeting(ctx.details):
        raise InputError(
            "outcome: no meeting has found the case ready for outcome yet: record the meeting "
            "(or review) with ready_for_outcome true first; the outcome's clock runs meanwhile",
        )


NOT_IN_REFERENCES = frozenset(
    {
        OutcomeCategory.false,
        OutcomeCategory.unsubstantiated,
        OutcomeCategory.unfounded,
        OutcomeCategory.malicious,
    }
)  # KCSIE: such outcomes are not mentioned in references (L12)


REMOVED_FROM_FILE = frozenset({OutcomeCategory.false, OutcomeCategory.malicious})


def decide_outcome(ctx: ApplyContext, data: Outcome) -> None:
    ctx.decide("outcome", data.category.value, data.rationale)
    in_references = data.category not in NOT_IN_REFERENCES
    removed = data.category in REMOVED_FROM_FILE and not data.carer_consents_to_keep
    ctx.keep({"in_references": in_references, "remove_from_carer_file": removed})
    ctx.decide(
        "references",
        "may be mentioned in references" if in_references else "never mentioned in references",
        f"the outcome is {data.category.value} (KCSIE, L12)",
    )
    if removed:
        ctx.decide(
            "carer_file",
            "remove from the carer's file",
            f"a {data.category.value} allegation is removed unless the carer consents (KCSIE, L12)",
        )
    elif data.category in REMOVED_FROM_FILE:
        ctx.decide(
            "carer_file",
            "kept on the carer's file",
            f"a {data.category.value} allegation, kept with the carer's consent (KCSIE, L12)",
        )
    ctx.decide(
        "dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason
    )
    ctx.event("outcome_recorded", ctx.at)
    # A disruption meeting held until this outcome may go ahead now (its clock runs again).
    ctx.resume_linked("disruption_meeting")


OUTCOME: StepDecl[Outcome, None] = StepDecl(
    name="outcome",
    input=Outcome,
    may_record=frozenset({Role.lado}),
    check=meeting_found_ready,
    waits_for=waits_for_a_ready_meeting,
    apply=decide_outcome,
    example={
        "category": "unsubstantiated",
        "rationale": "...",
        "dbs_referral": False,
        "dbs_reason": "...",
    },
)


class ChildTold(StepInput):
    """Who was told of the outcome for one child: their social worker (or placing authority),
    their IRO, and their parents where appropriate (else why not)."""

    model_config = ConfigDict(title="Child")  # one of a list, as a form numbers it

    child: Ref = Field(
        title="Child's reference", description="As on the child's record, for example C-1042"
    )
    social_worker_told_on: StepDay = Field(title="Date their social worker was told")
    iro_told_on: StepDay = Field(title="Date their IRO was told")
    parents_told_on: StepDay | None = Field(default=None, title="Date their parents were told")
    parents_not_told_reason: Text | None = Field(
        default=None, title="Why their parents were not told"
    )

    @model_validator(mode="after")
    def _parents(self) -> "ChildTold":
        if (self.parents_told_on is None) == (self.parents_not_told_reason is None):
            raise ValueError(
                f"child {self.child}: give parents_told_on, or parents_not_told_reason "
                "(why telling them was not appropriate), not both"
            )
        return self


class OutcomeNotification(StepInput):
    carer_told_on: StepDay = Field(title="Date the carer was told")
    fostering_service_told_on: StepDay = Field(title="Date the fostering service was told")
    # in writing (L11)
    how: Literal["letter", "email", "meeting_and_letter"] = Field(
        default="letter", title="How they were told"
    )
    # each child of the case: checked when recorded
    children: tuple[ChildTold, ...] = Field(default=(), title="Who was told, for each child")

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
        raise about(
            "children",
            "outcome_notification: say who was told for each child of the case "
            f"(missing: {', '.join(missing) or '-'}; not in the case: {', '.join(unknown) or '-'})",
        )


def record_told(ctx: ApplyContext, data: OutcomeNotification) -> None:
    ctx.event("carer_told_outcome", data.carer_told_on)
    ctx.event("fostering_service_told_outcome", data.fostering_service_told_on)
    for child in data.children:
        if child.parents_not_told_reason:
            ctx.decide("parents_not_told", f"child {child.child}", child.parents_not_told_reason)


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


class ApprovalOutcome(StrEnum):
    """What the decision maker decides of the carer's approval (FSR 2011 reg 28)."""

    continue_approval = "continue"
    revise = "revise"  # a qualifying determination: the carer has 28 days (L17)
    terminate = "terminate"  # likewise
    resigned = "resigned"  # the carer gave notice: approval ends 28 days after it (L18)


class ApprovalReview(StepInput):
    """The review of the carer's approval after the allegation. The panel is optional unless the
    regulations require it (a first review); the decision maker decides, with reasons."""

    # the carer's first review since approval
    first_review: bool = Field(
        default=False, title="Is this the carer's first review since approval?"
    )
    presented_to_panel_on: StepDay | None = Field(
        default=None, title="Date presented to the fostering panel"
    )
    panel_recommendation: Text | None = Field(default=None, title="The panel's recommendation")
    decision: ApprovalOutcome | None = Field(default=None, title="Decision on the carer's approval")
    # the agency decision maker
    decided_by: Annotated[StaffId, approver()] | None = Field(default=None, title="Decided by")
    reasons: Text | None = Field(default=None, title="Reasons")
    # the carer's written notice received
    resigned_on: StepDay | None = Field(default=None, title="Date the carer resigned")
    # revise or terminate: the qualifying determination
    notice_sent_on: StepDay | None = Field(default=None, title="Date notice was sent to the carer")
    # approval ends, or would have ended (L13, L18)
    dbs_referral: bool | None = Field(default=None, title="Is a DBS referral made?")
    dbs_reason: Text | None = Field(default=None, title="Reason for the DBS referral decision")
    skipped_reason: Text | None = Field(default=None, title="Why the review was not held")
    skip_approved_by: Annotated[StaffId, approver()] | None = Field(
        default=None, title="Not holding it approved by"
    )

    @model_validator(mode="after")
    def _panel(self) -> "ApprovalReview":
        if (self.presented_to_panel_on is None) != (self.panel_recommendation is None):
            raise ValueError("give presented_to_panel_on with panel_recommendation, or neither")
        return self


def approval_rules(ctx: CheckContext, data: ApprovalReview) -> None:
    """Checked when recorded (an input stored before these rules still replays)."""

    def need(*fields: str, why: str) -> None:
        missing = [f for f in fields if getattr(data, f) in (None, "")]
        if missing:
            raise about(missing[0], f"approval_review: {why}: give {', '.join(missing)}")

    for field in ("decided_by", "skip_approved_by"):
        if getattr(data, field):
            outside_the_carers_service(ctx, getattr(data, field), field)
    resigned = ctx.details.get(RESIGNATION.kept_as)
    if resigned:  # a resignation recorded as it came (L18): the DBS duty still applies (L13)
        need("dbs_referral", "dbs_reason", why=f"the carer resigned (notice received {resigned}): the DBS duty")  # fmt: skip
    if data.skipped_reason is not None:
        need("skip_approved_by", why="a skipped review needs a manager's approval, not one SSW's")
        if data.decision is not None or data.presented_to_panel_on is not None:
            raise InputError("approval_review: a skipped review has no panel and no decision")
        return
    panel_for = ctx.rule("approval_review").panel_required_for
    if data.first_review and "first_review" in panel_for and data.presented_to_panel_on is None:
        raise about(
            "presented_to_panel_on",
            "approval_review: a carer's first review goes to the fostering panel (FSR 2011 reg "
            "28, as the policy's panel_required_for says): give presented_to_panel_on and "
            "panel_recommendation",
        )
    need("decision", "decided_by", "reasons", why="the decision maker decides, with reasons")
    if data.decision is ApprovalOutcome.resigned and not resigned:
        need("resigned_on", why="the carer resigned: the day their written notice was received")
    if data.decision in (ApprovalOutcome.revise, ApprovalOutcome.terminate):
        need("notice_sent_on", why="a qualifying determination: the day notice was sent")
    ending = data.decision in (ApprovalOutcome.terminate, ApprovalOutcome.resigned)
    if ending:
        need("dbs_referral", "dbs_reason", why="approval ends or would have ended: the DBS duty")


def review_approval(ctx: ApplyContext, data: ApprovalReview) -> None:
    if data.dbs_referral is not None:  # approval ends or would have ended (L13, L18)
        ctx.decide("dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason)  # fmt: skip
    if data.skipped_reason:  # a departure from procedure needs its reason (DESIGN rule 9)
        ctx.decide("approval_review_skipped", f"skipped, approved by {data.skip_approved_by}", data.skipped_reason)  # fmt: skip
        return
    if data.panel_recommendation:
        ctx.decide("panel_recommendation", "recommended", data.panel_recommendation)
    if data.decision is not None:
        ctx.decide("approval", f"{data.decision.value} (by {data.decided_by})", data.reasons)
    if data.resigned_on is not None and not ctx.details.get(RESIGNATION.kept_as):
        ctx.event("resignation_received", data.resigned_on)  # approval ends 28 days on (L18)
        ctx.event("approval_ends", data.resigned_on + timedelta(days=28))
    if data.notice_sent_on is not None:
        ctx.event("determination_notice", data.notice_sent_on)
        ctx.keep({"determination_notice_on": data.notice_sent_on.isoformat()})


def skipped(data: ApprovalReview) -> bool:
    return data.skipped_reason is not None


def qualifying_determination(data: ApprovalReview) -> bool:
    return data.decision in (ApprovalOutcome.revise, ApprovalOutcome.terminate)


APPROVAL_REVIEW: StepDecl[ApprovalReview, bool] = StepDecl(
    name="approval_review",
    input=ApprovalReview,
    may_record=frozenset(
        {Role.supervising_social_worker, Role.team_manager, Role.service_manager, Role.lado_manager}
    ),
    check=approval_rules,
    apply=review_approval,
    result=qualifying_determination,
    skipped=skipped,
    example={
        "presented_to_panel_on": "2027-01-14",
        "panel_recommendation": "...",
        "decision": "continue",
        "decided_by": "STAFF_ID",
        "reasons": "...",
    },
)


class Representations(StrEnum):
    none = "none"  # neither, in the 28 days
    to_the_provider = "to_the_provider"
    independent_review = "independent_review"  # the Independent Review Mechanism


class ApprovalDetermination(StepInput):
    """The final decision after a qualifying determination (L17)."""

    decided_on: StepDay = Field(title="Date decided")
    representations: Representations = Field(title="Representations")
    irm_recommendation: Text | None = Field(
        default=None, title="The independent review mechanism's recommendation"
    )
    decision: Literal["continue", "revise", "terminate"] = Field(title="Determination")
    decided_by: Annotated[StaffId, approver()] = Field(title="Decided by")
    reasons: Text = Field(title="Reasons")
    dbs_referral: bool | None = Field(default=None, title="Is a DBS referral made?")
    dbs_reason: Text | None = Field(default=None, title="Reason for the DBS referral decision")

    @model_validator(mode="after")
    def _complete(self) -> "ApprovalDetermination":
        irm = self.representations is Representations.independent_review
        if irm != (self.irm_recommendation is not None):
            raise ValueError("give irm_recommendation when, and only when, the IRM reviewed it")
        if self.decision == "terminate" and (self.dbs_referral is None or not self.dbs_reason):
            raise ValueError("approval terminated: the DBS duty: give dbs_referral and dbs_reason")
        return self


def after_the_window(ctx: CheckContext, data: ApprovalDetermination) -> None:
    notice = ctx.details.get("determination_notice_on")
    window = date.fromisoformat(notice) + timedelta(days=28) if notice else None
    if window and data.representations is Representations.none and data.decided_on < window:
        raise about(
            "decided_on",
            f"approval_determination: the carer has until {window} to make representations or "
            "apply to the IRM (28 days from the notice): decide after it, or record what they did",
        )


def determine(ctx: ApplyContext, data: ApprovalDetermination) -> None:
    ctx.decide("approval_final", f"{data.decision} (by {data.decided_by}; representations: {data.representations.value})", data.reasons)  # fmt: skip
    if data.irm_recommendation:
        ctx.decide("irm_recommendation", "recommended", data.irm_recommendation)
    if data.dbs_referral is not None:
        ctx.decide("dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason)  # fmt: skip


APPROVAL_DETERMINATION: StepDecl[ApprovalDetermination, None] = StepDecl(
    name="approval_determination",
    input=ApprovalDetermination,
    may_record=frozenset({Role.team_manager, Role.service_manager, Role.head_of_service}),
    check=after_the_window,
    apply=determine,
    done_on=lambda data: data.decided_on,
    example={
        "decided_on": "2027-02-15",
        "representations": "none",
        "decision": "terminate",
        "decided_by": "STAFF_ID",
        "reasons": "...",
        "dbs_referral": True,
        "dbs_reason": "...",
    },
)


RESIGNATION = CaseEventDecl(  # L18: a resignation is an event of the case, whenever it comes
    name="resignation_received",
    what="the carer's written notice of resignation received",
    may_record=frozenset(
        {
            Role.supervising_social_worker,
            Role.team_manager,
            Role.service_manager,
            Role.lado,
            Role.lado_manager,
        }
    ),
    then={"approval_ends": 28},  # approval ends 28 days after the notice (FSR 2011 reg 28(13))
)


class Closure(StepInput):
    """Before the case closes, every action still open is accounted for: done, transferred to
    another case, or not needed, with reasons (nothing open is forgotten)."""

    closed_on: StepDay = Field(title="Date closed")
    accounted: tuple[ActionAccount, ...] = Field(
        default=(), title="What happened to each open action"
    )

    _once = field_validator("accounted")(once_each)

    @field_validator("accounted")
    @classmethod
    def _nothing_left_open(cls, value: tuple[ActionAccount, ...]) -> tuple[ActionAccount, ...]:
        kept = [a.action_id for a in value if a.status == "carried_forward"]
        if kept:
            raise ValueError(
                f"action(s) {', '.join(map(str, kept))}: a closing case cannot carry an action "
                "forward: mark it done, transferred (to_case) or not_needed, with the reason"
            )
        return value


def every_action_closed(ctx: CheckContext, data: Closure) -> None:
    ctx.require_every_open_action_accounted(data.accounted, data.closed_on)


def close_actions(ctx: ApplyContext, data: Closure) -> None:
    ctx.account_for(data.accounted, data.closed_on)


CLOSERS = frozenset({Role.lado, Role.lado_manager})


CLOSURE: StepDecl[Closure, None] = StepDecl(
    name="closure",
    input=Closure,
    may_record=CLOSERS,
    check=every_action_closed,
    apply=close_actions,
    done_on=lambda data: data.closed_on,
    example={
        "closed_on": "2026-12-18",
        "accounted": [
            {"action_id": 1, "status": "transferred", "to_case": "DSR-2026-0003", "reason": "..."}
        ],
    },
)

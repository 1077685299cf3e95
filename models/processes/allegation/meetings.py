"""The allegation's meetings (reference L5-L8) and what runs beside them: the strategy discussion
or allegation management meeting, the reviews that account for every earlier action, the
police's strand, the decision on the children's placements (L6) and support for the carer (L15)."""

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models.enums import Role
from models.errors import InputError, about
from models.inputs import (
    ActionAccount,
    Label,
    NewAction,
    Ref,
    StaffId,
    StepDay,
    StepInput,
    Text,
    actions_after,
    approver,
    input_context,
    once_each,
    staff,
)
from models.process import (
    ApplyContext,
    CheckContext,
    StepDecl,
)


class Told(StepInput):
    """Who is told what, and by whom, as the meeting agreed (the carer, the children's parents...)."""

    model_config = ConfigDict(title="Person told")  # one of a list, as a form numbers it

    who: Label = Field(title="Who")
    what: Text = Field(title="What they are told")
    by: Label | None = Field(default=None, title="Told by")


class Meeting(StepInput):
    held_on: StepDay = Field(title="Date held")
    attendees: tuple[Label, ...] = Field(
        min_length=1,
        description="who attended, by role",
        title="Who attended (one per line, by role)",
    )
    decisions: tuple[Text, ...] = Field(default=(), title="Decisions (one per line)")
    actions: tuple[NewAction, ...] = Field(default=(), title="Actions agreed")
    # who interviews whom, in what order (the police first)
    interview_plan: Text | None = Field(default=None, title="Interview plan")
    told: tuple[Told, ...] = Field(default=(), title="Who is told what")
    # the meeting's view on the placements (L6)
    suspension_view: Text | None = Field(default=None, title="View on the placements")
    # agreed; default and latest: the policy's agreed_within
    next_review_on: date | None = Field(default=None, title="Date of the next review")
    # the carer was told of the allegation (once, L15)
    carer_told_on: StepDay | None = Field(
        default=None, title="Date the carer was told of the allegation"
    )
    # the police strand starts here (if not already running)
    police_investigating: bool = Field(default=False, title="Are the police investigating?")
    ready_for_outcome: bool = Field(default=False, title="Is the case ready for its outcome?")

    @model_validator(mode="after")
    def _next(self) -> "Meeting":
        if self.next_review_on is not None and self.next_review_on <= self.held_on:
            raise ValueError("next_review_on must come after the meeting (held_on)")
        if self.next_review_on is not None and self.ready_for_outcome:
            raise ValueError("ready_for_outcome: no further review to agree (drop next_review_on)")
        return self

    @model_validator(mode="after")
    def _dues(self, info: ValidationInfo) -> "Meeting":
        actions_after(self.held_on, self.actions, info, getattr(self, "accounted", ()))
        return self


class StrategyDiscussion(Meeting):
    """A s47 strategy discussion (Working Together 2023), led by children's social care with the
    police and health, the LADO taking part: the case's first meeting when the initial
    consideration routes it there. It records whether a s47 enquiry follows, and why."""

    section_47: bool = Field(title="Does a section 47 enquiry follow?")
    section_47_reason: Text = Field(title="Why a section 47 enquiry follows, or does not")


class Review(Meeting):
    accounted: tuple[ActionAccount, ...] = Field(
        default=(), title="What happened to each open action"
    )

    _once = field_validator("accounted")(once_each)


def review_within_limit(ctx: CheckContext, data: Meeting) -> None:
    """The next review is agreed at each meeting, no later than the policy allows (28 days)."""
    latest = ctx.latest_agreed("review_meeting", data.held_on)
    if data.next_review_on is not None and latest is not None and data.next_review_on > latest:
        raise about(
            "next_review_on",
            f"next_review_on {data.next_review_on} is after {latest}, the latest the policy allows "
            "for the next review: agree an earlier date",
        )


def meeting_rules(ctx: CheckContext, data: Meeting) -> None:
    review_within_limit(ctx, data)
    told = ctx.details.get("carer_told_on")
    if data.carer_told_on is not None and told and data.carer_told_on.isoformat() != told:
        raise about(
            "carer_told_on",
            f"carer_told_on: the carer was told on {told}, as an earlier meeting recorded: "
            "drop carer_told_on or give that day",
        )
    if data.ready_for_outcome and not (told or data.carer_told_on):
        raise about(
            "ready_for_outcome",
            "ready_for_outcome: the carer must have been told of the allegation before its "
            "outcome: give carer_told_on (the day they were told)",
        )
    if data.police_investigating and ctx.due_of("police_review") is not None:
        raise about(
            "police_investigating",
            "police_investigating: the police strand is already running (its reviews are open "
            "or done): record each police review as it is held",
        )
    if isinstance(data, StrategyDiscussion):
        led_with = " ".join(data.attendees).lower()
        missing = [who for who in ("police", "health") if who not in led_with]
        if missing:
            raise about(
                "attendees",
                "strategy_discussion: a s47 strategy discussion is held by children's social "
                f"care with the police and health: name {' and '.join(missing)} in attendees",
            )
    if isinstance(data, Review):
        every_action_accounted(ctx, data)


def hold_meeting(ctx: ApplyContext, data: Meeting) -> None:
    """The meeting is an event; the next review falls on the day it agreed (or the policy's
    latest); its actions start their clocks; what it agreed is kept as decisions."""
    number = ctx.sequence + (1 if isinstance(data, Review) else 0)  # the first review is meeting 2
    ctx.event("meeting_held", data.held_on, sequence=number)
    if data.next_review_on is not None:  # the next review falls then (else 28 days on)
        ctx.event("review_agreed", data.next_review_on, sequence=number)
    if data.interview_plan:
        ctx.decide("interview_plan", "agreed", data.interview_plan)
    for told in data.told:
        ctx.decide("told", f"{told.who}" + (f" (by {told.by})" if told.by else ""), told.what)
    if data.suspension_view:
        ctx.decide("suspension_view", "the meeting's view", data.suspension_view)
    if isinstance(data, StrategyDiscussion):
        ctx.decide("section_47", "s47 enquiry" if data.section_47 else "no s47 enquiry", data.section_47_reason)  # fmt: skip
    if data.carer_told_on is not None and not ctx.details.get("carer_told_on"):
        ctx.event("carer_told", data.carer_told_on)  # support for the carer counts from it (L15)
        ctx.keep({"carer_told_on": data.carer_told_on.isoformat()})
    if data.police_investigating:  # the first police review 4 weeks after the initial
        # evaluation, not the meeting that started it (L7); a case evaluated before this was kept
        # counts from the meeting
        evaluated = ctx.details.get("initial_evaluation_at")
        since = datetime.fromisoformat(evaluated) if evaluated else data.held_on
        ctx.event("police_review_due", since + timedelta(days=28), sequence=1)
        ctx.open_next("police_review", 1)
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


MEETING_RECORDERS = frozenset({Role.lado, Role.lado_manager})


ALLEGATION_MEETING: StepDecl[Meeting, bool] = StepDecl(
    name="allegation_meeting",
    input=Meeting,
    may_record=MEETING_RECORDERS,
    chair_only=True,
    check=meeting_rules,
    apply=hold_meeting,
    result=ready,
    example={
        "held_on": "2026-11-05",
        "attendees": ["lado", "supervising_social_worker", "police"],
        "decisions": ["..."],
        "actions": [{"title": "...", "owner": "STAFF_ID", "due": 5}],
        "interview_plan": "...",
        "told": [{"who": "the carer", "what": "...", "by": "supervising social worker"}],
        "suspension_view": "...",
        "next_review_on": "2026-11-26",
    },
)


STRATEGY_DISCUSSION: StepDecl[StrategyDiscussion, bool] = StepDecl(
    name="strategy_discussion",
    input=StrategyDiscussion,
    may_record=MEETING_RECORDERS,
    check=meeting_rules,
    apply=hold_meeting,
    result=ready,
    example={
        "held_on": "2026-11-05",
        "attendees": ["children's social care", "police", "health", "lado"],
        "section_47": True,
        "section_47_reason": "...",
        "decisions": ["..."],
        "actions": [{"title": "...", "owner": "STAFF_ID", "due": 5}],
        "carer_told_on": "2026-11-05",
        "police_investigating": True,
        "next_review_on": "2026-11-26",
    },
)


REVIEW_MEETING: StepDecl[Review, bool] = StepDecl(
    name="review_meeting",
    input=Review,
    may_record=MEETING_RECORDERS,
    chair_only=True,
    check=meeting_rules,
    apply=hold_meeting,
    result=ready,
    example={
        "held_on": "2026-12-03",
        "attendees": ["lado"],
        "accounted": [{"action_id": 1, "status": "done"}],
        "ready_for_outcome": True,
    },
)


class PoliceReview(StepInput):
    """A police progress review (L7): what the police decided, and when the next one falls."""

    held_on: StepDay = Field(title="Date held")
    decision: Literal["charge", "continue", "close"] = Field(title="The police's decision")
    notes: Text | None = Field(default=None, title="Notes")
    # the police closed their enquiry (L14): what happens next (the LADO's own enquiries, the
    # employer's or fostering service's, the outcome)
    next_steps: Text | None = Field(
        default=None, title="What happens next, if the police closed it"
    )


def what_next(ctx: CheckContext, data: PoliceReview) -> None:
    """Checked when recorded (a review stored before this rule still replays)."""
    if data.decision == "close" and not data.next_steps:
        raise about(
            "next_steps",
            "police_review: the police closed their enquiry: say what happens next (next_steps) "
            "(L14)",
        )


def review_police(ctx: ApplyContext, data: PoliceReview) -> None:
    ctx.event("police_review_held", data.held_on, sequence=ctx.sequence)
    ctx.decide("police_review", data.decision, data.notes)
    if data.decision == "close":  # L14: the enquiry closed; the outcome's clock runs again
        ctx.decide("police_enquiry_closed", "the police closed their enquiry", data.next_steps)
        ctx.resume_clock("outcome")
    if data.decision == "continue":  # then ideally fortnightly
        nxt = ctx.sequence + 1
        ctx.event("police_review_due", data.held_on + timedelta(days=14), sequence=nxt)
        ctx.open_next("police_review", nxt)


def police_continue(data: PoliceReview) -> bool:
    return data.decision == "continue"


POLICE_REVIEW: StepDecl[PoliceReview, bool] = StepDecl(
    name="police_review",
    input=PoliceReview,
    may_record=frozenset({Role.lado, Role.lado_manager}),
    check=what_next,
    apply=review_police,
    result=police_continue,
    done_on=lambda data: data.held_on,
    example={"held_on": "2026-12-01", "decision": "continue", "notes": "..."},
)


class PlacementDecision(StrEnum):
    """What happens to the placements while the allegation is looked into (L6)."""

    children_stay = "children_stay"
    children_removed = "children_removed"
    new_placements_paused = "new_placements_paused"


class Alternative(StepInput):
    model_config = ConfigDict(title="Alternative")  # one of a list, as a form numbers it
    alternative: Text = Field(title="Alternative")
    why_rejected: Text = Field(title="Why it was rejected")


class Removal(StepInput):
    """A child removed: what their placement disruption case starts with (the rest, the carer,
    the fostering service and the child's IRO and social worker, the case already knows)."""

    model_config = ConfigDict(title="Child removed")  # one of a list, as a form numbers it

    child: Ref = Field(
        title="Child's reference", description="As on the child's record, for example C-1042"
    )
    ends_on: date = Field(title="Date the placement ends")
    # the day the child's next placement starts
    new_placement_on: date = Field(title="Date the new placement starts")
    planned: bool = Field(default=False, title="Is the ending planned?")  # a removal is usually not
    # the disruption case records it (its length); asked of every removal recorded now
    placement_began_on: date | None = Field(default=None, title="Date the placement began")
    # short_term, long_term, permanent, emergency... (the disruption's)
    placement_type: Label = Field(title="Type of placement")
    # leads the disruption case
    team_manager: Annotated[StaffId, staff(Role.team_manager)] = Field(title="Team manager")


class SuspensionDecision(StepInput):
    decided_on: StepDay = Field(title="Date decided")
    decision: PlacementDecision = Field(title="Decision on the placements")
    children_removed: tuple[Ref, ...] = Field(default=(), title="Children removed (one per line)")
    # each child removed whom this authority looks after
    removals: tuple[Removal, ...] = Field(default=(), title="Each child removed")
    # considered, and why each was rejected
    alternatives: tuple[Alternative, ...] = Field(default=(), title="Alternatives considered")
    rationale: Text = Field(title="Rationale")
    approved_by: Annotated[StaffId, approver()] = Field(title="Approved by")
    # the carer's contact while it lasts
    named_contact: Label = Field(title="The carer's named contact")
    # in writing (L6: within 1 working day)
    confirmed_to_carer_on: StepDay | None = Field(
        default=None, title="Date confirmed to the carer in writing"
    )
    late_confirmation_reason: Text | None = Field(default=None, title="Why it was confirmed late")

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> "SuspensionDecision":
        removing = self.decision is PlacementDecision.children_removed
        if removing != bool(self.children_removed):
            raise ValueError("name children_removed when, and only when, the children are removed")
        if self.decision is not PlacementDecision.children_stay:
            if not self.alternatives:
                raise ValueError(
                    f"{self.decision.value}: record the alternatives considered and why each was "
                    "rejected (alternatives: [{alternative, why_rejected}])"
                )
            if self.confirmed_to_carer_on is None:
                raise ValueError(
                    f"{self.decision.value}: give confirmed_to_carer_on, the day it was confirmed "
                    "to the carer in writing"
                )
        if self.confirmed_to_carer_on is not None:
            if self.confirmed_to_carer_on < self.decided_on:
                raise ValueError("confirmed_to_carer_on is before decided_on")
            ctx = input_context(info)
            latest = ctx.working_days_after(self.decided_on, 1) if ctx is not None else None
            late = latest is not None and self.confirmed_to_carer_on > latest
            if late and not self.late_confirmation_reason:
                raise ValueError(
                    f"confirmed to the carer on {self.confirmed_to_carer_on}, after {latest} "
                    "(1 working day from the decision, L6): give late_confirmation_reason"
                )
        return self


def children_in_case(ctx: CheckContext, data: SuspensionDecision) -> None:
    """Every child removed is a child of the case; each one this authority looks after has its
    placement disruption case started with the decision, so what it starts with must hold now."""
    unknown = sorted(c for c in data.children_removed if ctx.child(c) is None)
    if unknown:
        named = ", ".join(ctx.details.get("child_refs", ()))
        raise about(
            "children_removed",
            f"suspension_decision: {', '.join(unknown)} is not a child of this case "
            f"(children: {named})",
        )
    given = [r.child for r in data.removals]
    if len(set(given)) != len(given):
        raise about("removals", "suspension_decision: a child is in removals twice")
    for child in data.children_removed:
        ours = "iro" in (ctx.child(child) or {})
        if ours and child not in given:
            raise about(
                "removals",
                f"suspension_decision: {child} is removed: give their removal (removals: [{{child, "
                "ends_on, new_placement_on, placement_type, team_manager}]) so their placement "
                "disruption case starts with the decision",
            )
        if not ours and child in given:
            raise about(
                "removals",
                f"suspension_decision: {child} is placed by another authority: their placing "
                "authority runs any disruption process; leave them out of removals",
            )
    for removal in data.removals:
        if removal.child not in data.children_removed:
            raise about(
                "removals",
                f"suspension_decision: {removal.child} is in removals but not in children_removed",
            )
        try:
            ctx.try_start("disruption", removal.team_manager, _disruption(ctx, removal))
        except InputError as refused:  # said as this step's field, without the other's example
            said = str(refused).split(" (example input:")[0].removeprefix("disruption start: ")
            raise about(
                "removals",
                f"suspension_decision: removals ({removal.child}): their placement disruption "
                f"case could not start: {said}",
            ) from None


def _disruption(ctx: CheckContext | ApplyContext, removal: Removal) -> dict[str, Any]:
    """The start input of a removed child's placement disruption case."""
    details = ctx.details
    return {
        "child": {k: v for k, v in (ctx.child(removal.child) or {}).items() if k != "contact"},
        "carer": details["carer"],
        "fostering_service": details["fostering_service"],
        "supervising_social_worker": details["supervising_social_worker"],
        "team_manager": removal.team_manager,
        "placement_type": removal.placement_type,
        **_began(removal),
        "ending": {
            "ended_by": "allegation",
            "planned": removal.planned,
            "ends_on": removal.ends_on.isoformat(),
            "new_placement_on": removal.new_placement_on.isoformat(),
            "allegation": ctx.reference,
        },
    }


def _began(removal: Removal) -> dict[str, str]:
    began = removal.placement_began_on
    return {"placement_began_on": began.isoformat()} if began else {}


def decide_placements(ctx: ApplyContext, data: SuspensionDecision) -> None:
    ctx.decide("placements", data.decision.value, data.rationale)
    ctx.decide("placements_approved", f"approved by {data.approved_by}", data.rationale)
    for option in data.alternatives:
        ctx.decide("alternative_rejected", option.alternative, option.why_rejected)
    if data.late_confirmation_reason:
        ctx.decide("confirmation_late", "confirmed late", data.late_confirmation_reason)
    removals = {r.child: r for r in data.removals}
    for child in data.children_removed:  # a placement ending: its disruption case starts (L6)
        removal = removals.get(child)
        if removal is not None:
            started = ctx.start_case("disruption", removal.team_manager, _disruption(ctx, removal))
            ctx.decide(
                "disruption_started",
                f"child {child}: {started}",
                "removed by the suspension decision: the placement disruption case is linked",
            )
            continue
        where = ctx.child(child) or {}
        ctx.decide(
            "disruption_elsewhere" if "placed_by" in where else "disruption_to_start",
            f"child {child}",
            f"placed by {where['placed_by']} (contact {where.get('contact', 'not given')}): their "
            "placing authority runs any disruption process"
            if "placed_by" in where
            else "removed by the suspension decision (recorded before removals were asked for): "
            "start its placement disruption case with 'safeguard disruption start'",
        )


SUSPENSION_DECISION: StepDecl[SuspensionDecision, None] = StepDecl(
    name="suspension_decision",
    input=SuspensionDecision,
    may_record=frozenset({Role.lado, Role.lado_manager, Role.team_manager, Role.service_manager}),
    check=children_in_case,
    apply=decide_placements,
    done_on=lambda data: data.decided_on,
    example={
        "decided_on": "2026-11-05",
        "decision": "new_placements_paused",
        "alternatives": [{"alternative": "children moved", "why_rejected": "..."}],
        "rationale": "...",
        "approved_by": "STAFF_ID",
        "named_contact": "supervising social worker",
        "confirmed_to_carer_on": "2026-11-05",
    },
)


class CarerSupport(StepInput):
    """Opened once a meeting records the carer told of the allegation: its clock counts from then."""

    # recorded by the meeting now; kept for older records
    carer_told_on: StepDay | None = Field(
        default=None, title="Date the carer was told of the allegation"
    )
    support_offered_on: StepDay = Field(title="Date support was offered")
    # the independent person or organisation (e.g. FosterTalk)
    offered_by: Label = Field(title="Offered by")
    allowances: Literal["continue", "reduced", "suspended"] = Field(title="Allowances")
    fees: Literal["continue", "reduced", "suspended", "not_applicable"] = Field(title="Fees")
    rationale: Text = Field(title="Rationale")  # for the allowance and fee decisions

    @model_validator(mode="after")
    def _order(self) -> "CarerSupport":
        if self.carer_told_on is not None and self.support_offered_on < self.carer_told_on:
            raise ValueError("support_offered_on is before carer_told_on")
        return self


def support_after_told(ctx: CheckContext, data: CarerSupport) -> None:
    told = ctx.details.get("carer_told_on")
    if told and data.support_offered_on.isoformat() < told:
        raise about(
            "support_offered_on",
            f"carer_support: support_offered_on {data.support_offered_on} is before the carer "
            f"was told of the allegation ({told}): give the day support was offered",
        )


def decide_support(ctx: ApplyContext, data: CarerSupport) -> None:
    ctx.decide("allowances_and_fees", f"allowances {data.allowances}; fees {data.fees}", data.rationale)  # fmt: skip


CARER_SUPPORT: StepDecl[CarerSupport, None] = StepDecl(
    name="carer_support",
    input=CarerSupport,
    may_record=frozenset(
        {Role.supervising_social_worker, Role.team_manager, Role.lado, Role.lado_manager}
    ),
    check=support_after_told,
    apply=decide_support,
    done_on=lambda data: data.support_offered_on,
    example={
        "support_offered_on": "2026-11-05",
        "offered_by": "FosterTalk",
        "allowances": "continue",
        "fees": "continue",
        "rationale": "...",
    },
)

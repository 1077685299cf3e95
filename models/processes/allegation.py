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
from datetime import date, datetime, timedelta
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
    input_context,
    once_each,
    staff,
)
from models.process import (
    ApplyContext,
    CaseEventDecl,
    CheckContext,
    ProcessDecl,
    StartPlan,
    StepDecl,
    ViewFacts,
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
    carer_pension_age_on: date | None = None  # if known: the record is kept at least until then

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
        plan.child(child.child, child.iro, child.social_worker, child.placed_by, child.contact)
    plan.party(Role.supervising_social_worker, new.supervising_social_worker)
    plan.details["child_refs"] = [child.child for child in new.children]
    if new.carer_pension_age_on is not None:  # the retention rule's other date (L12)
        plan.details["retain_at_least_until"] = new.carer_pension_age_on.isoformat()
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
    police_investigating: bool = False  # a police strand: reviews 4 weeks on, then fortnightly

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


def closing_rules(_: CheckContext, data: InitialConsideration) -> None:
    """Closing at initial consideration is a decision with approval (L4). Checked when recorded,
    so an input stored before these rules still replays."""
    fault = ""
    if data.threshold_met and data.route is Route.no_further_action:
        fault = (
            "no_further_action with threshold_met true: a case that meets the harm threshold "
            "goes to a strategy discussion or an allegation meeting (or advice, with reasons)"
        )
    elif not data.route.needs_meeting:
        given = (("rationale", data.rationale), ("approved_by", data.approved_by))
        missing = [name for name, value in given if not value]
        if missing:
            fault = (
                f"closing at initial consideration ({data.route.value}) needs "
                f"{' and '.join(missing)}: the reasons and a LADO manager's (or more senior) "
                "approval"
            )
        elif data.route is Route.advice and not data.follow_up:
            fault = "advice: record the fostering service's follow-up (follow_up)"
    elif data.approved_by or data.follow_up:
        fault = "approved_by and follow_up belong to closing at initial consideration"
    if not fault and data.police_investigating and not data.route.needs_meeting:
        fault = (
            f"police_investigating with route {data.route.value}: a police investigation needs a "
            "strategy discussion or an allegation meeting"
        )
    if fault:
        raise InputError(f"initial_consideration: {fault}")


def decide_threshold(ctx: ApplyContext, data: InitialConsideration) -> None:
    threshold = (
        f"threshold met ({', '.join(data.limbs)})" if data.threshold_met else "threshold not met"
    )
    ctx.decide("threshold_and_route", f"{threshold}; route: {data.route.value}", data.rationale)
    if data.police_investigating:  # the first police review no later than 4 weeks on (L7)
        ctx.event("police_review_due", ctx.at + timedelta(days=28), sequence=1)
        ctx.open_next("police_review", 1)
    if not data.route.needs_meeting:  # concluded here: the time to outcome ends now
        ctx.decide("closure_approved", f"approved by {data.approved_by}", data.rationale)
        if data.follow_up:
            ctx.decide("advice_follow_up", "fostering service follow-up", data.follow_up)
        ctx.close_also("outcome")


class Told(StepInput):
    """Who is told what, and by whom, as the meeting agreed (the carer, the children's parents...)."""

    who: Label
    what: Text
    by: Label | None = None


class Meeting(StepInput):
    held_on: StepDay
    attendees: tuple[Label, ...] = Field(min_length=1, description="who attended, by role")
    decisions: tuple[Text, ...] = ()
    actions: tuple[NewAction, ...] = ()
    interview_plan: Text | None = None  # who interviews whom, in what order (the police first)
    told: tuple[Told, ...] = ()  # who is told what
    suspension_view: Text | None = None  # the meeting's view on the placements (L6)
    next_review_on: date | None = None  # agreed; default and latest: the policy's agreed_within
    carer_told_on: StepDay | None = None  # the carer was told of the allegation (once, L15)
    police_investigating: bool = False  # the police strand starts here (if not already running)
    ready_for_outcome: bool = False

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

    section_47: bool
    section_47_reason: Text


class Review(Meeting):
    accounted: tuple[ActionAccount, ...] = ()

    _once = field_validator("accounted")(once_each)


def review_within_limit(ctx: CheckContext, data: Meeting) -> None:
    """The next review is agreed at each meeting, no later than the policy allows (28 days)."""
    latest = ctx.latest_agreed("review_meeting", data.held_on)
    if data.next_review_on is not None and latest is not None and data.next_review_on > latest:
        raise InputError(
            f"next_review_on {data.next_review_on} is after {latest}, the latest the policy allows "
            "for the next review: agree an earlier date"
        )


def meeting_rules(ctx: CheckContext, data: Meeting) -> None:
    review_within_limit(ctx, data)
    told = ctx.details.get("carer_told_on")
    if data.carer_told_on is not None and told and data.carer_told_on.isoformat() != told:
        raise InputError(
            f"carer_told_on: the carer was told on {told}, as an earlier meeting recorded: "
            "drop carer_told_on or give that day"
        )
    if data.ready_for_outcome and not (told or data.carer_told_on):
        raise InputError(
            "ready_for_outcome: the carer must have been told of the allegation before its "
            "outcome: give carer_told_on (the day they were told)"
        )
    if data.police_investigating and ctx.due_of("police_review") is not None:
        raise InputError(
            "police_investigating: the police strand is already running (its reviews are open "
            "or done): record each police review as it is held"
        )
    if isinstance(data, StrategyDiscussion):
        led_with = " ".join(data.attendees).lower()
        missing = [who for who in ("police", "health") if who not in led_with]
        if missing:
            raise InputError(
                "strategy_discussion: a s47 strategy discussion is held by children's social "
                f"care with the police and health: name {' and '.join(missing)} in attendees"
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
    if data.police_investigating:  # the first police review no later than 4 weeks on (L7)
        ctx.event("police_review_due", data.held_on + timedelta(days=28), sequence=1)
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


# --- beside the meetings: the children's placements, support for the carer ------------------------


class PlacementDecision(StrEnum):
    """What happens to the placements while the allegation is looked into (L6)."""

    children_stay = "children_stay"
    children_removed = "children_removed"
    new_placements_paused = "new_placements_paused"


class Alternative(StepInput):
    alternative: Text
    why_rejected: Text


class Removal(StepInput):
    """A child removed: what their placement disruption case starts with (the rest, the carer,
    the fostering service and the child's IRO and social worker, the case already knows)."""

    child: Ref
    ends_on: date  # the day the placement ends or ended
    new_placement_on: date  # the day the child's next placement starts
    planned: bool = False  # a removal is usually not
    placement_type: Label  # short_term, long_term, permanent, emergency... (the disruption's)
    team_manager: Annotated[StaffId, staff(Role.team_manager)]  # leads the disruption case


class SuspensionDecision(StepInput):
    decided_on: StepDay
    decision: PlacementDecision
    children_removed: tuple[Ref, ...] = ()
    removals: tuple[Removal, ...] = ()  # each child removed whom this authority looks after
    alternatives: tuple[Alternative, ...] = ()  # considered, and why each was rejected
    rationale: Text
    approved_by: Annotated[StaffId, approver()]
    named_contact: Label  # the carer's contact while it lasts
    confirmed_to_carer_on: StepDay | None = None  # in writing (L6: within 1 working day)
    late_confirmation_reason: Text | None = None

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
        raise InputError(
            f"suspension_decision: {', '.join(unknown)} is not a child of this case "
            f"(children: {named})"
        )
    given = [r.child for r in data.removals]
    if len(set(given)) != len(given):
        raise InputError("suspension_decision: a child is in removals twice")
    for child in data.children_removed:
        ours = "iro" in (ctx.child(child) or {})
        if ours and child not in given:
            raise InputError(
                f"suspension_decision: {child} is removed: give their removal (removals: [{{child, "
                "ends_on, new_placement_on, placement_type, team_manager}]) so their placement "
                "disruption case starts with the decision"
            )
        if not ours and child in given:
            raise InputError(
                f"suspension_decision: {child} is placed by another authority: their placing "
                "authority runs any disruption process; leave them out of removals"
            )
    for removal in data.removals:
        if removal.child not in data.children_removed:
            raise InputError(
                f"suspension_decision: {removal.child} is in removals but not in children_removed"
            )
        try:
            ctx.try_start("disruption", removal.team_manager, _disruption(ctx, removal))
        except InputError as refused:  # said as this step's field, without the other's example
            said = str(refused).split(" (example input:")[0].removeprefix("disruption start: ")
            raise InputError(
                f"suspension_decision: removals ({removal.child}): their placement disruption "
                f"case could not start: {said}"
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
        "ending": {
            "ended_by": "allegation",
            "planned": removal.planned,
            "ends_on": removal.ends_on.isoformat(),
            "new_placement_on": removal.new_placement_on.isoformat(),
            "allegation": ctx.reference,
        },
    }


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


class CarerSupport(StepInput):
    """Opened once a meeting records the carer told of the allegation: its clock counts from then."""

    carer_told_on: StepDay | None = None  # recorded by the meeting now; kept for older records
    support_offered_on: StepDay
    offered_by: Label  # the independent person or organisation (e.g. FosterTalk)
    allowances: Literal["continue", "reduced", "suspended"]
    fees: Literal["continue", "reduced", "suspended", "not_applicable"]
    rationale: Text  # for the allowance and fee decisions

    @model_validator(mode="after")
    def _order(self) -> "CarerSupport":
        if self.carer_told_on is not None and self.support_offered_on < self.carer_told_on:
            raise ValueError("support_offered_on is before carer_told_on")
        return self


def support_after_told(ctx: CheckContext, data: CarerSupport) -> None:
    told = ctx.details.get("carer_told_on")
    if told and data.support_offered_on.isoformat() < told:
        raise InputError(
            f"carer_support: support_offered_on {data.support_offered_on} is before the carer "
            f"was told of the allegation ({told}): give the day support was offered"
        )


def decide_support(ctx: ApplyContext, data: CarerSupport) -> None:
    ctx.decide("allowances_and_fees", f"allowances {data.allowances}; fees {data.fees}", data.rationale)  # fmt: skip


class Closure(StepInput):
    """Before the case closes, every action still open is accounted for: done, transferred to
    another case, or not needed, with reasons (nothing open is forgotten)."""

    closed_on: StepDay
    accounted: tuple[ActionAccount, ...] = ()

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


class PoliceReview(StepInput):
    """A police progress review (L7): what the police decided, and when the next one falls."""

    held_on: StepDay
    decision: Literal["charge", "continue", "close"]
    notes: Text | None = None


def review_police(ctx: ApplyContext, data: PoliceReview) -> None:
    ctx.event("police_review_held", data.held_on, sequence=ctx.sequence)
    ctx.decide("police_review", data.decision, data.notes)
    if data.decision == "continue":  # then ideally fortnightly
        nxt = ctx.sequence + 1
        ctx.event("police_review_due", data.held_on + timedelta(days=14), sequence=nxt)
        ctx.open_next("police_review", nxt)


def police_continue(data: PoliceReview) -> bool:
    return data.decision == "continue"


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
    removed = data.category in REMOVED_FROM_FILE
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
    children: tuple[ChildTold, ...] = ()  # each child of the case: checked when recorded

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


class ApprovalOutcome(StrEnum):
    """What the decision maker decides of the carer's approval (FSR 2011 reg 28)."""

    continue_approval = "continue"
    revise = "revise"  # a qualifying determination: the carer has 28 days (L17)
    terminate = "terminate"  # likewise
    resigned = "resigned"  # the carer gave notice: approval ends 28 days after it (L18)


class ApprovalReview(StepInput):
    """The review of the carer's approval after the allegation. The panel is optional unless the
    regulations require it (a first review); the decision maker decides, with reasons."""

    first_review: bool = False  # the carer's first review since approval
    presented_to_panel_on: StepDay | None = None
    panel_recommendation: Text | None = None
    decision: ApprovalOutcome | None = None
    decided_by: Annotated[StaffId, approver()] | None = None  # the agency decision maker
    reasons: Text | None = None
    resigned_on: StepDay | None = None  # the carer's written notice received
    notice_sent_on: StepDay | None = None  # revise or terminate: the qualifying determination
    dbs_referral: bool | None = None  # approval ends, or would have ended (L13, L18)
    dbs_reason: Text | None = None
    skipped_reason: Text | None = None
    skip_approved_by: Annotated[StaffId, approver()] | None = None

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
            raise InputError(f"approval_review: {why}: give {', '.join(missing)}")

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
        raise InputError(
            "approval_review: a carer's first review goes to the fostering panel (FSR 2011 reg "
            "28, as the policy's panel_required_for says): give presented_to_panel_on and "
            "panel_recommendation"
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


class Representations(StrEnum):
    none = "none"  # neither, in the 28 days
    to_the_provider = "to_the_provider"
    independent_review = "independent_review"  # the Independent Review Mechanism


class ApprovalDetermination(StepInput):
    """The final decision after a qualifying determination (L17)."""

    decided_on: StepDay
    representations: Representations
    irm_recommendation: Text | None = None
    decision: Literal["continue", "revise", "terminate"]
    decided_by: Annotated[StaffId, approver()]
    reasons: Text
    dbs_referral: bool | None = None
    dbs_reason: Text | None = None

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
        raise InputError(
            f"approval_determination: the carer has until {window} to make representations or "
            "apply to the IRM (28 days from the notice): decide after it, or record what they did"
        )


def determine(ctx: ApplyContext, data: ApprovalDetermination) -> None:
    ctx.decide("approval_final", f"{data.decision} (by {data.decided_by}; representations: {data.representations.value})", data.reasons)  # fmt: skip
    if data.irm_recommendation:
        ctx.decide("irm_recommendation", "recommended", data.irm_recommendation)
    if data.dbs_referral is not None:
        ctx.decide("dbs_referral", "referral made" if data.dbs_referral else "no referral", data.dbs_reason)  # fmt: skip


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


def route(data: InitialConsideration) -> Route:
    return data.route


CLOSERS = frozenset({Role.lado, Role.lado_manager})


MEETING_RECORDERS = frozenset({Role.lado, Role.lado_manager})

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
POLICE_REVIEW: StepDecl[PoliceReview, bool] = StepDecl(
    name="police_review",
    input=PoliceReview,
    may_record=frozenset({Role.lado, Role.lado_manager}),
    apply=review_police,
    result=police_continue,
    done_on=lambda data: data.held_on,
    example={"held_on": "2026-12-01", "decision": "continue", "notes": "..."},
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
        "resignation_received_on": details.get(RESIGNATION.kept_as),  # L18
        "record": {  # L12: what may be said of it, and what leaves the carer's file
            "in_references": details.get("in_references"),
            "remove_from_carer_file": details.get("remove_from_carer_file"),
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
        STRATEGY_DISCUSSION,
        REVIEW_MEETING,
        OUTCOME,
        OUTCOME_NOTIFICATION,
        APPROVAL_REVIEW,
        APPROVAL_DETERMINATION,
        POLICE_REVIEW,
        SUSPENSION_DECISION,
        CARER_SUPPORT,
        CLOSURE,
    ),
    flow="flows.allegation:allegation",
    facts=lambda details: {"carer_told": bool(details.get("carer_told_on"))},
    case_events=(RESIGNATION,),
    view=view,
    headline=headline,
)

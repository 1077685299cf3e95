"""A stage 2 complaint under the Children Act 1989 representations procedure, declared: s26, s26A and
the Representations Procedure (England) Regulations 2006 (RPR), reference §3 (C0-C9).

Read top to bottom:

    start               the complainant and their standing (s26(3); "sufficient interest" judged
                        with reasons), the child concerned (their IRO told, for information),
                        advocacy offered (s26A), the stage 1 record if stage 1 was used, the
                        stage 2 request; the stage 1 response and the request window measured
    eligibility         accepted or refused with the reason (out of scope: s47 enquiries, court
                        proceedings...); a complaint over a year old, or a late request, accepted
                        only with the complaints manager's reasons                (C0, C3)
    acknowledgement     alongside: the complaint acknowledged                    (C1)
    statement           the statement of complaint agreed, as numbered points; an investigating
                        officer and an independent person (independent of the authority, reg 2)
                        appointed                                                 (C4)
    stage2_response     25 working days from the statement, extendable to 65 with a reason, an
                        approver and the day the complainant was told; the 65-day outer limit
                        from the request watched alongside; each point decided (upheld / partly
                        upheld / not upheld) with rationale; remedies as actions; the stage 3
                        rights and the Ombudsman stated                           (C5)
    stage3_request      whether a review panel was asked for: the complainant's window (20 working
                        days from receiving the response), measured, never chased; it closes
                        itself when it runs out                                   (C6)
    stage3_panel        three independent people (not the stage 2 independent person) (C7)
    panel_report        within 5 working days of the panel                       (C8)
    stage3_response     within 15 working days, with the stage 2 independent person (C9)
    remedies_review     each remedy accounted for, round by round
    withdrawn_or_resolved  at any stage: withdrawn by the complainant, or resolved with terms
                        agreed (their words or the terms kept); every clock stops, and remedies
                        already agreed are still reviewed until each is accounted for

What comes next is the flow's (flows/complaint.py); clocks and ladders are the policy's
([processes.complaint] in policy/england.toml). No database or Prefect imports here.
"""

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from models.enums import Role
from models.errors import about
from models.inputs import (
    MAX_ACTION_DAYS,
    ActionAccount,
    ChildInCase,
    NewAction,
    PastDay,
    Ref,
    StaffId,
    StepInput,
    Text,
    actions_after,
    approver,
    independent,
    once_each,
    staff,
)
from models.process import ApplyContext, CheckContext, Measure, ProcessDecl, StartPlan, StepDecl
from models.processes import complaint_report


class Standing(StrEnum):
    """Who may make representations (CA 1989 s26(3))."""

    child = "child"
    parent = "parent"
    parental_responsibility = "parental_responsibility"
    foster_carer = "foster_carer"
    sufficient_interest = "sufficient_interest"  # as the authority judges, with its reasons


class Complainant(StepInput):
    # how the case refers to them (our database only)
    reference: Ref = Field(
        title="How the case refers to them",
        description="A reference or their initials, as your records refer to them",
    )
    standing: Standing = Field(title="Their standing")
    sufficient_interest_reasons: Text | None = Field(
        default=None, title="Why they have sufficient interest"
    )

    @model_validator(mode="after")
    def _judged(self) -> "Complainant":
        if (self.standing is Standing.sufficient_interest) != bool(
            self.sufficient_interest_reasons
        ):
            raise ValueError(
                "a complainant of sufficient interest needs the authority's reasons "
                "(sufficient_interest_reasons), and only they do"
            )
        return self


class Stage1(StepInput):
    received_on: PastDay = Field(title="Date stage 1 was received")
    answered_on: PastDay = Field(title="Date stage 1 was answered")
    response: Text = Field(title="The stage 1 response")

    @model_validator(mode="after")
    def _order(self) -> "Stage1":
        if self.answered_on < self.received_on:
            raise ValueError("stage1.answered_on is before stage1.received_on")
        return self


class NewComplaint(StepInput):
    complainant: Complainant = Field(title="Complainant")
    # the looked-after child the complaint concerns, if one
    child: ChildInCase | None = Field(default=None, title="The child it concerns")
    advocacy_offered: bool = Field(title="Was advocacy offered?")  # s26A
    advocacy: Literal["accepted", "declined", "not_applicable"] = Field(title="Advocacy")
    # who advocates for them (s26A), if advocacy was accepted: told of each stage's response
    advocate: Annotated[StaffId, staff(Role.advocate)] | None = Field(
        default=None, title="Advocate"
    )
    # the authority first received the complaint
    received_on: PastDay = Field(title="Date the complaint was received")
    # the matters complained of happened, or became known
    matter_known_on: date = Field(title="Date the matter happened or became known")
    stage1: Stage1 | None = Field(default=None, title="Stage 1")
    stage2_requested_on: PastDay = Field(title="Date stage 2 was asked for")
    # leads the case
    complaints_manager: Annotated[StaffId, staff(Role.complaints_manager)] = Field(
        title="Complaints manager"
    )
    summary: Text = Field(title="Summary")
    # who manages the service complained about: they may not adjudicate it (separation of roles)
    service_manager: Annotated[StaffId, staff()] | None = Field(
        default=None, title="Manager of the service complained about"
    )

    @model_validator(mode="after")
    def _dates(self) -> "NewComplaint":
        if self.advocate and self.advocacy != "accepted":
            raise ValueError("an advocate is named only where advocacy was accepted")
        if self.matter_known_on > self.received_on:
            raise ValueError("matter_known_on is after the complaint was received")
        if self.stage2_requested_on < self.received_on:
            raise ValueError("stage2_requested_on is before the complaint was received")
        if self.stage1 and not (
            self.received_on
            <= self.stage1.received_on
            <= self.stage1.answered_on
            <= self.stage2_requested_on
        ):
            raise ValueError(
                "the stage 1 dates must run received_on <= stage1.received_on <= "
                "stage1.answered_on <= stage2_requested_on"
            )
        return self


def start(plan: StartPlan, new: NewComplaint) -> None:
    """Stage 2 begins with the request; stage 1, if used, is measured as the case starts."""
    plan.details = new.model_dump(mode="json")
    plan.details["over_a_year"] = (new.received_on - new.matter_known_on).days > 365
    plan.lead = new.complaints_manager
    if new.advocate is not None:  # told of each stage's response ([processes.complaint])
        plan.party(Role.advocate, new.advocate)
    if new.child is not None:  # its IRO is told, for information ([processes.complaint])
        plan.child(
            new.child.child,
            new.child.iro,
            new.child.social_worker,
            new.child.placed_by,
            new.child.contact,
        )
    plan.event("received", new.received_on)
    plan.event("stage2_requested", new.stage2_requested_on)
    if new.stage1 is not None:
        plan.event("stage1_received", new.stage1.received_on)
        plan.event("stage1_response_received", new.stage1.answered_on)
        plan.measured_step("stage1_response", plan.start_of(new.stage1.answered_on))
        plan.measured_step("stage2_request_window", plan.start_of(new.stage2_requested_on))


def facts(details: Mapping[str, Any]) -> dict[str, Any]:
    return {"stage1": details.get("stage1") is not None}


# --- eligibility and set-up ----------------------------------------------------------------------


class OutOfScope(StrEnum):
    s47_enquiry = "s47_enquiry"  # a child protection enquiry: its own route
    court_proceedings = "court_proceedings"  # before a court
    other_procedure = "other_procedure"  # e.g. a foster carer's registration (IRM)
    other = "other"


class Eligibility(StepInput):
    accepted: bool = Field(title="Is the complaint considered at stage 2?")
    # a refusal tells the complainant they may go to the Ombudsman
    ombudsman_stated: bool | None = Field(
        default=None, title="Does the refusal state the right to go to the Ombudsman?"
    )
    reasons: Text | None = Field(default=None, title="Reasons")  # why refused
    out_of_scope: OutOfScope | None = Field(default=None, title="Why it is out of scope")
    # a complaint over a year old, accepted
    late_complaint_reasons: Text | None = Field(
        default=None, title="Why a complaint made late is considered"
    )
    # a stage 2 request past its window, accepted
    late_request_reasons: Text | None = Field(
        default=None, title="Why a late request for stage 2 is accepted"
    )

    @model_validator(mode="after")
    def _reasons(self) -> "Eligibility":
        if not self.accepted and not self.reasons:
            raise ValueError("refusing the complaint needs reasons")
        return self


def eligible(ctx: CheckContext, data: Eligibility) -> None:
    """Checked when recorded (a decision stored before these rules still replays)."""
    if not data.accepted:
        if data.ombudsman_stated is not True:
            raise about(
                "ombudsman_stated",
                "eligibility: a refusal states the complainant's right to go to the Local "
                "Government and Social Care Ombudsman: confirm it does (ombudsman_stated)",
            )
        return
    if ctx.details["over_a_year"] and not data.late_complaint_reasons:
        raise about(
            "late_complaint_reasons",
            "eligibility: the complaint came more than a year after the matter: accepting it "
            "needs the complaints manager's reasons (late_complaint_reasons)",
        )
    if ctx.was_late("stage2_request_window") and not data.late_request_reasons:
        raise about(
            "late_request_reasons",
            "eligibility: stage 2 was asked for after its window: accepting it needs the "
            "complaints manager's reasons (late_request_reasons)",
        )


def decide_eligibility(ctx: ApplyContext, data: Eligibility) -> None:
    reasons = data.reasons or data.late_complaint_reasons or data.late_request_reasons
    value = "accepted" if data.accepted else f"refused{f' ({data.out_of_scope.value})' if data.out_of_scope else ''}; the Ombudsman route stated"  # fmt: skip
    ctx.decide("eligibility", value, reasons or "within a year and within the window")


class Acknowledgement(StepInput):
    acknowledged_on: PastDay = Field(title="Date acknowledged")


class Point(StepInput):
    model_config = ConfigDict(title="Point")  # one of a list, as a form numbers it
    number: Annotated[int, Field(ge=1, le=200)] = Field(title="Number")
    text: Text = Field(title="The point")


class Statement(StepInput):
    # with the complainant (reg 16): the 25-working-day clock starts
    agreed_on: PastDay = Field(title="Date the statement of complaint was agreed")
    points: tuple[Point, ...] = Field(min_length=1, title="Points of complaint")
    investigating_officer: Annotated[StaffId, staff(Role.investigating_officer)] = Field(
        title="Investigating officer"
    )
    # reg 17(2), reg 2
    independent_person: Annotated[StaffId, staff(Role.independent_person), independent()] = Field(
        title="Independent person"
    )

    @field_validator("points")
    @classmethod
    def _numbered(cls, value: tuple[Point, ...]) -> tuple[Point, ...]:
        numbers = [p.number for p in value]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"number the points 1, 2, 3... in order (got {numbers})")
        return value


def io_is_not_ip(data: Statement) -> None:
    if data.investigating_officer == data.independent_person:
        raise about(
            "independent_person",
            f"stage2_appointments: {data.independent_person} is the investigating officer and "
            "cannot also be the independent person: appoint someone else",
        )


def agree_statement(ctx: ApplyContext, data: Statement) -> None:
    ctx.keep({"points": [p.model_dump(mode="json") for p in data.points]})
    ctx.party(Role.investigating_officer, data.investigating_officer)
    ctx.party(Role.independent_person, data.independent_person)
    ctx.event("statement_agreed", data.agreed_on)


# --- stage 2: investigation and adjudication ---------------------------------------------------------


class Finding(StrEnum):
    upheld = "upheld"
    partly_upheld = "partly_upheld"
    not_upheld = "not_upheld"


class PointFinding(StepInput):
    model_config = ConfigDict(title="Finding")  # one of a list, as a form numbers it
    point: Annotated[int, Field(ge=1, le=200)] = Field(title="Point number")
    finding: Finding = Field(title="Finding")
    rationale: Text | None = Field(default=None, title="Rationale")


class Stage2Response(StepInput):
    io_report_on: PastDay = Field(title="Date of the investigating officer's report")
    ip_report_on: PastDay = Field(title="Date of the independent person's report")
    adjudicated_on: PastDay = Field(title="Date adjudicated")
    adjudicating_officer: Annotated[StaffId, approver()] = Field(title="Adjudicating officer")
    findings: tuple[PointFinding, ...] = Field(min_length=1, title="Finding on each point")
    remedies: tuple[NewAction, ...] = Field(default=(), title="Remedies")
    # when the remedies are next reviewed
    remedies_review_on: date | None = Field(default=None, title="Date the remedies are reviewed")
    response_sent_on: PastDay = Field(title="Date the response was sent")
    # the stage 3 window counts from receipt: this day if known, else as deemed (DEEMED_RECEIVED)
    response_received_on: PastDay | None = Field(
        default=None,
        title="Date the complainant received the response",
        description="Leave blank if not known: it is taken as 2 working days after it was sent",
    )
    # the right to a review panel (reg 18)
    stage3_rights_stated: Literal[True] = Field(
        title="Does the response state the right to a review panel?"
    )
    # and to the Local Government and Social Care Ombudsman
    ombudsman_stated: Literal[True] = Field(title="Does it state the right to go to the Ombudsman?")

    @model_validator(mode="after")
    def _complete(self) -> "Stage2Response":
        actions_after(self.adjudicated_on, self.remedies)
        if self.remedies and self.remedies_review_on is None:
            raise ValueError("remedies need remedies_review_on: when they are reviewed")
        if self.remedies_review_on is not None and self.remedies_review_on <= self.adjudicated_on:
            raise ValueError("remedies_review_on must come after the adjudication")
        if self.response_sent_on < self.adjudicated_on:
            raise ValueError("response_sent_on is before the adjudication")
        if self.response_received_on and self.response_received_on < self.response_sent_on:
            raise ValueError("response_received_on is before the response was sent")
        return self


def separate_roles(ctx: CheckContext, data: Stage2Response) -> None:
    """The investigating officer, the adjudicating officer and the independent person are three
    different people, and the adjudicator does not manage the service complained about."""
    officer = data.adjudicating_officer
    if officer in ctx.parties.holding(Role.investigating_officer):
        raise about(
            "adjudicating_officer",
            f"stage2_response: {officer} investigated the complaint and may not adjudicate it: "
            "choose another senior manager",
        )
    if officer in ctx.parties.holding(Role.independent_person):
        raise about(
            "adjudicating_officer",
            f"stage2_response: {officer} is the independent person and may not adjudicate: "
            "choose a senior manager of the authority",
        )
    if officer == ctx.details.get("service_manager"):
        raise about(
            "adjudicating_officer",
            f"stage2_response: {officer} manages the service complained about and may not "
            "adjudicate the complaint: choose a senior manager outside it",
        )


def every_point(ctx: CheckContext, data: Stage2Response) -> None:
    separate_roles(ctx, data)
    points = [p["number"] for p in ctx.details.get("points", [])]
    decided = [f.point for f in data.findings]
    missing = sorted(set(points) - set(decided))
    if missing:
        raise about(
            "findings",
            f"stage2_response: point(s) {', '.join(map(str, missing))} of the statement have no "
            "finding: decide each point (upheld, partly_upheld or not_upheld)",
        )
    unknown = sorted(set(decided) - set(points))
    twice = sorted({p for p in decided if decided.count(p) > 1})
    if unknown or twice:
        raise about(
            "findings",
            f"stage2_response: findings must name each point of the statement once "
            f"(not a point: {unknown or '-'}; twice: {twice or '-'})",
        )


def adjudicate(ctx: ApplyContext, data: Stage2Response) -> None:
    for finding in sorted(data.findings, key=lambda f: f.point):
        ctx.decide(
            "finding",
            f"point {finding.point}: {finding.finding.value}",
            finding.rationale,
            by=data.adjudicating_officer,  # the adjudicating officer's findings, whoever typed them
        )
    ctx.add_actions(data.remedies, data.adjudicated_on)
    if data.remedies_review_on is not None:
        ctx.event("remedies_review", data.remedies_review_on)
    ctx.event(
        "stage2_response_received",
        data.response_received_on or ctx.working_days_after(data.response_sent_on, DEEMED_RECEIVED),
    )
    ctx.close_also("stage2_outer_limit")  # answered: the outer limit is met


# A response sent by post is taken as received this many working days after it was sent, unless
# the day it was received is recorded (design: the stage 3 window counts from receipt, RPR 2006
# reg 18 via North Somerset [S63]; 2 working days is this project's default, as first-class post).
DEEMED_RECEIVED = 2


def remedies_to_review(data: Stage2Response) -> bool:
    return data.remedies_review_on is not None


class OuterLimit(StepInput):
    """The outer limit is closed by the stage 2 response; recorded alone only to note why not."""

    note: Text = Field(title="Note")


# --- stage 3 ------------------------------------------------------------------------------------------


class Stage3Request(StepInput):
    requested: bool = Field(title="Was a review panel asked for?")
    requested_on: PastDay | None = Field(default=None, title="Date it was asked for")
    # asked for after the window, accepted
    late_reasons: Text | None = Field(default=None, title="Why a late request is accepted")

    @model_validator(mode="after")
    def _when(self) -> "Stage3Request":
        if self.requested != (self.requested_on is not None):
            raise ValueError("give requested_on when (and only when) a review panel was asked for")
        return self


def request_rules(ctx: CheckContext, data: Stage3Request) -> None:
    window = ctx.due_of("stage3_request")
    late = data.requested_on is not None and window and data.requested_on > window
    if late and not data.late_reasons:
        raise about(
            "late_reasons",
            f"stage3_request: asked for on {data.requested_on}, after the window closed "
            f"({window}): accepting it needs the complaints manager's reasons (late_reasons)",
        )


def record_request(ctx: ApplyContext, data: Stage3Request) -> None:
    if data.requested_on is not None:
        ctx.event("stage3_requested", data.requested_on)
        if data.late_reasons:
            ctx.decide("late_stage3_request", "accepted", data.late_reasons)


def requested(data: Stage3Request) -> bool:
    return data.requested


class Panel(StepInput):
    held_on: PastDay = Field(title="Date held")
    # three independent persons (reg 19)
    members: tuple[Annotated[StaffId, staff(), independent()], ...] = Field(
        min_length=3, max_length=3, title="Panel members (staff ids, one per line)"
    )
    chair: Annotated[StaffId, staff()] = Field(title="Chair")

    @model_validator(mode="after")
    def _chair(self) -> "Panel":
        if len(set(self.members)) != 3:
            raise ValueError("the panel is three different people")
        if self.chair not in self.members:
            raise ValueError("the chair is one of the three members")
        return self


def not_the_stage2_ip(ctx: CheckContext, data: Panel) -> None:
    for member in data.members:
        if member in ctx.parties.holding(Role.independent_person):
            raise about(
                "members",
                f"stage3_panel: {member} was the stage 2 independent person and may not sit on "
                "the review panel (reg 19)",
            )


def hold_panel(ctx: ApplyContext, data: Panel) -> None:
    ctx.event("panel_held", data.held_on)


class PanelReport(StepInput):
    # the authority received the panel's report
    received_on: PastDay = Field(title="Date the panel's report was received")
    recommendations: tuple[Text, ...] = Field(default=(), title="Recommendations (one per line)")


def receive_report(ctx: ApplyContext, data: PanelReport) -> None:
    ctx.keep({"recommendations": list(data.recommendations)})  # each answered at stage 3
    ctx.event("panel_report_received", data.received_on)


class Answer(StepInput):
    """The authority's answer to one of the panel's recommendations (reg 20(3))."""

    model_config = ConfigDict(title="Recommendation")  # one of a list, as a form numbers it
    number: Annotated[int, Field(ge=1, le=200)] = Field(title="Recommendation number")
    accepted: bool = Field(title="Is it accepted?")
    # accepted: a remedy, tracked and reviewed like stage 2's
    owner: Annotated[StaffId, staff()] | None = Field(
        default=None, title="Who carries it out, if accepted"
    )
    due: date | Annotated[int, Field(ge=1, le=MAX_ACTION_DAYS)] | None = Field(
        default=None,
        title="Due, if accepted (a date, or working days after the response)",
    )
    reasons: Text | None = Field(default=None, title="Why it is not accepted")

    @model_validator(mode="after")
    def _answered(self) -> "Answer":
        if self.accepted and (self.owner is None or self.due is None):
            raise ValueError(
                f"recommendation {self.number} is accepted: give who carries it out (owner) and "
                "when it is due (due)"
            )
        if not self.accepted and not self.reasons:
            raise ValueError(
                f"recommendation {self.number} is not accepted: give the reasons (reasons)"
            )
        if not self.accepted and (self.owner or self.due):
            raise ValueError(
                f"recommendation {self.number} is not accepted: an owner and due day are only for "
                "one accepted"
            )
        return self


class Stage3Response(StepInput):
    responded_on: PastDay = Field(title="Date of the authority's response")
    # reg 20(3)
    decided_with_stage2_ip: Literal[True] = Field(
        title="Was the response decided with the stage 2 independent person?"
    )
    recommendations: tuple[Answer, ...] = Field(
        default=(), title="The answer to each of the panel's recommendations"
    )
    # when the remedies accepted are reviewed, as stage 2's are
    remedies_review_on: date | None = Field(default=None, title="Date the remedies are reviewed")
    ombudsman_stated: Literal[True] = Field(title="Does it state the right to go to the Ombudsman?")

    @model_validator(mode="after")
    def _remedies(self) -> "Stage3Response":
        remedies = self.accepted_remedies()
        actions_after(self.responded_on, remedies)
        if remedies and self.remedies_review_on is None:
            raise ValueError("accepted recommendations need remedies_review_on: when they are reviewed")  # fmt: skip
        if self.remedies_review_on is not None and self.remedies_review_on <= self.responded_on:
            raise ValueError("remedies_review_on must come after the response")
        return self

    def accepted_remedies(self) -> tuple[NewAction, ...]:
        return tuple(
            NewAction(title=f"Review panel recommendation {a.number}", owner=a.owner, due=a.due)
            for a in self.recommendations
            if a.accepted and a.owner is not None and a.due is not None
        )


def every_recommendation(ctx: CheckContext, data: Stage3Response) -> None:
    made = range(1, len(ctx.details.get("recommendations", [])) + 1)
    answered = [a.number for a in data.recommendations]
    missing = [n for n in made if n not in answered]
    if missing:
        raise about(
            "recommendations",
            f"stage3_response: recommendation(s) {', '.join(map(str, missing))} of the panel have "
            "no answer: accept each (with who carries it out and when) or give the reasons not to",
        )
    unknown = sorted(set(answered) - set(made))
    twice = sorted({n for n in answered if answered.count(n) > 1})
    if unknown or twice:
        raise about(
            "recommendations",
            f"stage3_response: answer each of the panel's {len(made)} recommendation(s) once "
            f"(not one of them: {unknown or '-'}; twice: {twice or '-'})",
        )


def respond_stage3(ctx: ApplyContext, data: Stage3Response) -> None:
    for answer in sorted(data.recommendations, key=lambda a: a.number):
        if answer.accepted:
            ctx.decide("recommendation", f"recommendation {answer.number}: accepted", "accepted: a remedy with its owner and due day")  # fmt: skip
        else:
            ctx.decide("recommendation", f"recommendation {answer.number}: not accepted", answer.reasons)  # fmt: skip
    remedies = data.accepted_remedies()
    ctx.add_actions(remedies, data.responded_on)
    if remedies and data.remedies_review_on is not None:  # the next round of the remedies review
        ctx.event("remedies_review", data.remedies_review_on, sequence=ctx.rounds("remedies_review") + 1)  # fmt: skip


def stage3_remedies(data: Stage3Response) -> bool:
    return bool(data.accepted_remedies())


def _stage3_v1(old: dict[str, Any]) -> dict[str, Any]:
    """Version 1 gave one reason for any recommendation not followed; version 2 answers each. A
    version 1 response is read with no answers (its decision, with that reason, was recorded)."""
    return {k: v for k, v in old.items() if k != "not_followed_reasons"}


class RemediesReview(StepInput):
    held_on: PastDay = Field(title="Date held")
    accounted: tuple[ActionAccount, ...] = Field(default=(), title="What happened to each remedy")
    next_review_on: date | None = Field(default=None, title="Date of the next review")

    _once = field_validator("accounted")(once_each)

    @model_validator(mode="after")
    def _next(self) -> "RemediesReview":
        carried = any(a.status == "carried_forward" for a in self.accounted)
        if carried and self.next_review_on is None:
            raise ValueError("a remedy is carried forward: give next_review_on")
        if self.next_review_on is not None and self.next_review_on <= self.held_on:
            raise ValueError("next_review_on must come after this review")
        return self


def every_remedy(ctx: CheckContext, data: RemediesReview) -> None:
    ctx.require_every_open_action_accounted(data.accounted, data.held_on)


def review_remedies(ctx: ApplyContext, data: RemediesReview) -> None:
    ctx.account_for(data.accounted, data.held_on)
    if data.next_review_on is not None:
        # the next round (stage 3's accepted recommendations may have set one already)
        ctx.event("remedies_review", data.next_review_on, sequence=ctx.rounds("remedies_review") + 1)  # fmt: skip


def more_remedies(data: RemediesReview) -> bool:
    return any(a.status == "carried_forward" for a in data.accounted)


# --- at any stage: withdrawn, or resolved with terms agreed -------------------------------------------


class Ending(StepInput):
    how: Literal["withdrawn", "resolved"] = Field(
        title="Was it withdrawn by the complainant, or resolved with terms agreed?"
    )
    on: PastDay = Field(title="Date it was withdrawn or the terms were agreed")
    # kept on the case: the complainant's own words, or the written terms agreed with them
    words: Text = Field(title="The complainant's words, or the terms agreed")


def end_early(ctx: ApplyContext, data: Ending) -> None:
    """The complaint goes no further: every clock stops; remedies already agreed are still
    reviewed until each is accounted for."""
    ctx.decide("ending", data.how, data.words)
    ctx.end_procedure(keep=[REMEDIES_REVIEW.name])


MANAGER = frozenset({Role.complaints_manager})

ELIGIBILITY: StepDecl[Eligibility, bool] = StepDecl(
    name="eligibility",
    input=Eligibility,
    may_record=MANAGER,
    check=eligible,
    apply=decide_eligibility,
    result=lambda data: data.accepted,
    example={"accepted": True, "late_request_reasons": "..."},
)
ACKNOWLEDGEMENT: StepDecl[Acknowledgement, None] = StepDecl(
    name="acknowledgement",
    input=Acknowledgement,
    may_record=MANAGER,
    done_on=lambda data: data.acknowledged_on,
    example={"acknowledged_on": "2026-11-03"},
)
STATEMENT: StepDecl[Statement, None] = StepDecl(
    name="stage2_appointments",
    input=Statement,
    may_record=MANAGER,
    check=lambda ctx, data: io_is_not_ip(data),
    apply=agree_statement,
    done_on=lambda data: data.agreed_on,
    example={
        "agreed_on": "2026-11-06",
        "points": [{"number": 1, "text": "..."}, {"number": 2, "text": "..."}],
        "investigating_officer": "STAFF_ID",
        "independent_person": "STAFF_ID",
    },
)
STAGE2_RESPONSE: StepDecl[Stage2Response, bool] = StepDecl(
    name="stage2_response",
    input=Stage2Response,
    may_record=MANAGER,
    check=every_point,
    apply=adjudicate,
    result=remedies_to_review,
    done_on=lambda data: data.response_sent_on,
    example={
        "io_report_on": "2026-12-04",
        "ip_report_on": "2026-12-04",
        "adjudicated_on": "2026-12-09",
        "adjudicating_officer": "STAFF_ID",
        "findings": [{"point": 1, "finding": "upheld", "rationale": "..."}],
        "remedies": [{"title": "...", "owner": "STAFF_ID", "due": 10}],
        "remedies_review_on": "2027-01-15",
        "response_sent_on": "2026-12-10",
        "stage3_rights_stated": True,
        "ombudsman_stated": True,
    },
)
STAGE2_OUTER_LIMIT: StepDecl[OuterLimit, None] = StepDecl(
    name="stage2_outer_limit",
    input=OuterLimit,
    may_record=MANAGER,
    example={"note": "..."},
)
STAGE3_REQUEST: StepDecl[Stage3Request, bool] = StepDecl(
    name="stage3_request",
    input=Stage3Request,
    may_record=MANAGER,
    check=request_rules,
    apply=record_request,
    result=requested,
    example={"requested": True, "requested_on": "2026-12-20"},
    when_lapsed=lambda: False,  # the complainant's window closed: no review panel
)
STAGE3_PANEL: StepDecl[Panel, None] = StepDecl(
    name="stage3_panel",
    input=Panel,
    may_record=MANAGER,
    check=not_the_stage2_ip,
    apply=hold_panel,
    done_on=lambda data: data.held_on,
    example={"held_on": "2027-01-28", "members": ["IP_1", "IP_2", "IP_3"], "chair": "IP_1"},
)
PANEL_REPORT: StepDecl[PanelReport, None] = StepDecl(
    name="panel_report",
    input=PanelReport,
    may_record=MANAGER,
    apply=receive_report,
    done_on=lambda data: data.received_on,
    example={"received_on": "2027-02-03", "recommendations": ["..."]},
)
STAGE3_RESPONSE: StepDecl[Stage3Response, bool] = StepDecl(
    name="stage3_response",
    input=Stage3Response,
    may_record=MANAGER | {Role.director, Role.head_of_service},
    check=every_recommendation,
    apply=respond_stage3,
    result=stage3_remedies,
    done_on=lambda data: data.responded_on,
    example={
        "responded_on": "2027-02-20",
        "decided_with_stage2_ip": True,
        "recommendations": [
            {"number": 1, "accepted": True, "owner": "STAFF_ID", "due": 20},
            {"number": 2, "accepted": False, "reasons": "..."},
        ],
        "remedies_review_on": "2027-03-31",
        "ombudsman_stated": True,
    },
    version=2,
    upgrades={1: _stage3_v1},
)
REMEDIES_REVIEW: StepDecl[RemediesReview, bool] = StepDecl(
    name="remedies_review",
    input=RemediesReview,
    may_record=MANAGER,
    check=every_remedy,
    apply=review_remedies,
    result=more_remedies,
    done_on=lambda data: data.held_on,
    example={"held_on": "2027-01-15", "accounted": [{"action_id": 1, "status": "done"}]},
)


WITHDRAWN_OR_RESOLVED: StepDecl[Ending, None] = StepDecl(
    name="withdrawn_or_resolved",
    input=Ending,
    may_record=MANAGER,
    apply=end_early,
    done_on=lambda data: data.on,
    example={"how": "withdrawn", "on": "2026-11-20", "words": "..."},
)


def measures(cases: list[dict[str, str]]) -> list[Measure]:
    """The annual representations report's stage 2 line: within 25 working days, within 65."""
    answered = [c["stage2_response"] for c in cases if "stage2_response" in c]
    done = [a for a in answered if a not in ("open", "overdue", "stopped")]
    return [
        Measure("stage 2 responses within 25 working days", done.count("in time"), len(done)),
        Measure(
            "stage 2 responses within 65 working days (extended)",
            sum(1 for a in done if a.startswith("in time")),
            len(done),
        ),
    ]


def headline(seen: Mapping[str, Any]) -> str:
    return f"complaints manager {seen['lead']}; complainant {seen['complaint']['complainant']} ({seen['complaint']['standing']})"


def view(facts_: Any) -> dict[str, Any]:
    details = facts_.details
    return {
        "complaint": {
            "complainant": details["complainant"]["reference"],
            "standing": details["complainant"]["standing"],
            "child": (details.get("child") or {}).get("child"),
            "advocacy": details["advocacy"],
            "received_on": details["received_on"],
            "stage2_requested_on": details["stage2_requested_on"],
            "over_a_year": details["over_a_year"],
            "stage1": details.get("stage1"),
            "points": details.get("points", []),
        }
    }


COMPLAINT: ProcessDecl[NewComplaint] = ProcessDecl(
    code="complaint",
    noun="a complaint",
    start_input=NewComplaint,
    start_example={
        "complainant": {"reference": "Complainant A", "standing": "foster_carer"},
        "child": {"child": "C-1042", "iro": "iro-1", "social_worker": "sw-1"},
        "advocacy_offered": True,
        "advocacy": "declined",
        "received_on": "2026-10-01",
        "matter_known_on": "2026-09-20",
        "stage1": {"received_on": "2026-10-01", "answered_on": "2026-10-14", "response": "..."},
        "stage2_requested_on": "2026-10-28",
        "complaints_manager": "cm-1",
        "summary": "...",
    },
    may_start=MANAGER,
    lead_role=Role.complaints_manager,
    overseer=Role.head_of_service,
    start=start,
    steps=(
        ELIGIBILITY,
        ACKNOWLEDGEMENT,
        STATEMENT,
        STAGE2_RESPONSE,
        STAGE2_OUTER_LIMIT,
        STAGE3_REQUEST,
        STAGE3_PANEL,
        PANEL_REPORT,
        STAGE3_RESPONSE,
        REMEDIES_REVIEW,
        WITHDRAWN_OR_RESOLVED,
    ),
    flow="flows.complaint:complaint",
    view=view,
    headline=headline,
    facts=facts,
    measures=measures,
    # the complaints annual report (RPR 2006 reg 13(3)): complaint_report.py
    figures=complaint_report.figures,
    figures_title="The complaints annual report",
    figures_name="complaints",
    # Who viewed a case is read by these (as for every case until now; the IRO and complaints
    # services may want their own managers here).
    access_log_readers=frozenset({Role.lado_manager, Role.head_of_service, Role.director}),
    cli="safeguard.cli.processes.complaint:app",
    demo="safeguard.cli.processes.complaint:demo_cases",
)

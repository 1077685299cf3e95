"""The IRO's challenge (dispute resolution), declared: IRO Handbook 2010 chapter 6, CA 1989 s25B(3),
reference §4b (E0-E5). Read top to bottom:

    start                  the child (their IRO leads, their social worker), the child's team
                           manager, what the IRO challenges (a category and the issue, kept only
                           in our database), the resolution sought, the day it was first raised;
                           optionally the open case it is about (linked both ways)
    informal_resolution    raised with the social worker and/or team manager: what they answered,
                           whether it resolved it; if not, the formal alert goes out (to the team
                           manager, or past stages with the reason recorded)
    formal_<stage>         the responder at that stage records the decision and its reasons, each
                           stage on its own clock from the alert for it: team manager, service
                           manager, head of service, director
    response_considered    the IRO records whether the response resolves the concern; if not, the
      (1..4)               alert for the next stage (or one further up, the reason recorded)
    formal_total           beside the stages: 20 working days from the first formal alert
    cafcass_referral       at any point, alongside the stages (the day and the reason)
    cafcass_decision       after the director's stage has not resolved it: refer or not, why

What comes next is the flow's (flows/iro_dispute.py); clocks and ladders are the policy's
([processes.iro_dispute] in policy/england.toml). No database or Prefect imports here.
"""

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from statistics import median
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from models.enums import Role
from models.errors import InputError, about
from models.inputs import (
    ChildInCase,
    Label,
    PastDay,
    Ref,
    StaffId,
    StepInput,
    Text,
    input_context,
    staff,
)
from models.process import (
    ApplyContext,
    CheckContext,
    Figure,
    FiguresContext,
    Measure,
    ProcessDecl,
    StartPlan,
    StepDecl,
    ViewFacts,
)

# --- the authority's seniority: the formal stages ----------------------------------------------


class Stage(StrEnum):
    """A formal stage, by who responds at it (IRO Handbook 6.2: levels of seniority)."""

    team_manager = "team_manager"
    service_manager = "service_manager"
    head_of_service = "head_of_service"
    director = "director"

    @property
    def label(self) -> str:
        return Role(self.value).label.capitalize()

    @property
    def role(self) -> Role:
        return Role(self.value)

    @property
    def step(self) -> str:
        return f"formal_{self.value}"

    @property
    def number(self) -> int:
        return list(Stage).index(self) + 1


def _stages_between(current: Stage | None, chosen: Stage) -> list[Stage]:
    """The stages passed over on the way from `current` (None: the informal stage) to `chosen`."""
    start = current.number if current is not None else 0
    return [s for s in Stage if start < s.number < chosen.number]


# --- the start: what the IRO challenges -----------------------------------------------------------


class Category(StrEnum):
    """What the IRO challenges (the IRO Handbook's grounds: the plan, its implementation, a
    decision not made or an action not taken)."""

    care_plan = "care_plan"
    placement = "placement"
    contact = "contact"
    education = "education"
    health = "health"
    decision_not_made = "decision_not_made"
    action_not_taken = "action_not_taken"

    @property
    def label(self) -> str:
        return {
            Category.care_plan: "The care plan",
            Category.placement: "The placement",
            Category.contact: "Contact",
            Category.education: "Education",
            Category.health: "Health",
            Category.decision_not_made: "A decision not made",
            Category.action_not_taken: "An action not taken",
        }[self]


class NewChallenge(StepInput):
    child: ChildInCase = Field(title="The child")
    team_manager: Annotated[StaffId, staff(Role.team_manager)] = Field(
        title="The child's team manager",
        description="They answer the informal challenge and the first formal stage",
    )
    category: Category = Field(title="What you are challenging")
    issue: Text = Field(
        title="The issue", description="Kept only in this service: notices never carry it"
    )
    resolution_sought: Text = Field(title="The resolution you seek")
    first_raised_on: PastDay = Field(title="Date you first raised it")
    about_case: Ref | None = Field(
        default=None,
        title="The case it is about",
        description="Its reference, for example DIS-2026-0001",
    )
    about_item: Text | None = Field(
        default=None,
        title="What in that case",
        description="For example, a recommendation carried forward or an action overdue",
    )

    @model_validator(mode="after")
    def _ours(self) -> "NewChallenge":
        if self.child.external:
            raise ValueError(
                "child: an IRO challenges for a child this authority looks after: give the "
                "child's IRO and social worker"
            )
        if self.about_item and not self.about_case:
            raise ValueError("about_item: give the case it is about as well")
        return self


def start(plan: StartPlan, new: NewChallenge) -> None:
    """The child's IRO leads; the team manager is named (they answer first)."""
    plan.details = new.model_dump(mode="json")
    plan.lead = new.child.iro
    plan.child(new.child.child, new.child.iro, new.child.social_worker)
    plan.party(Role.team_manager, new.team_manager)
    plan.event("concern_raised", new.first_raised_on)
    if new.about_case:
        plan.link(new.about_case, "the IRO challenges a decision or a failure to act in it")


def facts(details: Mapping[str, Any]) -> dict[str, Any]:
    """Codes the flow branches on: the formal process ended unresolved; Cafcass already told."""
    return {
        "unresolved": details.get("outcome") == "unresolved",
        "cafcass": bool(details.get("cafcass_referred_on")),
    }


# --- the IRO's next move: resolved, or the alert for a stage ----------------------------------------


class NextMove(StepInput):
    """What the IRO records after raising it informally or reading a stage's response."""

    resolved: bool = Field(title="Has this resolved your concern?")
    why: Text = Field(title="What was agreed, or why the concern remains")
    next_stage: Stage | None = Field(
        default=None,
        title="Who the formal alert goes to",
        description="Leave empty if it is resolved, or after the director's stage",
    )
    responder: Annotated[StaffId, staff(*(s.role for s in Stage))] | None = Field(
        default=None,
        title="Who is to respond",
        description="A person in that role; not needed for the child's team manager",
    )
    alerted_on: PastDay | None = Field(default=None, title="Date you sent the alert")
    passed_over_because: Text | None = Field(
        default=None,
        title="Why you are going past a stage",
        description="Only when the alert skips a level of seniority",
    )

    @field_validator("responder")
    @classmethod
    def _holds_the_stage(cls, value: str | None, info: ValidationInfo) -> str | None:
        """The responder holds the role of the stage the alert goes to."""
        ctx, stage = input_context(info), info.data.get("next_stage")
        if ctx is not None and value is not None and isinstance(stage, Stage):
            ctx.check_staff(value, frozenset({stage.role}))
        return value


def _current(ctx: CheckContext | ApplyContext) -> Stage | None:
    said = ctx.details.get("stage")
    return Stage(said) if said else None


def check_move(ctx: CheckContext, data: NextMove, done_on: date) -> None:
    """The alert goes up, never back; a skipped level needs its reason; the last stage has none."""
    if data.resolved:
        if any(v is not None for v in (data.next_stage, data.responder, data.alerted_on)):
            raise about(
                "next_stage",
                "You said the concern is resolved: leave who the alert goes to, who is to "
                "respond and the date of the alert empty",
            )
        return
    current = _current(ctx)
    if current is Stage.director:
        if data.next_stage is not None:
            raise about(
                "next_stage",
                "The director's stage is the last: leave who the alert goes to empty (you can "
                "refer the child's case to Cafcass)",
            )
        return
    if data.next_stage is None:
        raise about("next_stage", "Select who the formal alert goes to")
    if current is not None and data.next_stage.number <= current.number:
        raise about(
            "next_stage",
            f"The alert goes up: choose a stage above the {current.role.label}",
        )
    if _stages_between(current, data.next_stage) and not data.passed_over_because:
        raise about("passed_over_because", "Enter why you are going past a stage")
    if data.next_stage is not Stage.team_manager and data.responder is None:
        raise about("responder", f"Enter who is to respond as {data.next_stage.role.label}")
    if data.alerted_on is None:
        raise about("alerted_on", "Enter the date you sent the alert")
    if data.alerted_on < done_on:
        raise about("alerted_on", "The date of the alert cannot be before the date you decided")


def apply_move(
    ctx: ApplyContext, data: NextMove, done_on: date, at: str, said: str = "", before: str = ""
) -> None:
    """Record the IRO's view (`said` after it, `before` its reasons); on an alert: the stage, its
    responder, the stages passed over."""
    current = _current(ctx)
    view = "resolved" if data.resolved else "not resolved"
    ctx.decide(at, f"{view}{said}", f"{before}{data.why}")
    if data.resolved:
        ctx.keep({"outcome": "resolved", "resolved_at": current.value if current else "informal"})
        ctx.close_also("formal_total")
        return
    if data.next_stage is None:  # after the director's stage: the formal process has ended
        ctx.event("formal_ended", done_on)
        ctx.keep({"outcome": "unresolved", "resolved_at": None})
        ctx.close_also("formal_total")
        return
    assert data.alerted_on is not None  # check_move
    if current is None:
        ctx.event("formal_started", data.alerted_on)
        ctx.keep({"formal_started_on": data.alerted_on.isoformat()})
    ctx.event("alert_sent", data.alerted_on, sequence=ctx.rounds("alert_sent") + 1)
    if data.responder is not None:
        ctx.party(data.next_stage.role, data.responder)
    passed = _stages_between(current, data.next_stage)
    for stage in passed:
        ctx.decide("stage passed over", stage.label, data.passed_over_because)
    ctx.keep(
        {
            "stage": data.next_stage.value,
            "passed_over": [*ctx.details.get("passed_over", []), *(s.value for s in passed)],
        }
    )


def next_stage(data: NextMove) -> str | None:
    """The stage the flow opens next (None: resolved, or the formal process has ended)."""
    return data.next_stage.value if data.next_stage is not None and not data.resolved else None


# --- informal resolution (E0) ---------------------------------------------------------------------


class RaisedWith(StrEnum):
    social_worker = "social_worker"
    team_manager = "team_manager"
    both = "both"
    not_raised = "not_raised"

    @property
    def label(self) -> str:
        return {
            RaisedWith.social_worker: "The social worker",
            RaisedWith.team_manager: "The team manager",
            RaisedWith.both: "The social worker and the team manager",
            RaisedWith.not_raised: "Nobody: it is too serious to try informally first",
        }[self]


class _Raised(StepInput):
    raised_with: RaisedWith = Field(title="Who you raised it with")
    discussed_on: PastDay = Field(title="Date of their answer, or of your decision")
    answer: Text | None = Field(default=None, title="What they answered")


class Informal(NextMove, _Raised):  # what was raised and answered first, then the IRO's move
    pass


def check_informal(ctx: CheckContext, data: Informal) -> None:
    if data.raised_with is RaisedWith.not_raised:
        if data.resolved:
            raise about("resolved", "A concern you did not raise informally is not resolved by it")
        if not data.passed_over_because:
            raise about("passed_over_because", "Enter why you go straight to the formal process")
    elif not data.answer:
        raise about("answer", "Enter what they answered")
    check_move(ctx, data, data.discussed_on)


def apply_informal(ctx: ApplyContext, data: Informal) -> None:
    if data.raised_with is RaisedWith.not_raised:
        ctx.decide("informal stage passed over", "not raised", data.passed_over_because)
    ctx.keep({"raised_with": data.raised_with.value})
    # on the child's record (filed_on_record): with whom, what they answered, whether it resolved it
    answered = f"They answered: {data.answer}\n" if data.answer else ""
    raised = data.raised_with
    said = "" if raised is RaisedWith.not_raised else f" (raised with {raised.label.lower()})"
    apply_move(ctx, data, data.discussed_on, "informal resolution", said, answered)


# --- a formal stage's response (E1-E4) -----------------------------------------------------------


class Response(StepInput):
    responded_on: PastDay = Field(title="Date of the response")
    decision: Label = Field(title="The decision", description="In a line: the reasons follow")
    reasons: Text = Field(title="The reasons for it")


def respond(stage: Stage) -> Any:
    def apply(ctx: ApplyContext, data: Response) -> None:
        ctx.decide(f"{stage.role.label} response", data.decision, data.reasons)
        ctx.event("response_received", data.responded_on, sequence=stage.number)

    return apply


def _response(stage: Stage) -> StepDecl[Response, None]:
    return StepDecl(
        name=stage.step,
        input=Response,
        # the responder, or the IRO or their manager typing in a response received by email
        may_record=frozenset({stage.role, Role.iro, Role.iro_manager}),
        apply=respond(stage),
        done_on=lambda data: data.responded_on,
        example={"responded_on": "2026-12-03", "decision": "...", "reasons": "..."},
    )


# --- the IRO considers a response (after each stage) ------------------------------------------------


class _Decided(StepInput):
    considered_on: PastDay = Field(title="Date you decided")


class Considered(NextMove, _Decided):  # the day first, then the IRO's move
    pass


def check_considered(ctx: CheckContext, data: Considered) -> None:
    check_move(ctx, data, data.considered_on)


def apply_considered(ctx: ApplyContext, data: Considered) -> None:
    current = _current(ctx)
    apply_move(ctx, data, data.considered_on, f"{current.role.label if current else 'the'} response considered")  # fmt: skip


class Note(StepInput):
    note: Text = Field(title="Note")


# --- Cafcass (E5): at any point, and the prompt after the director's stage -----------------------


class Referral(StepInput):
    referred_on: PastDay = Field(title="Date you referred the child's case to Cafcass")
    reason: Text = Field(title="Why")


def refer(ctx: ApplyContext, data: Referral) -> None:
    referred(ctx, data.referred_on, data.reason)
    ctx.close_also("cafcass_decision")  # the prompt, if it was open, is answered


def referred(ctx: ApplyContext, on: date, reason: str) -> None:
    """The referral, with its day and reason (the figures count the event)."""
    ctx.decide("Cafcass", "referred", reason)
    ctx.event("cafcass_referred", on)
    ctx.keep({"cafcass_referred_on": on.isoformat()})


class CafcassDecision(StepInput):
    refer: bool = Field(title="Are you referring the child's case to Cafcass?")
    decided_on: PastDay = Field(title="Date you decided")
    referred_on: PastDay | None = Field(default=None, title="Date you referred it")
    reason: Text = Field(title="Why")


def check_cafcass(ctx: CheckContext, data: CafcassDecision) -> None:
    if data.refer and data.referred_on is None:
        raise about("referred_on", "Enter the date you referred it")
    if not data.refer and data.referred_on is not None:
        raise about("referred_on", "Leave the date empty when you are not referring it")


def decide_cafcass(ctx: ApplyContext, data: CafcassDecision) -> None:
    if data.refer and data.referred_on is not None:
        referred(ctx, data.referred_on, data.reason)
        ctx.close_also("cafcass_referral")
    else:
        ctx.decide("Cafcass", "not referred", data.reason)


# --- the steps ---------------------------------------------------------------------------------------

IRO_SERVICE = frozenset({Role.iro, Role.iro_manager})

INFORMAL_RESOLUTION: StepDecl[Informal, str | None] = StepDecl(
    name="informal_resolution",
    input=Informal,
    may_record=IRO_SERVICE,
    check=check_informal,
    apply=apply_informal,
    result=next_stage,
    done_on=lambda data: data.discussed_on,
    example={
        "raised_with": "both",
        "discussed_on": "2026-12-01",
        "answer": "...",
        "resolved": False,
        "why": "...",
        "next_stage": "team_manager",
        "alerted_on": "2026-12-02",
    },
)
RESPONSES: dict[Stage, StepDecl[Response, None]] = {stage: _response(stage) for stage in Stage}
RESPONSE_CONSIDERED: StepDecl[Considered, str | None] = StepDecl(
    name="response_considered",
    input=Considered,
    may_record=IRO_SERVICE,
    check=check_considered,
    apply=apply_considered,
    result=next_stage,
    done_on=lambda data: data.considered_on,
    example={
        "considered_on": "2026-12-08",
        "resolved": False,
        "why": "...",
        "next_stage": "service_manager",
        "responder": "STAFF_ID",
        "alerted_on": "2026-12-08",
    },
)
FORMAL_TOTAL: StepDecl[Note, None] = StepDecl(
    name="formal_total",
    input=Note,  # closed by the IRO's record that ends the formal process (resolved or not)
    may_record=frozenset({Role.iro_manager}),
    example={"note": "..."},
)
CAFCASS_REFERRAL: StepDecl[Referral, None] = StepDecl(
    name="cafcass_referral",
    input=Referral,
    may_record=IRO_SERVICE,
    apply=refer,
    done_on=lambda data: data.referred_on,
    example={"referred_on": "2026-12-04", "reason": "..."},
)
CAFCASS_DECISION: StepDecl[CafcassDecision, None] = StepDecl(
    name="cafcass_decision",
    input=CafcassDecision,
    may_record=IRO_SERVICE,
    check=check_cafcass,
    apply=decide_cafcass,
    done_on=lambda data: data.decided_on,
    example={
        "refer": True,
        "decided_on": "2026-12-20",
        "referred_on": "2026-12-20",
        "reason": "...",
    },
)


# --- the case view, its first line, its measures ---------------------------------------------------


def view(facts_: ViewFacts) -> dict[str, Any]:
    details = facts_.details
    stage = details.get("stage")
    return {
        "challenge": {
            "child": details["child"]["child"],
            "category": Category(details["category"]).label,
            "about_case": details.get("about_case"),
            "first_raised_on": details["first_raised_on"],
            "formal_started_on": details.get("formal_started_on"),
            "stage": Stage(stage).label if stage else "Informal",
            "passed_over": [Stage(s).label for s in details.get("passed_over", [])],
            "outcome": details.get("outcome"),
            "cafcass_referred_on": details.get("cafcass_referred_on"),
        }
    }


def headline(seen: Mapping[str, Any]) -> str:
    challenge = seen["challenge"]
    where = challenge["outcome"] or f"at the {challenge['stage'].lower()} stage"
    about = f" about {challenge['about_case']}" if challenge["about_case"] else ""
    return f"IRO {seen['lead']}; child {challenge['child']}: {challenge['category'].lower()}{about}, {where}"  # fmt: skip


def measures(cases: list[dict[str, str]]) -> list[Measure]:
    """The IRO Handbook's 20 working days; each stage's response in time."""
    formal = [c["formal_total"] for c in cases if "formal_total" in c]
    responses = [c[s.step] for c in cases for s in Stage if s.step in c]

    def done_in_time(said: str) -> bool:
        return said.startswith("in time")

    return [
        Measure(
            "formal processes ended within 20 working days",
            sum(map(done_in_time, formal)),
            len(formal),
        ),
        Measure("stage responses in time", sum(map(done_in_time, responses)), len(responses)),
    ]


def take_up(case: Mapping[str, Any], what: str, item: str) -> dict[str, Any]:
    """A challenge of what another case left undone at the top of its ladder (an action overdue, a
    decision's reasons never recorded): that case, its child, and the item, filled in."""
    child = next((c for c in case.get("children", []) if c.get("iro")), None)
    category = Category.action_not_taken if what == "action" else Category.decision_not_made
    return {
        **({"child": {k: child[k] for k in ("child", "iro", "social_worker")}} if child else {}),
        "category": category.value,
        "about_case": case["reference"],
        "about_item": item,
    }


def figures(record: FiguresContext) -> list[Figure]:
    """The IRO service's figures over a period (IRO Handbook chapter 7; the NIROMP briefing's
    measures): challenges raised and how each ended, and the IROs' part in the other processes."""
    cases = record.cases()
    raised = [c for c in cases if record.start <= c.opened_on <= record.end]
    out = [Figure("Challenges raised", "Challenges raised", len(raised))]
    out += [
        Figure("Challenges raised", f"About: {category.label.lower()}", n)
        for category in Category
        if (n := sum(1 for c in raised if c.details.get("category") == category.value))
    ]
    ended = "How they ended (those raised in the period, and those open from before it)"
    where = [c.details.get("resolved_at") for c in cases if c.details.get("outcome") == "resolved"]
    out.append(Figure(ended, "Resolved informally", where.count("informal")))
    out += [
        Figure(ended, f"Resolved at the {stage.role.label}'s stage", where.count(stage.value))
        for stage in Stage
    ]
    out.append(
        Figure(
            ended,
            "Not resolved after the director's stage",
            sum(1 for c in cases if c.details.get("outcome") == "unresolved"),
        )
    )
    out.append(Figure(ended, "Not ended yet", sum(1 for c in cases if not c.details.get("outcome"))))  # fmt: skip
    took = [
        record.working_days(date.fromisoformat(c.details["first_raised_on"]), day)
        for c in cases
        for kind, value, day in c.decisions
        if value.startswith("resolved")
    ]
    out.append(Figure(ended, "Median working days from first raised to resolved", median(took) if took else None))  # fmt: skip
    formal = [s for c in cases for s in c.steps if s.name == "formal_total"]
    out.append(Figure(ended, "Formal processes ended within 20 working days", sum(1 for s in formal if s.late is False)))  # fmt: skip
    out.append(Figure(ended, "Formal processes ended after 20 working days", sum(1 for s in formal if s.late)))  # fmt: skip
    out.append(
        Figure(
            ended,
            "Open past the 20 working days",
            sum(1 for s in formal if s.status == "open" and s.due_on < record.today),
        )
    )
    out.append(
        Figure(
            ended,
            "Stages passed over",
            sum(1 for c in cases for kind, _, _ in c.decisions if kind.endswith("passed over")),
        )
    )
    out.append(Figure(ended, "Referrals to Cafcass", sum(len(c.events.get("cafcass_referred", ())) for c in cases)))  # fmt: skip
    part = "The IROs' part in the other processes"
    try:
        for measure in record.measures_of("disruption"):
            if "IRO" in measure.label:
                out.append(Figure(part, f"Placement {measure.label}", measure.count))
                out.append(Figure(part, "Placement endings in all", measure.of))
    except InputError:  # no placement disruption process here
        pass
    told = record.notices_to(Role.iro)
    out += [
        Figure(part, "Escalation notices to IROs", told.received),
        Figure(part, "Acknowledged by the IRO", told.acknowledged),
        Figure(part, "Median working days to acknowledge", told.median_working_days_to_acknowledge),
    ]
    return out


IRO_DISPUTE: ProcessDecl[NewChallenge] = ProcessDecl(
    code="iro_dispute",
    noun="an IRO challenge",
    start_input=NewChallenge,
    start_example={
        "child": {"child": "C-1042", "iro": "iro-1", "social_worker": "sw-1"},
        "team_manager": "tm-1",
        "category": "care_plan",
        "issue": "...",
        "resolution_sought": "...",
        "first_raised_on": "2026-12-01",
    },
    may_start=IRO_SERVICE,  # the child's IRO, or their manager on the IRO's behalf
    lead_role=Role.iro,
    overseer=Role.iro_manager,
    start=start,
    steps=(
        INFORMAL_RESOLUTION,
        *RESPONSES.values(),
        RESPONSE_CONSIDERED,
        FORMAL_TOTAL,
        CAFCASS_REFERRAL,
        CAFCASS_DECISION,
    ),
    flow="flows.iro_dispute:iro_dispute",
    view=view,
    headline=headline,
    facts=facts,
    measures=measures,
    figures=figures,
    figures_title="The IRO service's figures",
    filed_on_record=frozenset({"informal resolution"}),  # on the child's record (Handbook 6.1)
    take_up=take_up,
    take_up_words="Challenge this as the child's IRO",
    access_log_readers=frozenset({Role.iro_manager, Role.head_of_service, Role.director}),
    child_flag="An IRO challenge is open",
    cli="safeguard.cli.processes.iro_dispute:app",
    command="iro",  # `safeguard iro challenge`
    demo="safeguard.cli.processes.iro_dispute:demo_cases",
)

__all__ = [  # what the flow waits for and branches on (flows/iro_dispute.py)
    "CAFCASS_DECISION",
    "CAFCASS_REFERRAL",
    "FORMAL_TOTAL",
    "INFORMAL_RESOLUTION",
    "IRO_DISPUTE",
    "RESPONSES",
    "RESPONSE_CONSIDERED",
    "Stage",
]

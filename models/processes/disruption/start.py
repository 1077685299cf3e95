"""A placement disruption's start (reference D3) and a placement at risk (D1, D2): the ending, or
the risk seen, with the earlier unplanned endings of the child and the carer counted; the
stability meeting that supports the placement or plans its end."""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from models.calendar import add_months
from models.enums import Role
from models.errors import InputError
from models.inputs import (
    ChildInCase,
    Label,
    NewAction,
    PastDay,
    Ref,
    StaffId,
    StepInput,
    Text,
    actions_after,
    staff,
)
from models.process import (
    ApplyContext,
    CheckContext,
    EarlierCase,
    StartPlan,
    StepDecl,
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


class PlaceChange(StrEnum):
    """Why the child's placement changed, as the children looked after return (SSDA903) codes it
    in REASON_PLACE_CHANGE (DfE, children looked after return guide; the twelve codes the DfE's
    data validator accepts, rule 1009)."""

    CARPL = "CARPL"
    CLOSE = "CLOSE"
    ALLEG = "ALLEG"
    STAND = "STAND"
    APPRR = "APPRR"
    CREQB = "CREQB"
    CREQO = "CREQO"
    CHILD = "CHILD"
    LAREQ = "LAREQ"
    PLACE = "PLACE"
    CUSTOD = "CUSTOD"
    OTHER = "OTHER"

    @property
    def label(self) -> str:
        return {
            PlaceChange.CARPL: "A change to, or carrying out, the care plan",
            PlaceChange.CLOSE: "The carer resigned or the provision closed",
            PlaceChange.ALLEG: "An allegation (a section 47 enquiry)",
            PlaceChange.STAND: "A concern about the standards of care",
            PlaceChange.APPRR: "The carer's approval was removed",
            PlaceChange.CREQB: "The carer asked for it to end because of the child's behaviour",
            PlaceChange.CREQO: "The carer asked for it to end for another reason",
            PlaceChange.CHILD: "The child asked for it to end",
            PlaceChange.LAREQ: "The responsible or area authority asked for it to end",
            PlaceChange.PLACE: "A change in the placement's status only",
            PlaceChange.CUSTOD: "A custody arrangement",
            PlaceChange.OTHER: "Another reason",
        }[self]


# The reason a placement changed, where who ended it says it plainly; otherwise it is asked.
PLAIN_REASON = {"allegation": PlaceChange.ALLEG.value, "child": PlaceChange.CHILD.value}


class Ending(StepInput):
    ended_by: EndedBy = Field(title="Who or what ended it")
    planned: bool = Field(title="Is the ending planned?")
    # the day the placement ends (planned) or ended (emergency)
    ends_on: date = Field(title="Date the placement ends")
    # the day the child's next placement starts
    new_placement_on: date = Field(title="Date the new placement starts")
    # the allegation case (ALG-...) it followed
    allegation: Ref | None = Field(
        default=None,
        title="The allegation case it followed",
        description="Its reference, for example ALG-2026-0001",
    )
    # the children looked after return's REASON_PLACE_CHANGE (an allegation or the child's own
    # request go without saying; every other ending says which)
    reason_for_change: PlaceChange = Field(
        title="Reason for the placement change",
        description="As the children looked after return (SSDA903) records it",
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_reason(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("reason_for_change"):
            plain = PLAIN_REASON.get(str(data.get("ended_by", "")))
            if plain:
                return {**data, "reason_for_change": plain}
        return data

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
    carer: Ref = Field(
        title="Foster carer's reference",
        description="As on the fostering service's record, for example FC-0042",
    )
    fostering_service: Label = Field(title="Fostering service")
    supervising_social_worker: Annotated[StaffId, staff(Role.supervising_social_worker)] = Field(
        title="The carer's supervising social worker"
    )
    # leads the case
    team_manager: Annotated[StaffId, staff(Role.team_manager)] = Field(title="Team manager")
    placement_type: PlacementType = Field(title="Type of placement")
    # siblings placed with the child
    siblings_together: tuple[Ref, ...] = Field(
        default=(), title="Siblings placed with the child (one per line)"
    )
    # siblings who are looked after too: the new placement says of each, together or apart
    looked_after_siblings: tuple[Ref, ...] = Field(
        default=(), title="The child's looked-after siblings (one per line)"
    )
    # years 10-11: a move needs the nominated officer (reg 10)
    key_stage_4: bool = Field(default=False, title="Is the child in key stage 4 (years 10 and 11)?")
    # the placement's length is reported; an ending before it began is refused
    placement_began_on: PastDay = Field(title="Date the placement began")
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
        began = self.placement_began_on
        if self.ending is not None and self.ending.ends_on < began:
            raise ValueError(
                f"ending.ends_on {self.ending.ends_on} is before the placement began ({began}): "
                "check both dates"
            )
        return self


UNPLANNED_WINDOW = timedelta(days=365)
# A planned ending further ahead than this is not yet a disruption to run (design: as far ahead
# as an action may be due, [actions] due_within); start the case nearer the day.
PLANNED_AHEAD_MONTHS = 6


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
    if new.ending.planned and new.ending.ends_on > add_months(today, PLANNED_AHEAD_MONTHS):
        raise InputError(
            f"ending.ends_on {new.ending.ends_on} is more than {PLANNED_AHEAD_MONTHS} months "
            f"ahead (after {add_months(today, PLANNED_AHEAD_MONTHS)}): start the case within "
            f"{PLANNED_AHEAD_MONTHS} months of the day"
        )
    plan.details["placement_days"] = (new.ending.ends_on - new.placement_began_on).days
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


SOCIAL_WORK = frozenset({Role.social_worker, Role.team_manager})


MANAGERS = frozenset({Role.team_manager, Role.service_manager, Role.head_of_service})


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

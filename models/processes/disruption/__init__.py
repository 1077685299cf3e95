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
    review_brought_forward after an emergency, the IRO decides whether the child's review comes
                           earlier (regs 32(2), 33(3); 5 working days, design)
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

Declared in three parts by phase: the start and a placement at risk (start.py), before, at and
after the ending (ending.py), the disruption meeting and its follow-through (meeting.py); this
module puts them together with the case view and the measures. What comes next is the flow's
(flows/disruption.py); clocks and ladders are the policy's ([processes.disruption] in
policy/england.toml). No database or Prefect imports here.
"""

from collections.abc import Mapping
from typing import Any

from models.enums import Role
from models.process import Measure, ProcessDecl, ViewFacts
from models.processes.disruption import changes
from models.processes.disruption.ending import (
    CARE_PLAN_REVIEW,
    EDUCATION_APPROVAL,
    EDUCATION_ARRANGEMENTS,
    EMERGENCY_ENDING,
    IRO_INFORMED,
    IRO_INFORMED_EMERGENCY,
    NEW_PLACEMENT_NOTICE,
    NEW_PLACEMENT_NOTICE_EMERGENCY,
    NOTICE_OF_INTENTION,
    PLACEMENT_PLAN,
    PLACEMENT_PLAN_EMERGENCY,
    REVIEW_BROUGHT_FORWARD,
    SOCIAL_WORKER_VISIT,
    WRITTEN_NOTICE,
)
from models.processes.disruption.meeting import (
    DISRUPTION_MEETING,
    FOLLOW_THROUGH,
    MEETING_DECISION,
    MEETING_REPORT,
)
from models.processes.disruption.start import (
    STABILITY_MEETING,
    NewDisruption,
    PlacementType,
    Stability,
    facts,
    start,
)


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
            "began_on": details.get("placement_began_on"),
            "length_in_days": details.get("placement_days"),
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
        "placement_began_on": "2024-09-02",
        "siblings_together": [],
        "key_stage_4": False,
        "ending": {
            "ended_by": "carer_notice",
            "planned": True,
            "ends_on": "2026-12-04",
            "new_placement_on": "2026-12-04",
            "reason_for_change": "CREQB",
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
        REVIEW_BROUGHT_FORWARD,
        NOTICE_OF_INTENTION,
        WRITTEN_NOTICE,
        NEW_PLACEMENT_NOTICE,
        NEW_PLACEMENT_NOTICE_EMERGENCY,
        PLACEMENT_PLAN,
        PLACEMENT_PLAN_EMERGENCY,
        SOCIAL_WORKER_VISIT,
        EDUCATION_APPROVAL,
        EDUCATION_ARRANGEMENTS,
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
    # placement changes for the children looked after return (SSDA903): changes.py
    figures=changes.figures,
    figures_title="Placement changes",
    figures_name="placement-changes",
    listing=changes.listing,
    cli="safeguard.cli.processes.disruption:app",
    demo="safeguard.cli.processes.disruption:demo_cases",
)

__all__ = [  # what the flow waits for and branches on (flows/disruption.py)
    "CARE_PLAN_REVIEW",
    "DISRUPTION",
    "DISRUPTION_MEETING",
    "EDUCATION_APPROVAL",
    "EDUCATION_ARRANGEMENTS",
    "EMERGENCY_ENDING",
    "FOLLOW_THROUGH",
    "IRO_INFORMED",
    "IRO_INFORMED_EMERGENCY",
    "MEETING_DECISION",
    "MEETING_REPORT",
    "NEW_PLACEMENT_NOTICE",
    "NEW_PLACEMENT_NOTICE_EMERGENCY",
    "NOTICE_OF_INTENTION",
    "PLACEMENT_PLAN",
    "PLACEMENT_PLAN_EMERGENCY",
    "REVIEW_BROUGHT_FORWARD",
    "SOCIAL_WORKER_VISIT",
    "STABILITY_MEETING",
    "WRITTEN_NOTICE",
    "Stability",
    "facts",
    "measures",
]

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

Declared in three parts by phase: the start and the initial consideration (start.py), the meetings
and what runs beside them (meetings.py), the outcome and what follows it (outcome.py); this module
puts them together with the case view. What comes next is the flow's (flows/allegation.py); clocks
and ladders are the policy's ([processes.allegation] in policy/england.toml). No database or
Prefect imports here.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from models.enums import Role
from models.process import ProcessDecl, RecordNotes, ViewFacts
from models.processes.allegation.meetings import (
    ALLEGATION_MEETING,
    CARER_SUPPORT,
    POLICE_REVIEW,
    REVIEW_MEETING,
    STRATEGY_DISCUSSION,
    SUSPENSION_DECISION,
)
from models.processes.allegation.outcome import (
    APPROVAL_DETERMINATION,
    APPROVAL_REVIEW,
    CLOSURE,
    OUTCOME,
    OUTCOME_NOTIFICATION,
    RESIGNATION,
)
from models.processes.allegation.start import (
    INITIAL_CONSIDERATION,
    NewAllegation,
    Route,
    categorised,
    start,
)


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
    start_version=2,  # 2: the category a fixed set (1: free text), read through `categorised`
    start_upgrades={1: categorised},
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
    # An allegation is the most sensitive record the service keeps: opening one you have no part
    # in asks why first, and the LADO's managers read who opened it (DESIGN rule 12).
    access_log_readers=frozenset({Role.lado_manager, Role.head_of_service, Role.director}),
    ask_why_before_opening=True,
    record_notes=lambda details: RecordNotes(  # L12: references, and the carer's file
        in_references=details.get("in_references"),
        remove_from_file=details.get("remove_from_carer_file"),
    ),
    carer_of=lambda details: details.get("carer"),
    cli="safeguard.cli.processes.allegation:app",
    demo="safeguard.cli.processes.allegation:demo_cases",
)

__all__ = [  # what the flow waits for and branches on (flows/allegation.py)
    "ALLEGATION",
    "ALLEGATION_MEETING",
    "APPROVAL_DETERMINATION",
    "APPROVAL_REVIEW",
    "CARER_SUPPORT",
    "CLOSURE",
    "INITIAL_CONSIDERATION",
    "OUTCOME",
    "OUTCOME_NOTIFICATION",
    "POLICE_REVIEW",
    "REVIEW_MEETING",
    "STRATEGY_DISCUSSION",
    "SUSPENSION_DECISION",
    "Route",
]

"""The placement disruption's step rules, pure: each input validated before anything is stored,
the flow's facts, and the report's measures."""

from typing import Any

import pytest

from models.errors import InputError
from models.inputs import parse as parse_input
from models.processes.disruption import DISRUPTION, facts, measures

STEPS = [s.name for s in DISRUPTION.steps]


def parse(step: str, payload: Any) -> Any:
    return DISRUPTION.parse_step(step, payload)


@pytest.mark.parametrize("step", STEPS)
def test_the_example_shown_in_errors_is_valid_input(step: str) -> None:
    parse(step, DISRUPTION.step(step).example)


def test_the_start_example_is_valid_input() -> None:
    DISRUPTION.start_input.model_validate(DISRUPTION.start_example)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ended_by": "allegation"}, "name the allegation case"),
        ({"allegation": "ALG-2026-0001"}, "name the allegation case"),
        ({"new_placement_on": "2026-12-01"}, "new_placement_on is before ends_on"),
        ({"ended_by": "boredom"}, "ending.ended_by"),
    ],
)
def test_an_ending_is_consistent(change: dict[str, Any], message: str) -> None:
    start = dict(DISRUPTION.start_example)
    start["ending"] = {**start["ending"], **change}
    with pytest.raises(InputError, match=message):
        parse_input(DISRUPTION.start_input, start, what="disruption start", example={})


@pytest.mark.parametrize(
    ("step", "payload", "message"),
    [
        ("new_placement_notice", {"notified_on": "2026-11-13", "notified": ["parents"]}, "must include the IRO"),
        ("new_placement_notice", {"notified_on": "2026-11-13", "notified": ["iro"], "siblings_separated": True}, "separation_reasons"),
        ("meeting_report", {"filed_on": "2026-11-20", "on_child_record": False, "on_carer_record": True, "summary": "s", "next_review_on": "2027-01-01"}, "on_child_record"),
        ("meeting_report", {"filed_on": "2026-11-20", "on_child_record": True, "on_carer_record": True, "summary": "s", "next_review_on": "2026-11-19"}, "before the report was filed"),
        ("follow_through", {"held_on": "2026-11-20", "review": "looked_after_review", "accounted": [{"action_id": 1, "status": "carried_forward", "reason": "r", "new_due": 5}]}, "give next_review_on"),
        ("follow_through", {"held_on": "2026-11-20", "review": "looked_after_review", "accounted": [{"action_id": 1, "status": "done"}, {"action_id": 1, "status": "done"}]}, "accounted for twice"),
        ("emergency_ending", {"ground": "the carer left", "rationale": "r", "approved_by": "x"}, "ground"),
        ("disruption_meeting", {**DISRUPTION.step("disruption_meeting").example, "recommendations": [{"title": "x", "owner": "a", "due": "2026-11-01"}]}, "before the meeting"),
        ("stability_meeting", {"held_on": "2026-11-10", "attendees": ["sw"], "decision": "ending", "rationale": "r"}, "give ending"),
    ],
)  # fmt: skip
def test_a_bad_step_is_refused(step: str, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse(step, payload)


def test_the_flow_branches_on_codes_only() -> None:
    details = {"key_stage_4": True, "ending": {"planned": False}}
    assert facts(details) == {"at_risk": False, "planned": False, "key_stage_4": True}
    assert facts({"key_stage_4": False, "at_risk": {}}) == {
        "at_risk": True,
        "planned": False,
        "key_stage_4": False,
    }


def test_the_reports_measures() -> None:
    cases = [
        {"iro_informed": "in time", "meeting_decision": "late"},
        {"iro_informed_emergency": "late", "meeting_decision": "in time"},
        {"iro_informed": "overdue", "meeting_decision": "open"},
        {"stability_meeting": "in time"},  # at risk, not (yet) an ending
    ]
    got = {m.label: (m.count, m.of) for m in measures(cases)}
    assert got == {
        "endings where the IRO was told in time": (1, 3),
        "endings with a meeting held or its absence justified": (2, 3),
        "endings with both": (1, 3),
    }


def test_a_disruption_is_of_a_child_this_authority_looks_after() -> None:
    """A child named by who placed them (no IRO here) can be in an allegation, not a disruption."""
    start = {**DISRUPTION.start_example}
    start["child"] = {"child": "C-12", "placed_by": "Westshire Council", "contact": "duty IRO"}
    with pytest.raises(InputError, match="give the child's iro and social_worker"):
        parse_input(DISRUPTION.start_input, start, what="disruption start", example={})

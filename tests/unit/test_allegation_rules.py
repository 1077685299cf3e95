"""The allegation step rules, pure: inputs validated completely before anything is stored."""

import re
from datetime import date
from typing import Any

import pytest

from models.errors import InputError
from models.inputs import unaccounted
from models.processes.allegation import ALLEGATION, Review, Route
from models.steps import again, wait_key

STEPS = [s.name for s in ALLEGATION.steps]


def parse_input(step: str, payload: Any) -> Any:
    return ALLEGATION.parse_step(step, payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"threshold_met": True, "route": "allegation_meeting"}, "name the limbs that apply"),
        ({"threshold_met": False, "limbs": ["harm"], "route": "advice"}, "no limb can apply"),
        ({"threshold_met": False, "route": "allegation_meeting"}, "needs the threshold met"),
        ({"threshold_met": True, "limbs": ["rudeness"], "route": "advice"}, "limbs.0"),
        ({"threshold_met": True, "limbs": ["harm"], "route": "police"}, "route"),
        ({"threshold_met": True, "limbs": ["harm"]}, "route: is required"),
        (
            {"threshold_met": True, "limbs": ["harm"], "route": "advice", "colour": 1},
            "colour: is not a field",
        ),
    ],
)
def test_a_bad_threshold_decision_is_refused(payload: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError) as caught:
        parse_input("initial_consideration", payload)
    assert message in str(caught.value)
    assert "example input" in str(caught.value)


def test_the_four_limbs_and_routes() -> None:
    data = parse_input(
        "initial_consideration",
        {
            "threshold_met": True,
            "limbs": ["harm", "offence", "risk", "unsuitability"],
            "route": "strategy_discussion",
        },
    )
    assert len(data.limbs) == 4  # type: ignore[attr-defined]
    assert Route.strategy_discussion.needs_meeting and Route.allegation_meeting.needs_meeting
    assert not Route.no_further_action.needs_meeting and not Route.advice.needs_meeting


@pytest.mark.parametrize(
    "category", ["substantiated", "unsubstantiated", "false", "malicious", "unfounded"]
)
def test_the_five_outcome_categories(category: str) -> None:
    parse_input(
        "outcome", {"category": category, "dbs_referral": False, "dbs_reason": "harm test not met"}
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"category": "deliberately invented", "dbs_referral": False, "dbs_reason": "x"},
            "category",
        ),
        ({"category": "false", "dbs_referral": True}, "dbs_reason: is required"),
        ({"category": "false", "dbs_referral": False, "dbs_reason": ""}, "dbs_reason"),
    ],
)
def test_a_bad_outcome_is_refused(payload: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=message):
        parse_input("outcome", payload)


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ({"action_id": 1, "status": "carried_forward", "new_due": "2026-12-01"}, "give the reason"),
        ({"action_id": 1, "status": "carried_forward", "reason": "x"}, "give new_due"),
        ({"action_id": 1, "status": "not_needed"}, "give the reason"),
        ({"action_id": 1, "status": "done", "new_due": 5}, "only for an action carried forward"),
        ({"action_id": 1, "status": "forgotten"}, "status"),
    ],
)
def test_each_account_of_an_action_is_complete(account: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=message):
        parse_input(
            "review_meeting",
            {"held_on": "2026-11-17", "attendees": ["lado"], "accounted": [account]},
        )


def test_a_review_must_name_every_open_action() -> None:
    review = parse_input(
        "review_meeting",
        {
            "held_on": "2026-11-17",
            "attendees": ["lado"],
            "accounted": [
                {"action_id": 1, "status": "done"},
                {"action_id": 3, "status": "not_needed", "reason": "police took it"},
            ],
        },
    )
    assert isinstance(review, Review)
    assert unaccounted([1, 2, 3, 4], review.accounted) == [2, 4]
    assert unaccounted([1, 3], review.accounted) == []


def test_an_action_accounted_twice_is_refused() -> None:
    with pytest.raises(InputError, match="accounted for twice: 1"):
        parse_input(
            "review_meeting",
            {
                "held_on": "2026-11-17",
                "attendees": ["lado"],
                "accounted": [
                    {"action_id": 1, "status": "done"},
                    {"action_id": 1, "status": "done"},
                ],
            },
        )


def test_a_meeting_needs_its_attendees_and_actions_their_owner_and_due() -> None:
    with pytest.raises(InputError, match="attendees"):
        parse_input("allegation_meeting", {"held_on": "2026-10-22", "attendees": []})
    with pytest.raises(InputError, match=r"actions\.0\.owner: is required"):
        parse_input(
            "allegation_meeting",
            {"held_on": "2026-10-22", "attendees": ["lado"], "actions": [{"title": "x", "due": 5}]},
        )
    meeting = parse_input(
        "allegation_meeting",
        {
            "held_on": "2026-10-22",
            "attendees": ["lado"],
            "actions": [{"title": "x", "owner": "sw-1", "due": "2026-10-30"}],
        },
    )
    assert meeting.actions[0].due == date(2026, 10, 30)  # type: ignore[attr-defined]


def test_an_approval_review_is_held_or_skipped_with_a_reason() -> None:
    parse_input("approval_review", {"skipped_reason": "the carer resigned on 2026-11-20"})
    with pytest.raises(InputError, match="not both"):
        parse_input("approval_review", {})
    with pytest.raises(InputError, match="panel_recommendation"):
        parse_input("approval_review", {"presented_to_panel_on": "2026-11-26"})


def test_an_input_that_is_not_an_object_shows_an_example() -> None:
    with pytest.raises(InputError, match=r"must be a JSON object, e\.g\."):
        parse_input("outcome", ["substantiated"])


@pytest.mark.parametrize("step", STEPS)
def test_every_suspend_key_is_lowercase_digits_and_dashes(step: str) -> None:
    for sequence, attempt in ((1, 0), (12, 0), (3, 2)):
        assert re.fullmatch(r"[a-z0-9-]+", again(wait_key(step, sequence), attempt))
    assert wait_key("review_meeting", 2) == "review-meeting-2"
    assert wait_key("after_outcome") == "after-outcome-1"


@pytest.mark.parametrize("step", STEPS)
def test_the_example_shown_in_errors_is_valid_input(step: str) -> None:
    parse_input(step, ALLEGATION.step(step).example)


def test_the_start_example_is_valid_input() -> None:
    ALLEGATION.start_input.model_validate(ALLEGATION.start_example)


def test_a_step_is_matched_to_the_suspend_key_exactly() -> None:
    from safeguard.orchestration import waits_at

    assert waits_at("review-meeting-1", wait_key("review_meeting", 1))
    assert waits_at(again(wait_key("review_meeting", 1), 2), wait_key("review_meeting", 1))
    assert not waits_at("review-meeting-12", wait_key("review_meeting", 1))
    assert not waits_at(None, wait_key("outcome", 1))


def test_an_action_due_before_its_meeting_is_refused() -> None:
    with pytest.raises(InputError, match=r"due 2026-10-20, before the meeting \(2026-10-22\)"):
        parse_input(
            "allegation_meeting",
            {
                "held_on": "2026-10-22",
                "attendees": ["lado"],
                "actions": [{"title": "x", "owner": "sw-1", "due": "2026-10-20"}],
            },
        )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {
                "threshold_met": True,
                "limbs": ["harm"],
                "route": "no_further_action",
                "rationale": "r",
                "approved_by": "ladom-1",
            },
            "no_further_action with threshold_met true",
        ),
        (
            {"threshold_met": False, "route": "no_further_action", "rationale": "r"},
            "needs approved_by",
        ),
        (
            {"threshold_met": False, "route": "no_further_action", "approved_by": "ladom-1"},
            "needs rationale",
        ),
        (
            {"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "ladom-1"},
            "record the fostering service's follow-up",
        ),
        (
            {
                "threshold_met": True,
                "limbs": ["harm"],
                "route": "allegation_meeting",
                "approved_by": "ladom-1",
            },
            "belong to closing at initial consideration",
        ),
    ],
)
def test_closing_at_initial_consideration_is_a_decision_with_approval(
    payload: dict,  # type: ignore[type-arg]
    message: str,
) -> None:
    """L4: no further action, or advice, needs the reasons and a senior manager's approval."""
    with pytest.raises(InputError, match=re.escape(message)):
        parse_input("initial_consideration", payload)
    closing = {"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "m", "follow_up": "f"}  # fmt: skip
    assert parse_input("initial_consideration", closing).route is Route.advice  # type: ignore[attr-defined]


def test_the_outcome_notification_says_who_was_told_for_each_child() -> None:
    told = {"carer_told_on": "2026-12-10", "fostering_service_told_on": "2026-12-10"}
    child = {"child": "C-1", "social_worker_told_on": "2026-12-10", "iro_told_on": "2026-12-11"}
    with pytest.raises(InputError, match="children: is required"):
        parse_input("outcome_notification", told)
    with pytest.raises(InputError, match="give parents_told_on, or parents_not_told_reason"):
        parse_input("outcome_notification", {**told, "children": [child]})
    both = {**child, "parents_told_on": "2026-12-10", "parents_not_told_reason": "x"}
    with pytest.raises(InputError, match="not both"):
        parse_input("outcome_notification", {**told, "children": [both]})
    with pytest.raises(InputError, match="a child is listed twice"):
        twice = {**child, "parents_told_on": "2026-12-12"}
        parse_input("outcome_notification", {**told, "children": [twice, twice]})

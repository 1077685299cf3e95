"""The allegation step rules, pure: inputs validated completely before anything is stored."""

import re
from datetime import date
from typing import Any

import pytest

from models.errors import InputError
from models.inputs import unaccounted
from models.policy import StepPolicy, load_policy
from models.processes.allegation import ALLEGATION, Route
from models.processes.allegation.meetings import Review, meeting_rules, support_after_told
from models.processes.allegation.outcome import (
    after_the_window,
    approval_rules,
    every_child_told,
    qualifying_determination,
)
from models.processes.allegation.start import closing_rules
from models.steps import again, wait_key

STEPS = [s.name for s in ALLEGATION.steps]


POLICY = load_policy()


from models.cases.parties import CaseParties  # noqa: E402
from models.enums import Role  # noqa: E402


class Facts:
    """A case as a step's check sees it: only what these rules read."""

    def __init__(self, details: dict | None = None, police_due: date | None = None) -> None:  # type: ignore[type-arg]
        self.details = details or {}
        self.police_due = police_due

    def latest_agreed(self, step: str, after: date) -> date | None:
        return None

    def due_of(self, step: str) -> date | None:
        return self.police_due if step == "police_review" else None

    def rule(self, step: str) -> StepPolicy:
        return POLICY.process("allegation").step(step)

    parties = CaseParties(lead="lado-1", named={Role.supervising_social_worker: ("ssw-1",)})

    def managers_of(self, staff_id: str) -> list[str]:
        return {"ssw-1": ["ftm-1", "fsm-1"]}.get(staff_id, [])


def parse_input(step: str, payload: Any) -> Any:
    return ALLEGATION.parse_step(step, payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"threshold_met": True, "route": "allegation_meeting"},
            "choose the limbs of it that apply",
        ),
        ({"threshold_met": False, "limbs": ["harm"], "route": "advice"}, "no limb of it can apply"),
        ({"threshold_met": False, "route": "allegation_meeting"}, "needs the harm threshold met"),
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


def test_a_meeting_knows_when_the_carer_was_told_and_may_start_the_police_strand() -> None:
    """The carer is told once (support counts from that day, L15) and before the outcome; a later
    meeting may start the police strand (L7) unless it is already running; a s47 strategy
    discussion is held with the police and health and says whether a s47 enquiry follows (L4)."""

    def refused(ctx: Facts, step: str, payload: dict, message: str) -> None:  # type: ignore[type-arg]
        with pytest.raises(InputError, match=re.escape(message)):
            meeting_rules(ctx, parse_input(step, payload))

    meeting = {"held_on": "2026-11-05", "attendees": ["lado"]}
    refused(
        Facts(), "allegation_meeting", {**meeting, "ready_for_outcome": True}, "give carer_told_on"
    )
    meeting_rules(Facts(), parse_input("allegation_meeting", {**meeting, "ready_for_outcome": True, "carer_told_on": "2026-11-05"}))  # fmt: skip
    told = Facts({"carer_told_on": "2026-11-04"})
    meeting_rules(told, parse_input("allegation_meeting", {**meeting, "ready_for_outcome": True}))
    refused(told, "allegation_meeting", {**meeting, "carer_told_on": "2026-11-05"}, "the carer was told on 2026-11-04")  # fmt: skip
    meeting_rules(Facts(), parse_input("allegation_meeting", {**meeting, "police_investigating": True}))  # fmt: skip
    running = Facts(police_due=date(2026, 11, 30))
    refused(running, "allegation_meeting", {**meeting, "police_investigating": True}, "the police strand is already running")  # fmt: skip
    s47 = {**meeting, "section_47": True, "section_47_reason": "significant harm"}
    refused(Facts(), "strategy_discussion", s47, "name police and health in attendees")
    refused(Facts(), "strategy_discussion", {**s47, "attendees": ["CSC", "Police"]}, "name health in attendees")  # fmt: skip
    with pytest.raises(InputError, match="section_47_reason"):
        parse_input("strategy_discussion", {**meeting, "section_47": False})
    meeting_rules(Facts(), parse_input("strategy_discussion", {**s47, "attendees": ["CSC", "police", "health visitor", "lado"]}))  # fmt: skip


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


def test_an_approval_review_is_decided_with_reasons_or_skipped_with_approval() -> None:
    """The decision maker decides with reasons (the panel only where required); a skipped review
    needs an approver, not one SSW alone; an ending (or a resignation) needs the DBS decision;
    revising or ending approval is a qualifying determination with its notice (L16-L18)."""
    with pytest.raises(InputError, match="panel_recommendation, or neither"):
        parse_input("approval_review", {"presented_to_panel_on": "2026-11-26"})

    def refused(payload: dict, message: str) -> None:  # type: ignore[type-arg]
        with pytest.raises(InputError, match=re.escape(message)):
            approval_rules(Facts(), parse_input("approval_review", payload))

    refused({"skipped_reason": "the carer resigned"}, "give skip_approved_by")
    refused({}, "give decision, decided_by, reasons")
    decided = {"decision": "continue", "decided_by": "tm-1", "reasons": "r"}
    approval_rules(Facts(), parse_input("approval_review", decided))  # no panel: allowed
    refused({**decided, "decision": "terminate"}, "give notice_sent_on")
    refused({**decided, "decision": "terminate", "notice_sent_on": "2026-12-01"}, "the DBS duty: give dbs_referral, dbs_reason")  # fmt: skip
    refused({**decided, "decision": "resigned"}, "give resigned_on")
    refused({**decided, "decision": "resigned", "resigned_on": "2026-11-20"}, "the DBS duty")
    ending = {**decided, "decision": "resigned", "resigned_on": "2026-11-20", "dbs_referral": False, "dbs_reason": "harm test not met"}  # fmt: skip
    data = parse_input("approval_review", ending)
    approval_rules(Facts(), data)
    assert not qualifying_determination(data)
    revise = parse_input("approval_review", {**decided, "decision": "revise", "notice_sent_on": "2026-12-01"})  # fmt: skip
    assert qualifying_determination(revise)
    # The first review goes to panel, as the policy says (FSR 2011 reg 28); later ones may.
    refused({**decided, "first_review": True}, "a carer's first review goes to the fostering panel")
    panel = {"presented_to_panel_on": "2026-11-26", "panel_recommendation": "continue"}
    approval_rules(Facts(), parse_input("approval_review", {**decided, **panel, "first_review": True}))  # fmt: skip
    # A resignation recorded as it came (L18): the review needs the DBS decision whatever it
    # decides, or even if it is skipped, and does not ask for the notice day again.
    resigned = Facts({"resignation_received_on": "2026-11-20"})
    with pytest.raises(InputError, match=re.escape("the carer resigned (notice received 2026-11-20): the DBS duty")):  # fmt: skip
        approval_rules(resigned, parse_input("approval_review", decided))
    with pytest.raises(InputError, match="the DBS duty"):
        approval_rules(resigned, parse_input("approval_review", {"skipped_reason": "resigned", "skip_approved_by": "tm-1"}))  # fmt: skip
    dbs = {"dbs_referral": False, "dbs_reason": "harm test not met"}
    approval_rules(resigned, parse_input("approval_review", {**decided, **dbs, "decision": "resigned"}))  # fmt: skip
    # An input stored before these rules (panel, or skipped with a reason) still reads.
    parse_input("approval_review", {"presented_to_panel_on": "2026-11-26", "panel_recommendation": "continue"})  # fmt: skip


def test_the_final_decision_waits_for_the_carers_28_days() -> None:
    final = {"decided_on": "2026-12-20", "representations": "none", "decision": "continue", "decided_by": "tm-1", "reasons": "r"}  # fmt: skip
    with pytest.raises(InputError, match=re.escape("the carer has until 2026-12-29")):
        after_the_window(Facts({"determination_notice_on": "2026-12-01"}), parse_input("approval_determination", final))  # fmt: skip
    after_the_window(Facts({"determination_notice_on": "2026-12-01"}), parse_input("approval_determination", {**final, "decided_on": "2026-12-29"}))  # fmt: skip
    with pytest.raises(InputError, match="irm_recommendation"):
        parse_input("approval_determination", {**final, "representations": "independent_review"})
    with pytest.raises(InputError, match="the DBS duty"):
        parse_input("approval_determination", {**final, "decision": "terminate"})


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
            "No further action cannot follow a harm threshold that is met",
        ),
        (
            {"threshold_met": False, "route": "no_further_action", "rationale": "r"},
            "needs who approved it",
        ),
        (
            {"threshold_met": False, "route": "no_further_action", "approved_by": "ladom-1"},
            "needs its rationale",
        ),
        (
            {"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "ladom-1"},
            "Advice needs the fostering service's follow-up",
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
    """L4: no further action, or advice, needs the reasons and a senior manager's approval:
    checked when recorded; an input stored before the rule still reads (and replays)."""
    stored = parse_input("initial_consideration", payload)
    with pytest.raises(InputError, match=re.escape(message)):
        closing_rules(Facts(), stored)
    closing = {"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "m", "follow_up": "f"}  # fmt: skip
    closing_rules(Facts(), parse_input("initial_consideration", closing))


def test_the_outcome_notification_says_who_was_told_for_each_child() -> None:
    told = {"carer_told_on": "2026-12-10", "fostering_service_told_on": "2026-12-10"}
    child = {"child": "C-1", "social_worker_told_on": "2026-12-10", "iro_told_on": "2026-12-11"}
    with pytest.raises(InputError, match=re.escape("missing: C-1; not in the case: -")):
        every_child_told(Facts({"child_refs": ["C-1"]}), parse_input("outcome_notification", told))
    with pytest.raises(InputError, match="give parents_told_on, or parents_not_told_reason"):
        parse_input("outcome_notification", {**told, "children": [child]})
    both = {**child, "parents_told_on": "2026-12-10", "parents_not_told_reason": "x"}
    with pytest.raises(InputError, match="not both"):
        parse_input("outcome_notification", {**told, "children": [both]})
    with pytest.raises(InputError, match="a child is listed twice"):
        twice = {**child, "parents_told_on": "2026-12-12"}
        parse_input("outcome_notification", {**told, "children": [twice, twice]})


SUSPENSION = {
    "decided_on": "2026-11-05",
    "decision": "new_placements_paused",
    "alternatives": [{"alternative": "children moved", "why_rejected": "no risk to them shown"}],
    "rationale": "r",
    "approved_by": "sm-1",
    "named_contact": "supervising social worker",
    "confirmed_to_carer_on": "2026-11-05",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alternatives": []}, "record the alternatives considered and why each was rejected"),
        ({"confirmed_to_carer_on": None}, "give confirmed_to_carer_on"),
        ({"decision": "children_removed"}, "name children_removed when, and only when"),
        ({"children_removed": ["C-1"]}, "name children_removed when, and only when"),
        ({"confirmed_to_carer_on": "2026-11-04"}, "confirmed_to_carer_on is before decided_on"),
        ({"approved_by": None}, "approved_by"),
        ({"alternatives": [{"alternative": "moved"}]}, "why_rejected"),
    ],
)
def test_the_placements_decision_records_its_alternatives_and_its_confirmation(
    change: dict,  # type: ignore[type-arg]
    message: str,
) -> None:
    """L6: the rationale, the alternatives considered and why rejected, an approver, and the
    written confirmation to the carer."""
    with pytest.raises(InputError, match=re.escape(message)):
        parse_input("suspension_decision", {**SUSPENSION, **change})
    stay = {k: v for k, v in SUSPENSION.items() if k not in ("alternatives", "confirmed_to_carer_on")}  # fmt: skip
    assert parse_input("suspension_decision", {**stay, "decision": "children_stay"})


def test_the_carers_support_and_the_closing_account() -> None:
    support = {"carer_told_on": "2026-11-06", "support_offered_on": "2026-11-05", "offered_by": "FosterTalk", "allowances": "continue", "fees": "continue", "rationale": "r"}  # fmt: skip
    with pytest.raises(InputError, match="support_offered_on is before carer_told_on"):
        parse_input("carer_support", support)  # an older record, which carried the day itself
    now = {k: v for k, v in support.items() if k != "carer_told_on"}
    with pytest.raises(InputError, match=re.escape("before the carer was told of the allegation (2026-11-06)")):  # fmt: skip
        support_after_told(Facts({"carer_told_on": "2026-11-06"}), parse_input("carer_support", now))  # fmt: skip
    support_after_told(Facts({"carer_told_on": "2026-11-05"}), parse_input("carer_support", now))
    with pytest.raises(InputError, match="a closing case cannot carry an action forward"):
        parse_input("closure", {"closed_on": "2026-12-01", "accounted": [{"action_id": 1, "status": "carried_forward", "reason": "r", "new_due": 5}]})  # fmt: skip
    with pytest.raises(InputError, match="give the case that carries it on"):
        parse_input("closure", {"closed_on": "2026-12-01", "accounted": [{"action_id": 1, "status": "transferred", "reason": "r"}]})  # fmt: skip
    with pytest.raises(InputError, match="give the case that carries it on"):
        parse_input("closure", {"closed_on": "2026-12-01", "accounted": [{"action_id": 1, "status": "done", "to_case": "DSR-2026-0001"}]})  # fmt: skip
    assert parse_input("closure", {"closed_on": "2026-12-01", "accounted": [{"action_id": 1, "status": "transferred", "to_case": "DSR-2026-0001", "reason": "the disruption's plan carries it"}]})  # fmt: skip


@pytest.mark.parametrize(
    "child",
    [
        {"child": "C-1"},
        {"child": "C-1", "iro": "iro-1"},
        {"child": "C-1", "placed_by": "Westshire Council"},
        {"child": "C-1", "iro": "iro-1", "social_worker": "sw-1", "placed_by": "W", "contact": "x"},
    ],
)
def test_a_child_is_ours_with_iro_and_social_worker_or_placed_elsewhere_with_a_contact(
    child: dict,  # type: ignore[type-arg]
) -> None:
    start = {**ALLEGATION.start_example, "children": [child]}
    with pytest.raises(InputError, match="give iro and social_worker"):
        parse_input_start(start)
    ok = {**ALLEGATION.start_example, "children": [{"child": "C-2", "placed_by": "own child", "contact": "the carer"}]}  # fmt: skip
    assert parse_input_start(ok)


def parse_input_start(payload: Any) -> Any:
    from models.inputs import parse

    return parse(ALLEGATION.start_input, payload, what="allegation start", example={})


def test_the_category_is_one_of_a_fixed_set_and_a_start_kept_as_free_text_reads_as_one() -> None:
    """Issue 20, item 6: the category is chosen, not typed. A start kept before (version 1, free
    text) reads as the category its words name, else as other with its words kept."""
    from models.process import upgraded

    start = ALLEGATION.start_example
    assert parse_input_start(start).category.label == "Physical abuse"
    with pytest.raises(InputError, match="category"):
        parse_input_start({**start, "category": "rudeness"})
    with pytest.raises(InputError, match="category_other: say what the allegation is about"):
        parse_input_start({**start, "category": "other"})
    assert parse_input_start({**start, "category": "other", "category_other": "theft of savings"})

    def read(kept: str) -> dict[str, Any]:
        return upgraded({**start, "category": kept}, 1, ALLEGATION.start_version, ALLEGATION.start_upgrades)  # fmt: skip

    assert read("Physical abuse")["category"] == "physical"
    assert read("neglect")["category"] == "neglect"
    assert (read("theft of savings")["category"], read("theft of savings")["category_other"]) == ("other", "theft of savings")  # fmt: skip
    assert parse_input_start(read("theft of savings")).category_other == "theft of savings"

"""The allegation process true to the procedure (issue 12), on SQLite and PostgreSQL, through the
engine's services as the flow drives them: the time to outcome runs from the referral (and can be
stopped before any meeting); closing at initial consideration needs a senior manager's approval;
each child's IRO and social worker know from the start; the carer's supervising social worker is
the case's own, and nobody else in the role is told; the outcome notification says who was told,
for every child."""

import json
import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import cases, departures, views
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Case, Submission
from tests.builders import accept_any_address, person
from tests.cases import (
    CALENDAR,
    CARER_NAME,
    POLICY,
    RECEIVED,
    Inbox,
    add_team,
    at,
    open_step,
    record,
    start_case,
    stop_clock,
    sweep,
    view_at,
)
from tests.smtp import SmtpServer

THRESHOLD = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}  # fmt: skip


@pytest.fixture
def team(engine: Engine, smtp: SmtpServer) -> Engine:
    add_team(engine, smtp)
    with session_scope(engine) as session:  # another carer's SSW, nowhere near this case
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=RECEIVED,
            people=[
                person("tm-2", "team_manager", addresses=[smtp.url("tm-2")]),
                person(
                    "ssw-2",
                    "supervising_social_worker",
                    manager="tm-2",
                    addresses=[smtp.url("ssw-2")],
                ),
            ],
        )
    return engine


def opened(team: Engine) -> str:
    """Start the allegation as its flow does: the first step, and the outcome's clock at once."""
    ref = start_case(team)  # referral received Mon 2 Nov 09:15
    open_step(team, ref, "outcome")
    return ref


def to_the_meeting(team: Engine, ref: str) -> None:
    """The threshold met, with reasons (Mon 2 Nov): the allegation meeting opens."""
    record(team, ref, "initial_consideration", THRESHOLD, at("2026-11-02T14:00"))
    open_step(team, ref, "allegation_meeting")


def found_ready(team: Engine, ref: str) -> None:
    """...and the meeting (Wed 4 Nov) finds the case ready for its outcome."""
    to_the_meeting(team, ref)
    meeting = {"held_on": "2026-11-04", "attendees": ["lado"], "carer_told_on": "2026-11-04", "ready_for_outcome": True}  # fmt: skip
    record(team, ref, "allegation_meeting", meeting, at("2026-11-04T15:00"))


def refused(engine: Engine, ref: str, step: str, payload: dict, message: str, when: str) -> None:  # type: ignore[type-arg]
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(Submission)).one()
    with pytest.raises(InputError, match=re.escape(message)):
        record(engine, ref, step, payload, at(when))
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == before


def steps_of(engine: Engine, ref: str, when: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {s["step"]: s for s in view_at(engine, ref, at(when))["steps"]}


def test_the_outcome_clock_runs_from_the_referral(team: Engine, smtp: SmtpServer) -> None:
    ref = opened(team)  # the outcome's clock opens with the case, as the flow does first
    assert steps_of(team, ref, "2026-11-02T10:00")["outcome"]["due"] == "2026-12-02"
    # The police investigate before any meeting: the outcome clock can be stopped at once.
    stop_clock(team, ref, "outcome", "ladom-1", at("2026-11-02T11:00"))
    with session_scope(team) as session:
        departures.resume(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            recorded_by="lado-1",
            now=at("2026-11-02T12:00"),
        )
    to_the_meeting(team, ref)
    outcome = {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "no harm"}  # fmt: skip
    refused(team, ref, "outcome", outcome, "no meeting has found the case ready for outcome", "2026-11-03T09:00")  # fmt: skip
    ready = {"held_on": "2026-11-04", "attendees": ["lado"], "ready_for_outcome": True}
    refused(team, ref, "allegation_meeting", ready, "the carer must have been told of the allegation before its outcome", "2026-11-04T15:00")  # fmt: skip
    record(team, ref, "allegation_meeting", {**ready, "carer_told_on": "2026-11-04"}, at("2026-11-04T15:00"))  # fmt: skip
    record(team, ref, "outcome", outcome, at("2026-11-05T10:00"))
    done = steps_of(team, ref, "2026-11-05T11:00")["outcome"]
    assert (done["status"], done["timeliness"]) == ("closed", "in time")


def test_closing_at_initial_consideration_needs_a_senior_managers_approval(team: Engine) -> None:
    ref = opened(team)
    nfa = {"threshold_met": False, "route": "no_further_action", "rationale": "patently unfounded"}
    refused(team, ref, "initial_consideration", {**nfa, "approved_by": "lado-2"}, "lado-2 (LADO) is too junior to approve it: the policy needs LADO manager or director or head of service", "2026-11-02T14:00")  # fmt: skip
    # Never the fostering service's own line (the carer's supervising social worker's manager),
    # nor an IRO manager; never the person recording it.
    refused(team, ref, "initial_consideration", {**nfa, "approved_by": "tm-1"}, "tm-1 may not approve it: the policy needs LADO manager or director or head of service", "2026-11-02T14:00")  # fmt: skip
    refused(team, ref, "initial_consideration", {**nfa, "approved_by": "irom-1"}, "irom-1 may not approve it", "2026-11-02T14:00")  # fmt: skip
    refused(team, ref, "initial_consideration", nfa, "needs who approved it", "2026-11-02T14:00")
    record(team, ref, "initial_consideration", {**nfa, "approved_by": "ladom-1"}, at("2026-11-02T14:00"))  # fmt: skip
    seen = view_at(team, ref, at("2026-11-02T15:00"))
    assert [(d["kind"], d["value"]) for d in seen["decisions"]] == [
        ("threshold_and_route", "threshold not met; next: no further action"),
        ("closure_approved", "approved by ladom-1"),
    ]
    outcome = {s["step"]: s for s in seen["steps"]}["outcome"]
    assert outcome["status"] == "closed"  # concluded here: the time to outcome ends


def test_the_iro_and_social_worker_know_from_the_start_and_the_ssw_is_the_cases_own(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = opened(team)
    inbox = Inbox(smtp)
    sweep(team, at("2026-11-02T10:00"))
    assert inbox.new() == [("iro-1", "For information"), ("sw-1", "For information")]
    found_ready(team, ref)
    record(team, ref, "outcome", {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    open_step(team, ref, "approval_review")
    open_step(team, ref, "outcome_notification")
    inbox.new()
    # The approval review (28 working days from Thu 5 Nov: Tue 15 Dec) lapses on Wed 16 Dec: to
    # this case's SSW and their manager, never to ssw-2 and tm-2.
    assert steps_of(team, ref, "2026-12-16T09:00")["approval_review"]["due"] == "2026-12-15"
    sweep(team, at("2026-12-16T09:00"))
    late = [m.to[0].split("@")[0] for m in smtp.received if "approval" in m.subject]
    assert sorted(late) == ["ssw-1", "tm-1"]

    told = {"carer_told_on": "2026-11-06", "fostering_service_told_on": "2026-11-06"}
    other = {"child": "C-404", "social_worker_told_on": "2026-11-06", "iro_told_on": "2026-11-06", "parents_told_on": "2026-11-06"}  # fmt: skip
    refused(team, ref, "outcome_notification", {**told, "children": [other]}, "missing: C-9 Zebedee Quartermain; not in the case: C-404", "2026-11-06T12:00")  # fmt: skip
    child = {**other, "child": "C-9 Zebedee Quartermain", "parents_told_on": None, "parents_not_told_reason": "parents' whereabouts unknown"}  # fmt: skip
    record(team, ref, "outcome_notification", {**told, "children": [child]}, at("2026-11-06T12:00"))
    seen = view_at(team, ref, at("2026-11-06T13:00"))
    assert ("parents_not_told", "child C-9 Zebedee Quartermain") in [(d["kind"], d["value"]) for d in seen["decisions"]]  # fmt: skip


def test_the_placements_decision_and_nothing_open_at_closure(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = opened(team)
    to_the_meeting(team, ref)
    meeting = {
        "held_on": "2026-11-04",
        "attendees": ["lado", "police"],
        "actions": [{"title": "Police interview", "owner": "sw-1", "due": "2026-11-20"}],
        "carer_told_on": "2026-11-04",
        "ready_for_outcome": True,
    }
    record(team, ref, "allegation_meeting", meeting, at("2026-11-04T15:00"))
    open_step(team, ref, "suspension_decision")  # the flow opens it beside the meetings...
    open_step(team, ref, "carer_support")  # ...and this once the carer has been told
    seen = steps_of(team, ref, "2026-11-04T16:00")
    assert seen["suspension_decision"]["due"] == "2026-11-05"
    assert seen["carer_support"]["due"] == "2026-11-11"  # 5 working days from the carer told

    child = "C-9 Zebedee Quartermain"
    removal = {"child": child, "ends_on": "2026-11-05", "new_placement_on": "2026-11-05", "placement_type": "long_term", "team_manager": "tm-1", "placement_began_on": "2025-04-01"}  # fmt: skip
    removed = {
        "decided_on": "2026-11-05",
        "decision": "children_removed",
        "children_removed": [child],
        "removals": [removal],
        "alternatives": [{"alternative": "a safety plan at home", "why_rejected": "r"}],
        "rationale": "r",
        "approved_by": "sm-1",
        "named_contact": "supervising social worker",
        "confirmed_to_carer_on": "2026-11-05",
    }
    when = "2026-11-09T10:00"
    refused(team, ref, "suspension_decision", {**removed, "approved_by": "tm-1"}, "tm-1 (team manager) is too junior", when)  # fmt: skip
    refused(team, ref, "suspension_decision", {**removed, "children_removed": ["C-404"]}, "C-404 is not a child of this case", when)  # fmt: skip
    # Each child removed has their placement disruption case started with the decision: what it
    # starts with is asked for, and checked as that start would check it, before anything is kept.
    refused(team, ref, "suspension_decision", {**removed, "removals": []}, f"{child} is removed: give their removal", when)  # fmt: skip
    refused(team, ref, "suspension_decision", {**removed, "removals": [{**removal, "placement_type": "sofa"}]}, "placement_type", when)  # fmt: skip
    refused(team, ref, "suspension_decision", {**removed, "removals": [{**removal, "ends_on": "2026-11-20", "new_placement_on": "2026-11-20"}]}, f"removals ({child}): their placement disruption case could not start: an emergency ending has happened", when)  # fmt: skip
    with Session(team) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1  # nothing kept
    # Confirmed on Mon 9 Nov: after Fri 6 Nov (1 working day from Thu 5): needs the reason.
    refused(team, ref, "suspension_decision", {**removed, "confirmed_to_carer_on": "2026-11-09"}, "give late_confirmation_reason", when)  # fmt: skip
    record(team, ref, "suspension_decision", {**removed, "confirmed_to_carer_on": "2026-11-09", "late_confirmation_reason": "carer in hospital"}, at(when))  # fmt: skip
    record(team, ref, "carer_support", {"support_offered_on": "2026-11-05", "offered_by": "FosterTalk", "allowances": "continue", "fees": "continue", "rationale": "r"}, at(when))  # fmt: skip
    seen = view_at(team, ref, at(when))
    decided = [(d["kind"], d["value"]) for d in seen["decisions"]]
    for expected in [
        ("placements", "children_removed"),
        ("placements_approved", "approved by sm-1"),
        ("alternative_rejected", "a safety plan at home"),
        ("confirmation_late", "confirmed late"),
        ("disruption_started", f"child {child}: DIS-2026-0001"),
        ("allowances_and_fees", "allowances continue; fees continue"),
    ]:
        assert expected in decided
    # The disruption case is the removed child's, led by the team manager, linked both ways, and
    # waits for its flow run (the allegation's flow creates it; else the sweep).
    with Session(team) as session:
        started = cases.unlaunched(session, cases.get_case(session, ref).id or 0)
        assert [(c.reference, c.process, c.lead_id) for c in started] == [("DIS-2026-0001", "disruption", "tm-1")]  # fmt: skip
        disruption = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference="DIS-2026-0001", now=at(when))  # fmt: skip
    assert [c["child"] for c in disruption["children"]] == [child]
    assert [(link["reference"]) for link in disruption["links"]] == [ref]
    assert [(link["reference"]) for link in seen["links"]] == ["DIS-2026-0001"]

    record(team, ref, "outcome", {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-10T10:00"))  # fmt: skip
    open_step(team, ref, "closure")
    # The police interview is still open: the case cannot close until it is accounted for.
    refused(team, ref, "closure", {"closed_on": "2026-11-11", "accounted": []}, "unaccounted for: 1 (Police interview)", "2026-11-11T10:00")  # fmt: skip
    record(team, ref, "closure", {"closed_on": "2026-11-11", "accounted": [{"action_id": 1, "status": "transferred", "to_case": "DIS-2026-0001", "reason": "the disruption's plan carries it"}]}, at("2026-11-11T10:00"))  # fmt: skip
    seen = view_at(team, ref, at("2026-11-11T11:00"))
    assert [a["status"] for a in seen["actions"]] == ["transferred"]


def test_ending_approval_waits_for_the_carers_28_days_and_decides_the_dbs_referral(
    team: Engine,
) -> None:
    ref = opened(team)
    found_ready(team, ref)
    record(team, ref, "outcome", {"category": "substantiated", "rationale": "r", "dbs_referral": True, "dbs_reason": "harm test met"}, at("2026-11-05T10:00"))  # fmt: skip
    open_step(team, ref, "approval_review")
    review = {"decision": "terminate", "decided_by": "adm-1", "reasons": "r", "notice_sent_on": "2026-11-20"}  # fmt: skip
    when = "2026-11-20T12:00"
    with pytest.raises(InputError, match="the DBS duty"):
        record(team, ref, "approval_review", review, at(when), author="ssw-1")
    with pytest.raises(
        InputError,
        match=re.escape(
            "ssw-1 (supervising social worker) is too junior to approve it: the policy needs agency decision maker"
        ),
    ):
        record(team, ref, "approval_review", {"skipped_reason": "moving away", "skip_approved_by": "ssw-1"}, at(when), author="ssw-1")  # fmt: skip
    record(team, ref, "approval_review", {**review, "dbs_referral": True, "dbs_reason": "harm test met"}, at(when), author="ssw-1")  # fmt: skip
    open_step(team, ref, "approval_determination")  # the flow waits for it: a determination
    assert steps_of(team, ref, "2026-11-21T09:00")["approval_determination"]["due"] == "2027-01-01"
    final = {"decided_on": "2026-12-10", "representations": "none", "decision": "terminate", "decided_by": "adm-1", "reasons": "r", "dbs_referral": True, "dbs_reason": "harm test met"}  # fmt: skip
    with pytest.raises(InputError, match=re.escape("the carer has until 2026-12-18")):
        record(team, ref, "approval_determination", final, at("2026-12-10T12:00"), author="tm-1")
    record(team, ref, "approval_determination", {**final, "decided_on": "2026-12-18"}, at("2026-12-18T12:00"), author="tm-1")  # fmt: skip
    seen = view_at(team, ref, at("2026-12-18T13:00"))
    decided = [(d["kind"], d["value"]) for d in seen["decisions"]]
    assert ("approval", "terminate (by adm-1)") in decided
    assert ("approval_final", "terminate (by adm-1; representations: none)") in decided
    assert decided.count(("dbs_referral", "referral made")) == 3  # outcome, review, final


def test_a_resignation_is_an_event_of_the_case_and_the_dbs_decision_still_falls_due(
    team: Engine,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """L18: the carer's resignation is recorded as it comes (approval ends 28 days after the
    notice), once; the approval review then needs the DBS referral decision (L13) whatever it
    decides, even when it is skipped."""
    from safeguard.cli import main

    ref = opened(team)
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("safeguard.wiring.system_clock", lambda: at("2026-11-03T09:00"))

    def refused_cli(argv: list[str], message: str) -> None:
        assert main(argv) == 2
        assert message in capsys.readouterr().err

    resign = ["allegation", "resignation", ref, "--received", "2026-11-03", "--as", "ssw-1"]
    refused_cli(
        [*resign[:4], "2026-11-04", "--as", "ssw-1"],
        "received on 4 November 2026: that day is in the future",
    )
    refused_cli([*resign[:-1], "sw-1"], "sw-1")  # a child's social worker may not record it
    refused_cli(["case", "event", ref, "retired", "--on", "2026-11-03", "--as", "ssw-1"], "events: resignation_received")  # fmt: skip
    assert main(resign) == 0
    said = capsys.readouterr().out
    assert "resignation_received Tue 03 Nov 2026; approval_ends Tue 01 Dec 2026" in said
    refused_cli(resign, "is already recorded (3 November 2026)")
    seen = view_at(team, ref, at("2026-11-03T10:00"))
    assert seen["resignation_received_on"] == "2026-11-03"

    found_ready(team, ref)
    record(team, ref, "outcome", {"category": "unsubstantiated", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    open_step(team, ref, "approval_review")
    skipped = {"skipped_reason": "the carer resigned", "skip_approved_by": "adm-1"}
    with pytest.raises(InputError, match=re.escape("the carer resigned (notice received 2026-11-03): the DBS duty: give dbs_referral, dbs_reason")):  # fmt: skip
        record(team, ref, "approval_review", skipped, at("2026-11-06T10:00"), author="ssw-1")
    record(team, ref, "approval_review", {**skipped, "dbs_referral": False, "dbs_reason": "harm test not met"}, at("2026-11-06T10:00"), author="ssw-1")  # fmt: skip
    decided = [(d["kind"], d["value"]) for d in view_at(team, ref, at("2026-11-06T11:00"))["decisions"]]  # fmt: skip
    assert ("dbs_referral", "no referral") in decided


def test_the_police_strand_keeps_its_own_clock_while_the_outcome_clock_stands(
    team: Engine, smtp: SmtpServer
) -> None:
    """L7: the first police review no later than 4 weeks after the initial evaluation, then
    fortnightly, each charge / continue / close; the outcome clock stopped meanwhile."""
    ref = opened(team)
    with pytest.raises(InputError, match="A police investigation needs a strategy discussion"):
        record(team, ref, "initial_consideration", {"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "ladom-1", "follow_up": "f", "police_investigating": True}, at("2026-11-02T14:00"))  # fmt: skip
    record(team, ref, "initial_consideration", {**THRESHOLD, "route": "strategy_discussion", "police_investigating": True}, at("2026-11-02T14:00"))  # fmt: skip
    assert steps_of(team, ref, "2026-11-02T15:00")["police_review"]["due"] == "2026-11-30"
    stop_clock(team, ref, "outcome", "ladom-1", at("2026-11-03T09:00"))
    record(team, ref, "police_review", {"held_on": "2026-11-27", "decision": "continue", "notes": "interviews pending"}, at("2026-11-27T12:00"))  # fmt: skip
    seen = steps_of(team, ref, "2026-11-27T13:00")
    assert seen["police_review"]["due"] == "2026-12-11"  # the second round: a fortnight on
    # Mon 14 Dec: the second review lapsed; the outcome (due Wed 2 Dec) stands stopped: no lapse.
    inbox = Inbox(smtp)
    sweep(team, at("2026-12-14T09:00"))
    late = sorted((m.to[0].split("@")[0], m.subject.split(" ALG")[0]) for m in smtp.received if m.subject.startswith("LATE"))  # fmt: skip
    assert late == [("lado-1", "LATE (rung 1):"), ("ladom-1", "LATE (rung 1):")]
    assert all("Police progress review" in m.subject for m in smtp.received if m.subject.startswith("LATE"))  # fmt: skip
    inbox.new()
    closing = {"held_on": "2026-12-14", "decision": "close", "notes": "no further police action"}
    refused(team, ref, "police_review", closing, "the police closed their enquiry: say what happens next (next_steps) (L14)", "2026-12-14T12:00")  # fmt: skip
    record(team, ref, "police_review", {**closing, "next_steps": "the LADO's own enquiries, then the outcome"}, at("2026-12-14T12:00"), sequence=2)  # fmt: skip
    seen_case = view_at(team, ref, at("2026-12-14T13:00"))
    rounds = [(s["sequence"], s["status"]) for s in seen_case["steps"] if s["step"] == "police_review"]  # fmt: skip
    assert rounds == [(1, "closed"), (2, "closed")]  # closed by the police: no third round
    assert [d["value"] for d in seen_case["decisions"] if d["kind"] == "police_review"] == ["continue", "close"]  # fmt: skip
    # L14: the police's closing is recorded with what happens next, and the outcome's clock runs
    # again: due Wed 2 Dec, stopped Tue 3 Nov to Mon 14 Dec (29 working days): Fri 15 Jan 2027.
    [closed] = [d for d in seen_case["decisions"] if d["kind"] == "police_enquiry_closed"]
    assert [r["text"] for r in closed["rationale"]] == [
        "the LADO's own enquiries, then the outcome"
    ]
    outcome = {s["step"]: s for s in seen_case["steps"]}["outcome"]
    assert (outcome["status"], outcome["stops"][0]["resumed_at"][:10]) == ("open", "2026-12-14")
    assert (outcome["due"], outcome["stops"][0]["working_days_stopped"]) == ("2027-01-15", 29)


def test_a_closed_case_keeps_its_record_until_the_later_day_and_says_what_references_may_say(
    team: Engine,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """L12: kept until the carer's pension age (if known) or 10 years from the allegation,
    whichever is later; a malicious outcome is never in references and leaves the carer's file;
    `report retention` lists what is due for review."""
    from models import cases
    from models.tables import Case
    from safeguard.cli import main

    ten_years = start_case(team)  # referral Mon 2 Nov 2026; no pension day known
    pension = start_case(team, carer_pension_age_on="2041-03-15")
    for ref in (ten_years, pension):
        open_step(team, ref, "outcome")
        found_ready(team, ref)
    record(team, ten_years, "outcome", {"category": "malicious", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    record(team, pension, "outcome", {"category": "substantiated", "rationale": "r", "dbs_referral": True, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    with session_scope(team) as session:
        for ref in (ten_years, pension):
            case_id = cases.get_case(session, ref).id or 0
            cases.close_case(session=session, case_id=case_id, now=at("2026-11-06T10:00"), policy=POLICY, calendar=CALENDAR)  # fmt: skip
    with Session(team) as session:
        kept = {c.reference: c.retain_until for c in session.exec(select(Case)).all()}
        seen = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=ten_years, now=at("2026-11-06T11:00"))  # fmt: skip
    assert (str(kept[ten_years]), str(kept[pension])) == ("2036-11-02", "2041-03-15")
    decided = [(d["kind"], d["value"]) for d in seen["decisions"]]
    assert ("references", "never mentioned in references") in decided
    assert ("carer_file", "remove from the carer's file") in decided
    assert seen["record"] == {"in_references": False, "remove_from_carer_file": True}

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("safeguard.wiring.system_clock", lambda: at("2036-09-01T09:00"))
    assert main(["report", "retention", "--due", "--json"]) == 0
    due = json.loads(capsys.readouterr().out)
    assert [
        (r["reference"], r["review_from"], r["in_references"], r["remove_from_file"]) for r in due
    ] == [(ten_years, "2036-08-02", False, True)]
    assert main(["report", "retention"]) == 0
    table = capsys.readouterr().out
    assert ten_years in table and pension in table and "DUE" in table


def test_a_child_whose_iro_is_not_in_the_directory(team: Engine, smtp: SmtpServer) -> None:
    """The carer's own child and a child another authority placed are named with who placed them
    and the contact there; their IRO's notices go to the LADO, with the contact to pass them on."""
    ref = start_case(
        team,
        children=[
            {"child": "C-11", "iro": "iro-1", "social_worker": "sw-1"},
            {"child": "C-12", "placed_by": "Westshire Council", "contact": "duty IRO 01632 960000"},
            {"child": "C-13", "placed_by": "own child", "contact": "the carer"},
        ],
    )
    both = {"child": "C-14", "iro": "iro-1", "placed_by": "Westshire Council", "contact": "x"}
    with pytest.raises(InputError, match=r"give iro and social_worker .* or, for a child"):
        start_case(team, children=[both])
    sweep(team, at("2026-11-02T10:00"))  # the case's start, for information
    told = {m.to[0].split("@")[0]: m for m in smtp.received if m.subject.startswith(f"For information: {ref}")}  # fmt: skip
    assert sorted(told) == ["iro-1", "lado-1", "sw-1"]
    lead = told["lado-1"].text
    assert "placed by Westshire Council: pass it on (duty IRO 01632 960000)" in lead
    assert "placed by own child: pass it on (the carer)" in lead
    seen = view_at(team, ref, at("2026-11-02T11:00"))
    assert [(c["child"], c["iro"], c["placed_by"]) for c in seen["children"]] == [
        ("C-11", "iro-1", None),
        ("C-12", None, "Westshire Council"),
        ("C-13", None, "own child"),
    ]


def test_a_step_done_late_needs_its_reason(team: Engine, smtp: SmtpServer) -> None:
    """DESIGN rule 9 (issue 12, item 14): a step done after its due day is a departure: its reason
    is given with the record, or it falls due as a rationale (the manager and the IRO told at
    once); the case view shows it, and the timeliness report counts late steps with their reason."""
    from models import reports
    from notifications.sweep import tell_at_once

    ref = opened(team)  # initial consideration due Tue 3 Nov
    record(team, ref, "initial_consideration", THRESHOLD, at("2026-11-05T10:00"))  # no reason
    open_step(team, ref, "allegation_meeting")  # due Mon 9 Nov
    tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=1, now=at("2026-11-05T10:05"))  # fmt: skip
    late_told = sorted(m.to[0].split("@")[0] for m in smtp.received if m.subject.startswith("Decision without rationale"))  # fmt: skip
    assert late_told == ["iro-1", "ladom-1"]
    record(team, ref, "allegation_meeting", {"held_on": "2026-11-10", "attendees": ["lado"]}, at("2026-11-10T15:00"), late_reason="the police could not attend before")  # fmt: skip
    with Session(team) as session:
        seen = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=at("2026-11-10T16:00"))  # fmt: skip
        report = reports.timeliness(session=session, policy=POLICY, calendar=CALENDAR, process="allegation", start=at("2026-11-01T00:00").date(), end=at("2026-11-30T00:00").date(), now=at("2026-11-10T16:00")).as_dict()  # fmt: skip
    late = [
        (d["value"], d["rationale_due"] is None) for d in seen["decisions"] if d["kind"] == "late"
    ]
    assert late == [
        (
            "Initial consideration and threshold decision done 2 working days after its due day (3 November 2026)",
            False,
        ),
        (
            "Allegation management (strategy) meeting done 1 working day after its due day (9 November 2026)",
            True,
        ),
    ]
    rows = {r["step"]: r for r in report["steps"]}
    assert (rows["initial_consideration"]["late"], rows["initial_consideration"]["late_with_reason"]) == (1, 0)  # fmt: skip
    assert (rows["allegation_meeting"]["late"], rows["allegation_meeting"]["late_with_reason"]) == (1, 1)  # fmt: skip


def test_each_meeting_agrees_the_next_review_within_the_policys_limit(team: Engine) -> None:
    """What a LADO records at every meeting: the interview plan, who is told what, the view on
    the placements, and the next review's day (at most 28 days on; 28 when none is agreed)."""
    ref = opened(team)
    to_the_meeting(team, ref)
    meeting = {
        "held_on": "2026-11-04",
        "attendees": ["lado", "police", "supervising social worker"],
        "interview_plan": "police interview the child first, then the carer",
        "told": [
            {"who": "the carer", "what": "that an allegation is made", "by": "the SSW"},
            {"who": "the child's parents", "what": "that it is looked into"},
        ],
        "suspension_view": "the children stay with a safety plan",
        "next_review_on": "2026-12-03",
    }
    refused(team, ref, "allegation_meeting", meeting, "next_review_on 2026-12-03 is after 2026-12-02, the latest the policy allows", "2026-11-04T15:00")  # fmt: skip
    record(team, ref, "allegation_meeting", {**meeting, "next_review_on": "2026-11-18"}, at("2026-11-04T15:00"))  # fmt: skip
    open_step(team, ref, "review_meeting", now=at("2026-11-04T15:05"))  # as the flow does
    assert steps_of(team, ref, "2026-11-05T09:00")["review_meeting"]["due"] == "2026-11-18"
    seen = view_at(team, ref, at("2026-11-05T09:00"))
    kept = [(d["kind"], d["value"]) for d in seen["decisions"]]
    for expected in [
        ("interview_plan", "agreed"),
        ("told", "the carer (by the SSW)"),
        ("told", "the child's parents"),
        ("suspension_view", "the meeting's view"),
    ]:
        assert expected in kept
    # The review agrees nothing: the next falls on the policy's latest, 28 days on.
    record(team, ref, "review_meeting", {"held_on": "2026-11-18", "attendees": ["lado"]}, at("2026-11-18T15:00"))  # fmt: skip
    open_step(team, ref, "review_meeting", sequence=2, now=at("2026-11-18T15:05"))
    seen = view_at(team, ref, at("2026-11-19T09:00"))
    second = [s for s in seen["steps"] if s["step"] == "review_meeting" and s["sequence"] == 2]
    assert second[0]["due"] == "2026-12-16"


def test_outcomes_are_counted_against_the_1_3_and_12_month_targets(team: Engine) -> None:
    """L10: the timeliness report (and the web app's timeliness page) counts the outcomes done
    within each target of the policy, from the referral."""
    from models import reports

    soon, later = start_case(team), start_case(team)
    for ref in (soon, later):
        open_step(team, ref, "outcome")
        found_ready(team, ref)
    outcome = {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}
    record(team, soon, "outcome", outcome, at("2026-11-20T10:00"))  # 18 days from the referral
    record(team, later, "outcome", outcome, at("2027-01-15T10:00"), late_reason="the police")  # 2.5 months  # fmt: skip
    with Session(team) as session:
        report = reports.timeliness(session=session, policy=POLICY, calendar=CALENDAR, process="allegation", start=at("2026-11-01T00:00").date(), end=at("2027-01-31T00:00").date(), now=at("2027-02-01T09:00")).as_dict()  # fmt: skip
    counted = {m["measure"]: (m["count"], m["of"]) for m in report["measures"]}
    assert counted == {
        "Conclude and categorise the outcome: within 1 calendar month": (1, 2),
        "Conclude and categorise the outcome: within 3 calendar months": (2, 2),
        "Conclude and categorise the outcome: within 12 calendar months": (2, 2),
    }


def test_a_police_strand_started_at_the_meeting_counts_from_the_initial_evaluation(
    team: Engine,
) -> None:
    """L7: 4 weeks after the initial evaluation (Mon 2 Nov: Mon 30 Nov), not after the strategy
    discussion that started the strand (Tue 10 Nov: it would be Tue 8 Dec)."""
    ref = opened(team)
    record(team, ref, "initial_consideration", {**THRESHOLD, "route": "strategy_discussion"}, at("2026-11-02T14:00"))  # fmt: skip
    open_step(team, ref, "strategy_discussion")
    discussion = {"held_on": "2026-11-10", "attendees": ["children's social care", "police", "health", "lado"], "section_47": True, "section_47_reason": "harm", "police_investigating": True}  # fmt: skip
    record(team, ref, "strategy_discussion", discussion, at("2026-11-10T15:00"), late_reason="the police could not attend before")  # fmt: skip
    assert steps_of(team, ref, "2026-11-10T16:00")["police_review"]["due"] == "2026-11-30"


def test_a_false_or_malicious_allegation_leaves_the_carers_record_unless_they_consent(
    team: Engine,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """KCSIE (L12): `carer show` leaves out an allegation found false or malicious, unless the
    carer consented to its being kept; the LADO's own record keeps it, marked."""
    from safeguard.cli import main

    outcomes = [
        {"category": "malicious"},
        {"category": "false", "carer_consents_to_keep": True},
        {"category": "unsubstantiated"},
    ]
    refs = []
    for outcome in outcomes:
        ref = start_case(team)
        open_step(team, ref, "outcome")
        found_ready(team, ref)
        record(team, ref, "outcome", {**outcome, "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
        refs.append(ref)
    malicious, kept_false, unsubstantiated = refs
    carer = f"FC-77 {CARER_NAME}"
    with Session(team) as session:
        on_file = views.record_of(session, carer=carer)
        lados = views.record_of(session, carer=carer, lado_record=True)
        decided = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=kept_false, now=at("2026-11-06T10:00"))["decisions"]  # fmt: skip
    assert [c["reference"] for c in on_file["cases"]] == [kept_false, unsubstantiated]
    assert [(c["reference"], c.get("removed_from_carer_file", False)) for c in lados["cases"]] == [(malicious, True), (kept_false, False), (unsubstantiated, False)]  # fmt: skip
    assert ("carer_file", "kept on the carer's file") in [(d["kind"], d["value"]) for d in decided]

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    assert main(["carer", "show", carer, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert malicious not in [c["reference"] for c in shown["cases"]]
    assert main(["carer", "show", carer, "--lado-record", "--json"]) == 0
    assert malicious in [c["reference"] for c in json.loads(capsys.readouterr().out)["cases"]]


def test_the_carers_approval_is_the_agency_decision_makers_from_outside_the_carers_service(
    team: Engine,
) -> None:
    """FSR 2011 reg 28: the agency decision maker decides (a named role, not any manager); never
    someone in the carer's supervising social worker's own line, nor who records it."""
    with session_scope(team) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=RECEIVED,
            people=[
                person("adm-2", "agency_decision_maker", manager="sm-1"),
                person("ssw-9", "supervising_social_worker", manager="adm-2"),
                person("adm-3", "agency_decision_maker", "team_manager", manager="hos-1"),
            ],
        )
    ref = start_case(team, supervising_social_worker="ssw-9")
    open_step(team, ref, "outcome")
    found_ready(team, ref)
    record(team, ref, "outcome", {"category": "unsubstantiated", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    open_step(team, ref, "approval_review")
    review = {"decision": "continue", "reasons": "sound practice"}
    when = "2026-11-20T12:00"
    for decider, said in [
        (
            "tm-1",
            "tm-1 (team manager) is too junior to approve it: the policy needs agency decision maker",
        ),
        (
            "adm-2",
            "adm-2 is in the line management of the carer's supervising social worker (ssw-9)",
        ),
    ]:
        with pytest.raises(InputError, match=re.escape(said)):
            record(team, ref, "approval_review", {**review, "decided_by": decider}, at(when), author="ssw-9")  # fmt: skip
    with pytest.raises(
        InputError, match="adm-3 is recording this: an approval is another person's"
    ):
        record(team, ref, "approval_review", {**review, "decided_by": "adm-3"}, at(when), author="adm-3")  # fmt: skip
    record(
        team, ref, "approval_review", {**review, "decided_by": "adm-1"}, at(when), author="ssw-9"
    )

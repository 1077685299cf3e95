"""The placement disruption as the regulations read it (issue 19), on SQLite and PostgreSQL
through the engine's services as the flow drives them: an emergency that is neither of reg 14(3)'s
grounds recorded as what it was; a disruption meeting's chair independent of the placement and of
its line management; overdue recommendations up the disruption's own ladder, never the LADO's."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import cases
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Case, Step
from notifications.sweep import sweep, tell_at_once
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, open_step, record, start_case, submit_as
from tests.integration.test_disruption import NOW, START, count, start, submit, take, view
from tests.integration.test_disruption import team as team
from tests.smtp import SmtpServer

MEETING: dict[str, Any] = {
    "held_on": "2026-11-25",
    "chair": "iro-1",
    "attendees": ["iro", "carers"],
    "sequence_of_events": "...",
    "the_match": "...",
    "support_given": "...",
    "childs_view": "...",
    "recommendations": [{"title": "Life story work", "owner": "sw-1", "due": "2026-11-26"}],
}


def to_meeting(engine: Engine, change: dict[str, Any] | None = None) -> str:
    ref = start(engine, change)
    take(engine, ref, ["meeting_decision"])
    submit(engine, ref, "meeting_decision", {"hold": True}, who="tm-1")
    take(engine, ref, ["meeting_decision"])
    take(engine, ref, ["disruption_meeting"])
    return ref


def test_an_emergency_on_no_reg_14_3_ground_is_recorded_as_what_it_was(team: Engine) -> None:
    ending = {"ended_by": "carer_notice", "planned": False, "ends_on": "2026-11-20", "new_placement_on": "2026-11-20", "reason_for_change": "CREQB"}  # fmt: skip
    ref = start(team, {"ending": ending})
    take(team, ref, ["emergency_ending", "iro_informed_emergency"])
    why = "the carer gave notice at 11pm and would not keep the child overnight"
    with pytest.raises(InputError, match="rationale"):
        submit(team, ref, "emergency_ending", {"ground": "other_emergency", "approved_by": "sm-1"})
    submit(team, ref, "emergency_ending", {"ground": "other_emergency", "rationale": why, "approved_by": "sm-1"})  # fmt: skip
    take(team, ref, ["emergency_ending", "iro_informed_emergency"])
    [decision] = [d for d in view(team, ref)["decisions"] if d["kind"] == "emergency_ending"]
    assert decision["value"] == "other_emergency (not a reg 14(3) ground)"
    assert [r["text"] for r in decision["rationale"]] == [why]
    # The IRO's clock is the emergency's: by the next working day after the ending.
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    assert due["iro_informed_emergency"] == "2026-11-23"


@pytest.mark.parametrize(
    ("chair", "said"),
    [
        ("sw-1", "sw-1 is the child's social worker"),
        ("ssw-1", "ssw-1 is the carer's supervising social worker"),
        ("tm-1", "tm-1 manages the child's social worker (sw-1)"),
        ("sm-1", "sm-1 manages the child's social worker (sw-1)"),
    ],
)
def test_the_meetings_chair_is_independent_of_the_placement_and_its_managers(
    team: Engine, chair: str, said: str
) -> None:
    ref = to_meeting(team)
    with pytest.raises(InputError, match=re.escape(f"{said}: the chair must be independent")):
        submit(team, ref, "disruption_meeting", {**MEETING, "chair": chair}, who="tm-1")
    submit(team, ref, "disruption_meeting", MEETING, who="tm-1")  # the IRO chairs


def test_a_lead_outside_the_social_workers_chain_may_not_chair_either(team: Engine) -> None:
    with session_scope(team) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[person("tm-2", "team_manager", manager="sm-1")],
        )
    ref = to_meeting(team, {"team_manager": "tm-2"})
    with pytest.raises(InputError, match="tm-2 leads the case: the chair must be independent"):
        submit(team, ref, "disruption_meeting", {**MEETING, "chair": "tm-2"}, who="tm-2")


def test_an_overdue_recommendation_climbs_the_disruptions_own_ladder(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = to_meeting(team)
    submit(team, ref, "disruption_meeting", MEETING, who="tm-1")  # due Thu 26 Nov
    take(team, ref, ["disruption_meeting"])

    def rungs(at: datetime) -> list[tuple[int, tuple[str, ...]]]:
        report = sweep(team, policy=POLICY, calendar=CALENDAR, now=at)
        return sorted((int(w.key.rsplit("/", 1)[1]), tuple(w.recipients)) for w in report.written if w.kind == "action_overdue")  # fmt: skip

    # The owner, the team manager who leads and the IRO at once; the service manager (2 working
    # days), then the head of service (5), the IRO on each rung; never a LADO manager.
    told = rungs(datetime(2026, 12, 7, 9, tzinfo=UTC))
    assert told == [(1, ("iro-1", "sw-1", "tm-1")), (2, ("iro-1", "sm-1")), (3, ("hos-1", "iro-1"))]
    assert not [m for m in smtp.received if m.to[0].startswith("ladom-1")]
    assert START["team_manager"] == "tm-1"


def test_a_social_workers_visit_not_made_goes_to_the_head_of_service(team: Engine) -> None:
    ref = start(team)  # the new placement began Fri 20 Nov: the visit due Fri 27 Nov
    take(team, ref, ["social_worker_visit"])
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 12, 3, 9, tzinfo=UTC))  # fmt: skip
    lapsed = sorted((w.key.rsplit("/", 1)[1], tuple(w.recipients)) for w in report.written if w.kind == "lapsed" and ref in w.key)  # fmt: skip
    assert lapsed == [("1", ("iro-1", "sw-1", "tm-1")), ("2", ("hos-1",))]


def test_the_iro_hears_of_the_case_decides_on_an_earlier_review_and_hears_of_the_report(
    team: Engine, smtp: SmtpServer
) -> None:
    emergency = {"ended_by": "child", "planned": False, "ends_on": "2026-11-20", "new_placement_on": "2026-11-20"}  # fmt: skip
    ref = start(team, {"ending": emergency})
    with session_scope(team) as session:
        case_id = cases.get_case(session, ref).id or 0
    told = tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=case_id, now=NOW)
    assert [(w.kind, w.recipients) for w in told] == [("information", ["iro-1"])]

    take(team, ref, ["review_brought_forward"])  # 5 working days from the ending: Fri 27 Nov
    assert {s["step"]: s["due"] for s in view(team, ref)["steps"]}["review_brought_forward"] == "2026-11-27"  # fmt: skip
    with pytest.raises(InputError, match="sw-1 may not record review_brought_forward"):
        submit(team, ref, "review_brought_forward", {"decided_on": "2026-11-23", "bring_forward": False, "reasons": "x"})  # fmt: skip
    with pytest.raises(InputError, match="give review_on when"):
        submit(team, ref, "review_brought_forward", {"decided_on": "2026-11-23", "bring_forward": True, "reasons": "x"}, who="iro-1")  # fmt: skip
    why = "the plan changes: the review considers the new placement"
    submit(team, ref, "review_brought_forward", {"decided_on": "2026-11-23", "bring_forward": True, "review_on": "2026-12-04", "reasons": why}, who="iro-1")  # fmt: skip
    take(team, ref, ["review_brought_forward"])
    [decision] = [d for d in view(team, ref)["decisions"] if d["kind"] == "review_brought_forward"]
    assert (decision["value"], decision["author"]) == (
        "brought forward to 4 December 2026",
        "iro-1",
    )

    # The meeting's report done: the IRO is told, for information.
    take(team, ref, ["meeting_decision"])
    submit(team, ref, "meeting_decision", {"hold": True}, who="tm-1")
    take(team, ref, ["meeting_decision"])
    take(team, ref, ["disruption_meeting"])
    submit(team, ref, "disruption_meeting", {**MEETING, "recommendations": []}, who="tm-1")
    take(team, ref, ["disruption_meeting"])
    take(team, ref, ["meeting_report"])
    submit(team, ref, "meeting_report", {"filed_on": "2026-11-26", "on_child_record": True, "on_carer_record": True, "summary": "...", "next_review_on": "2026-12-04"}, who="tm-1")  # fmt: skip
    take(team, ref, ["meeting_report"])
    told = tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=case_id, now=NOW)
    assert [(w.kind, w.recipients) for w in told] == [("information", ["iro-1"])]
    assert any(m.subject.startswith(f"For information: {ref} Minutes and report") for m in smtp.received)  # fmt: skip


def test_a_recommendation_carried_forward_twice_needs_the_iros_decision_the_third_time(
    team: Engine,
) -> None:
    ref = to_meeting(team)
    submit(team, ref, "disruption_meeting", {**MEETING, "recommendations": [{"title": "Life story work", "owner": "sw-1", "due": "2026-11-26"}]}, who="tm-1")  # fmt: skip
    take(team, ref, ["disruption_meeting"])
    take(team, ref, ["meeting_report"])
    submit(team, ref, "meeting_report", {"filed_on": "2026-11-26", "on_child_record": True, "on_carer_record": True, "summary": "...", "next_review_on": "2026-11-26"}, who="tm-1")  # fmt: skip
    take(team, ref, ["meeting_report"])
    [action] = [a["id"] for a in view(team, ref)["actions"]]

    def review(n: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        carried = {"action_id": action, "status": "carried_forward", "reason": "worker off sick", "new_due": "2027-01-29"}  # fmt: skip
        return {"held_on": "2026-11-27", "review": "looked_after_review", "accounted": [carried], "next_review_on": f"2026-12-0{n + 1}", **(extra or {})}  # fmt: skip

    for n in (1, 2):  # carried forward twice: the reviews' own business
        take(team, ref, ["follow_through"], n)
        submit(team, ref, "follow_through", review(n))
        assert take(team, ref, ["follow_through"], n).results == {"follow_through": True}
    take(team, ref, ["follow_through"], 3)
    with pytest.raises(InputError, match=f"recommendation {action} has been carried forward 2 times already: once more needs the child's IRO to decide"):  # fmt: skip
        submit(team, ref, "follow_through", review(3))
    decision = {"action_id": action, "decision": "accept", "reasons": "the worker returns in January", "iro": "iro-1"}  # fmt: skip
    with pytest.raises(InputError, match="iro"):
        submit(team, ref, "follow_through", review(3, {"iro_decisions": [{**decision, "iro": "sw-1"}]}))  # fmt: skip
    submit(team, ref, "follow_through", review(3, {"iro_decisions": [decision]}))
    take(team, ref, ["follow_through"], 3)
    [recorded] = [d for d in view(team, ref)["decisions"] if d["kind"] == "iro_decision"]
    assert (recorded["value"], recorded["author"]) == (f"recommendation {action}: accepted, carried forward again", "iro-1")  # fmt: skip


def test_the_placements_dates(team: Engine) -> None:
    ending = START["ending"]  # planned, ends Fri 20 Nov 2026
    with pytest.raises(InputError, match=r"ending.ends_on 2026-11-20 is before the placement began \(2026-11-23\)"):  # fmt: skip
        start(team, {"placement_began_on": "2026-11-23"})
    far = {**ending, "ends_on": "2027-06-01", "new_placement_on": "2027-06-01"}
    with pytest.raises(InputError, match=r"ending\.ends_on 2027-06-01 is more than 6 months ahead"):
        start(team, {"ending": far})
    assert count(team, Case) == 0
    ref = start(team, {"placement_began_on": "2025-11-20"})
    assert view(team, ref)["placement"]["length_in_days"] == 365
    soon = {**ending, "ends_on": "2027-05-20", "new_placement_on": "2027-05-20"}
    assert start(team, {"ending": soon}).startswith("DIS-")  # within 6 months: a case


def test_a_planned_moves_paperwork_is_due_by_the_day_the_new_placement_starts(team: Engine) -> None:
    # Ends Fri 20 Nov; the new placement starts Mon 23 Nov.
    planned = {**START["ending"], "new_placement_on": "2026-11-23"}
    ref = start(team, {"ending": planned})
    names = ["notice_of_intention", "new_placement_notice", "placement_plan"]
    for name in names:
        take(team, ref, [name])
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    assert [due[n] for n in names] == ["2026-11-20", "2026-11-23", "2026-11-23"]

    plan = {"agreed_on": "2026-11-25", "childs_wishes": "to stay at her school"}
    with pytest.raises(InputError, match=r"carer signed the plan to show they agree to it \(reg 9\(3\)\)"):  # fmt: skip
        submit(team, ref, "placement_plan", {**plan, "agreed_on": "2026-11-20"})
    signed = {**plan, "carer_signed_on": "2026-11-25"}
    with pytest.raises(InputError, match=r"late_reason: say why it was not reasonably practicable sooner \(CPPCR 2010 reg 9\(2\)\): placement plan for the new placement, with the child's wishes is done on 25 November 2026, after its due day \(23 November 2026\)"):  # fmt: skip
        submit(team, ref, "placement_plan", signed)
    submit_as(team, ref, "placement_plan", signed, "sw-1", NOW, late_reason="the new carers were away until Wednesday")  # fmt: skip
    take(team, ref, ["placement_plan"])
    seen = view(team, ref)
    assert {s["step"]: s["timeliness"] for s in seen["steps"]}["placement_plan"] == "late"
    late = [
        d
        for d in seen["decisions"]
        if d["kind"] == "late"
        and d["value"].startswith(POLICY.process("disruption").steps["placement_plan"].title)
    ]
    assert [[r["text"] for r in d["rationale"]] for d in late] == [["the new carers were away until Wednesday"]]  # fmt: skip
    # Done by the day: no reason asked.
    submit(team, ref, "new_placement_notice", {"notified_on": "2026-11-23", "notified": ["iro", "parents"]})  # fmt: skip
    submit(team, ref, "notice_of_intention", {"sent_on": "2026-11-06", "to": ["carers", "parents", "school"]})  # fmt: skip
    for name in ("new_placement_notice", "notice_of_intention"):
        take(team, ref, [name])
    timely = {s["step"]: s["timeliness"] for s in view(team, ref)["steps"]}
    assert (timely["new_placement_notice"], timely["notice_of_intention"]) == ("in time", "in time")


def test_after_an_emergency_the_new_placement_has_five_working_days(team: Engine) -> None:
    emergency = {"ended_by": "child", "planned": False, "ends_on": "2026-11-20", "new_placement_on": "2026-11-20"}  # fmt: skip
    ref = start(team, {"ending": emergency})
    for name in ("new_placement_notice_emergency", "placement_plan_emergency"):
        take(team, ref, [name])
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    assert (due["new_placement_notice_emergency"], due["placement_plan_emergency"]) == ("2026-11-27", "2026-11-27")  # fmt: skip


def test_a_key_stage_4_move_is_approved_before_it_with_the_school_heard(team: Engine) -> None:
    ref = start(team, {"key_stage_4": True})  # ends Fri 20 Nov
    take(team, ref, ["education_approval"])
    assert {s["step"]: s["due"] for s in view(team, ref)["steps"]}["education_approval"] == "2026-11-20"  # fmt: skip
    approval = {"approved_on": "2026-11-18", "nominated_officer": "sm-1", "iro_consulted_on": "2026-11-17", "rationale": "a school within reach"}  # fmt: skip
    with pytest.raises(InputError, match="designated teacher"):
        submit(team, ref, "education_approval", approval, who="tm-1")
    with pytest.raises(InputError, match="personal education plan"):
        submit(team, ref, "education_approval", {**approval, "designated_teacher_consulted_on": "2026-11-16"}, who="tm-1")  # fmt: skip
    submit(team, ref, "education_approval", {**approval, "designated_teacher_consulted_on": "2026-11-16", "pep_considered": True}, who="tm-1")  # fmt: skip
    take(team, ref, ["education_approval"])
    assert {s["step"]: s["timeliness"] for s in view(team, ref)["steps"]}["education_approval"] == "in time"  # fmt: skip


def test_each_looked_after_sibling_is_placed_together_or_apart_with_approval(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = start(team, {"looked_after_siblings": ["C-8", "C-9"]})
    take(team, ref, ["new_placement_notice"])
    notice = {"notified_on": "2026-11-20", "notified": ["iro", "parents"]}
    together = {"sibling": "C-8", "together": True}
    apart = {"sibling": "C-9", "together": False, "assessed_on": "2026-11-10", "approved_by": "sm-1", "reasons": "C-9 needs a specialist placement"}  # fmt: skip
    unapproved = {**apart, "approved_by": None}
    junior = {**apart, "approved_by": "tm-1"}
    for siblings, said in [
        ([together], "whether they are placed together with the child or apart (C-9 not given)"),
        ([together, unapproved], "C-9 is placed apart: give the assessment's day"),
        ([together, junior], "tm-1 (team manager) is too junior"),
    ]:
        with pytest.raises(InputError, match=re.escape(said)):
            submit(team, ref, "new_placement_notice", {**notice, "siblings": siblings})
    submit(team, ref, "new_placement_notice", {**notice, "siblings": [together, apart]})
    take(team, ref, ["new_placement_notice"])
    [decision] = [d for d in view(team, ref)["decisions"] if d["kind"] == "sibling_apart"]
    assert (decision["value"], decision["author"]) == ("C-9 placed apart (assessed 10 November 2026)", "sm-1")  # fmt: skip
    with session_scope(team) as session:
        case_id = cases.get_case(session, ref).id or 0
    told = tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=case_id, now=NOW)
    assert ("information", ["iro-1"]) in [(w.kind, w.recipients) for w in told if "/step:" in w.key]  # fmt: skip


def test_a_meeting_after_an_allegation_waits_for_its_outcome(
    team: Engine, smtp: SmtpServer
) -> None:
    """The disruption meeting's clock is held (a stop with its reason) while the allegation that
    led to the ending is open, shown on both cases; the allegation's outcome starts it again."""
    allegation = start_case_of_allegation(team)
    ending = {**START["ending"], "ended_by": "allegation", "planned": False, "ends_on": "2026-11-02", "new_placement_on": "2026-11-02", "allegation": allegation}  # fmt: skip
    ref = start(team, {"ending": ending})
    take(team, ref, ["meeting_decision"])
    submit(team, ref, "meeting_decision", {"hold": True}, who="tm-1")
    take(team, ref, ["meeting_decision"])
    take(team, ref, ["disruption_meeting"])
    [meeting] = [s for s in view(team, ref)["steps"] if s["step"] == "disruption_meeting"]
    assert meeting["status"] == "stopped"
    assert meeting["stops"][0]["reason"] == f"waits for the outcome of the allegation {allegation}, or until the LADO agrees it goes ahead"  # fmt: skip
    [link] = view(team, allegation)["links"]
    assert (link["reference"], link["holds_for_this"]) == (ref, ["Hold the disruption meeting"])
    with pytest.raises(InputError, match="disruption_meeting is not open"):
        submit(team, ref, "disruption_meeting", MEETING, who="tm-1")
    # Weeks later: the held meeting never lapses; its stop is reviewed, as any stopped clock is.
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2027, 1, 5, 9, tzinfo=UTC))  # fmt: skip
    with Session(team) as session:
        step_id = session.exec(select(Step.id).where(Step.name == "disruption_meeting")).one()
    assert not [w for w in report.written if f"/step:{step_id}@" in w.key]
    assert [w.kind for w in report.written if ref in w.key and "/stop:" in w.key] == ["stop_review"]

    # The allegation's outcome: the meeting's clock runs again, and the link no longer says it waits.
    outcome_of(team, allegation)
    [meeting] = [s for s in view(team, ref)["steps"] if s["step"] == "disruption_meeting"]
    assert meeting["status"] == "open" and meeting["stops"][0]["resumed_at"] is not None
    assert view(team, allegation)["links"][0]["holds_for_this"] == []


def start_case_of_allegation(engine: Engine) -> str:
    return start_case(engine)


def outcome_of(engine: Engine, ref: str) -> None:
    """The allegation through its meeting (ready for outcome) to an unfounded outcome."""
    threshold = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}  # fmt: skip
    open_step(engine, ref, "outcome", now=NOW)
    record(engine, ref, "initial_consideration", threshold, NOW, author="lado-1")
    open_step(engine, ref, "allegation_meeting", now=NOW)
    meeting = {"held_on": "2026-11-04", "attendees": ["lado"], "carer_told_on": "2026-11-04", "ready_for_outcome": True}  # fmt: skip
    record(engine, ref, "allegation_meeting", meeting, NOW, author="lado-1")
    outcome = {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "no harm"}  # fmt: skip
    record(
        engine, ref, "outcome", outcome, NOW, author="lado-1", late_reason="waited for the police"
    )

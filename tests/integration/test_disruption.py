"""The placement disruption process on SQLite and PostgreSQL, through the engine's services as its
flow drives them: the start (earlier endings counted, an allegation linked both ways), the IRO
told late (told at once to the IRO and their manager, by mail), the rules of the meeting decision,
the chair and the follow-through; every refusal stores nothing."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import cases, steps, views
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Case, Submission
from notifications.sweep import tell_at_once
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, start_as, start_case, submit_as, view_at
from tests.integration.test_cli import Run, refused
from tests.integration.test_cli import run as run
from tests.smtp import SmtpServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

TEAM = [
    ("hos-1", ("head_of_service",), None),
    ("sm-1", ("service_manager",), "hos-1"),
    ("tm-1", ("team_manager",), "sm-1"),
    ("sw-1", ("social_worker",), "tm-1"),
    ("ssw-1", ("supervising_social_worker",), "tm-1"),
    ("irom-1", ("iro_manager",), "hos-1"),
    ("iro-1", ("iro",), "irom-1"),
    ("ladom-1", ("lado_manager",), "hos-1"),
    ("lado-1", ("lado",), "ladom-1"),
]

START: dict[str, Any] = {
    "child": {"child": "C-7", "iro": "iro-1", "social_worker": "sw-1"},
    "carer": "FC-9",
    "fostering_service": "Northshire Fostering",
    "supervising_social_worker": "ssw-1",
    "team_manager": "tm-1",
    "placement_type": "long_term",
    "placement_began_on": "2024-09-02",
    "ending": {
        "ended_by": "carer_notice",
        "planned": True,
        "ends_on": "2026-11-20",
        "new_placement_on": "2026-11-20",
        "reason_for_change": "CREQB",
    },
}


@pytest.fixture
def team(engine: Engine, smtp: SmtpServer) -> Engine:
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[
                person(sid, *roles, manager=manager, addresses=[smtp.url(sid)])
                for sid, roles, manager in TEAM
            ],
        )
    return engine


def start(engine: Engine, change: dict[str, Any] | None = None, who: str = "sw-1") -> str:
    return start_as(engine, "disruption", who, {**START, **(change or {})}, NOW)


def take(engine: Engine, ref: str, names: list[str], sequence: int = 1) -> steps.Progress:
    return advance_case(engine, ref, names, NOW, sequence)


def submit(engine: Engine, ref: str, step: str, payload: dict[str, Any], who: str = "sw-1") -> None:
    submit_as(engine, ref, step, payload, who, NOW)


def view(engine: Engine, ref: str) -> dict[str, Any]:
    return view_at(engine, ref, NOW)


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_a_planned_ending_told_in_time_and_the_iro_told_late_is_told_at_once(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = start(team)
    assert ref.startswith("DIS-2026-")
    take(team, ref, ["care_plan_review", "iro_informed"])
    [due] = {s["due"] for s in view(team, ref)["steps"] if s["step"] == "iro_informed"}
    assert due == "2026-11-20"  # before the placement ends (reg 14(2)(b))
    with pytest.raises(InputError, match="reviewed_on 2026-11-23 is after the placement ends"):
        submit(team, ref, "care_plan_review", {"reviewed_on": "2026-11-23", "decision": "end"})
    submit(team, ref, "care_plan_review", {"reviewed_on": "2026-11-13", "decision": "end", "rationale": "carer's notice"})  # fmt: skip
    submit(team, ref, "iro_informed", {"told_on": "2026-11-24", "how": "by email"})  # too late
    assert take(team, ref, ["care_plan_review", "iro_informed"]).waiting == []
    steps_now = {s["step"]: s for s in view(team, ref)["steps"]}
    assert steps_now["care_plan_review"]["timeliness"] == "in time"
    assert steps_now["iro_informed"]["timeliness"] == "late"
    tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=1, now=NOW)
    late = sorted(m.to[0].split("@")[0] for m in smtp.received if m.subject.startswith("Done late"))
    assert late == ["iro-1", "irom-1"]
    assert all("FC-9" not in m.text and "C-7" not in m.text for m in smtp.received)


def test_the_meeting_decision_rules(team: Engine) -> None:
    ref = start(team)
    take(team, ref, ["meeting_decision"])
    before = count(team, Submission)
    refusals = [
        ({"hold": False}, "not holding a disruption meeting needs reasons"),
        ({"hold": False, "reasons": "x"}, "required for a long-term placement"),
        ({"hold": False, "reasons": "x", "approved_by": "tm-1"}, "tm-1 (team manager) is too junior"),
        ({"hold": False, "reasons": "x", "approved_by": "nobody"}, "no staff member with id 'nobody'"),
    ]  # fmt: skip
    for payload, message in refusals:
        with pytest.raises(InputError, match=re.escape(message)):
            submit(team, ref, "meeting_decision", payload, who="tm-1")
    assert count(team, Submission) == before
    submit(team, ref, "meeting_decision", {"hold": False, "reasons": "carer retired; plan clear", "approved_by": "hos-1"}, who="tm-1")  # fmt: skip
    assert take(team, ref, ["meeting_decision"]).results == {"meeting_decision": False}


def test_the_chair_is_independent_and_every_recommendation_is_followed_through(
    team: Engine,
) -> None:
    ref = start(team)
    take(team, ref, ["meeting_decision"])
    submit(team, ref, "meeting_decision", {"hold": True}, who="tm-1")
    assert take(team, ref, ["meeting_decision"]).results["meeting_decision"] is True
    take(team, ref, ["disruption_meeting"])
    meeting = {
        "held_on": "2026-11-25",
        "chair": "sw-1",
        "attendees": ["iro", "carers"],
        "sequence_of_events": "...",
        "the_match": "...",
        "support_given": "...",
        "childs_view": "...",
        "recommendations": [
            {"title": "Life story work", "owner": "sw-1", "due": "2026-12-18"},
            {"title": "Carer training", "owner": "ssw-1", "due": 10},
        ],
    }
    for chair, who in (("sw-1", "child's social worker"), ("ssw-1", "supervising social worker")):
        with pytest.raises(InputError, match=f"{chair} is the (carer's )?{who}"):
            submit(team, ref, "disruption_meeting", {**meeting, "chair": chair}, who="tm-1")
    submit(team, ref, "disruption_meeting", {**meeting, "chair": "iro-1"}, who="tm-1")
    take(team, ref, ["disruption_meeting"])
    take(team, ref, ["meeting_report"])
    submit(team, ref, "meeting_report", {"filed_on": "2026-11-26", "on_child_record": True, "on_carer_record": True, "summary": "...", "next_review_on": "2026-11-27"}, who="tm-1")  # fmt: skip
    take(team, ref, ["meeting_report"])
    # The report is on the child's record and on the carer's.
    with Session(team) as session:
        for who in ({"child": "C-7"}, {"carer": "FC-9"}):
            record = views.record_of(session, **who)
            assert [c["reference"] for c in record["cases"]] == [ref]
            assert [(r["case"], r["summary"]) for r in record["reports"]] == [(ref, "...")]
    take(team, ref, ["follow_through"])
    ids = [a["id"] for a in view(team, ref)["actions"]]
    review = {"held_on": "2026-11-27", "review": "looked_after_review"}
    with pytest.raises(InputError, match=f"unaccounted for: {ids[1]} \\(Carer training\\)"):
        submit(team, ref, "follow_through", {**review, "accounted": [{"action_id": ids[0], "status": "done"}]})  # fmt: skip
    carried = {
        **review,
        "accounted": [
            {"action_id": ids[0], "status": "done"},
            {"action_id": ids[1], "status": "carried_forward", "reason": "course full", "new_due": "2027-01-29"},
        ],
    }  # fmt: skip
    with pytest.raises(InputError, match="give next_review_on"):
        submit(team, ref, "follow_through", carried)
    submit(team, ref, "follow_through", {**carried, "next_review_on": "2027-02-05"})
    assert take(team, ref, ["follow_through"]).results["follow_through"] is True  # another round
    assert take(team, ref, ["follow_through"], 2).waiting == ["follow_through"]
    rounds = [(s["sequence"], s["due"], s["status"]) for s in view(team, ref)["steps"] if s["step"] == "follow_through"]  # fmt: skip
    assert rounds == [(1, "2026-11-27", "closed"), (2, "2027-02-05", "open")]
    assert [a["status"] for a in view(team, ref)["actions"]] == ["done", "open"]


def test_earlier_unplanned_endings_are_counted_and_an_allegation_is_linked_both_ways(
    team: Engine, smtp: SmtpServer
) -> None:
    first = start(team, {"placement_type": "short_term", "ending": {**START["ending"], "planned": False, "ends_on": "2026-03-02", "new_placement_on": "2026-03-02"}})  # fmt: skip
    assert view(team, first)["meeting"]["prompted_by"] == {"child": [], "carer": []}
    allegation = start_case(team)  # tests/cases: lado-1, iro-1, sw-1 (all in TEAM)
    ending = {**START["ending"], "ended_by": "allegation", "planned": False, "ends_on": "2026-11-02", "new_placement_on": "2026-11-02"}  # fmt: skip
    for bad, message in (
        ({**ending, "allegation": None}, "name the allegation case"),
        ({**ending, "allegation": "ALG-2026-0404"}, "no case 'ALG-2026-0404' to link to"),
        ({**ending, "allegation": first}, f"{first} is a case of disruption, not of allegation"),
        ({**ending, "ends_on": "2026-12-30", "new_placement_on": "2026-12-30", "allegation": allegation}, "cannot be in the future"),
    ):  # fmt: skip
        with pytest.raises(InputError, match=message):
            start(team, {"placement_type": "short_term", "ending": bad})
    second = start(team, {"placement_type": "short_term", "ending": {**ending, "allegation": allegation}})  # fmt: skip
    seen = view(team, second)
    assert seen["meeting"]["prompted_by"] == {"child": [first], "carer": [first]}
    assert "prompted (unplanned endings in 12 months:" in seen["headline"]
    assert seen["links"] == [
        {
            "reference": allegation,
            "process": "allegation",
            "why": "the allegation that led to the ending",
            "holds_for_this": [],
        }
    ]
    assert view(team, allegation)["links"] == [
        {
            "reference": second,
            "process": "disruption",
            "why": "the allegation that led to the ending",
            "holds_for_this": [],
        }
    ]
    with Session(team) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 3


def test_the_timeliness_report(
    team: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    first = start(team)  # planned; the IRO told late
    take(team, first, ["care_plan_review", "iro_informed", "meeting_decision"])
    submit(team, first, "care_plan_review", {"reviewed_on": "2026-11-13", "decision": "end", "rationale": "r"})  # fmt: skip
    submit(team, first, "iro_informed", {"told_on": "2026-11-24", "how": "by email"})
    second = start(team, {"placement_type": "short_term"})  # planned; the IRO told in time
    take(team, second, ["care_plan_review", "iro_informed", "meeting_decision"])
    submit(team, second, "iro_informed", {"told_on": "2026-11-19", "how": "at the review"})
    submit(team, second, "meeting_decision", {"hold": False, "reasons": "short-term; planned"}, who="tm-1")  # fmt: skip
    for ref in (first, second):
        take(team, ref, ["care_plan_review", "iro_informed", "meeting_decision"])

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    report = run("report", "timeliness", "--process", "disruption", "--from", "2026-11-01", "--to", "2026-11-27", "--json").json()  # fmt: skip
    rows = {r["step"]: r for r in report["steps"]}  # type: ignore[index]
    assert (rows["iro_informed"]["done"], rows["iro_informed"]["late"]) == (2, 1)
    assert rows["iro_informed"]["in_time_share"] == 0.5
    assert rows["care_plan_review"]["in time"] == 1
    assert rows["care_plan_review"]["open"] + rows["care_plan_review"]["overdue"] == 1
    assert rows["meeting_decision"]["done"] == 1
    measures = {m["measure"]: (m["count"], m["of"]) for m in report["measures"]}  # type: ignore[index]
    assert measures == {
        "endings where the IRO was told in time": (1, 2),
        "endings with a meeting held or its absence justified": (1, 2),
        "endings with both": (1, 2),
    }
    text = run("report", "timeliness", "--process", "disruption", "--from", "2026-11-01", "--to", "2026-11-27")  # fmt: skip
    assert text.code == 0 and "endings where the IRO was told in time: 1 of 2 (50%)" in text.out
    csv_out = run("report", "timeliness", "--process", "disruption", "--csv").out.splitlines()
    assert csv_out[0].startswith("kind,name,done,in time,")
    assert any(line.startswith("measure,endings with both,") for line in csv_out)
    refused(run("report", "timeliness", "--process", "tea"), "'tea' is not a process")
    refused(
        run("report", "timeliness", "--process", "disruption", "--from", "2026-12-01", "--to", "2026-11-01"),
        "--from 2026-12-01 is after --to 2026-11-01",
    )  # fmt: skip


AT_RISK = {
    **{k: v for k, v in START.items() if k != "ending"},
    "at_risk": {"identified_on": "2026-11-16", "concern": "carer says she cannot go on"},
}


def test_a_placement_at_risk_meets_on_stability_then_ends(team: Engine) -> None:
    with pytest.raises(InputError, match=r"give either ending .* or at_risk"):
        start(team, {"at_risk": AT_RISK["at_risk"]})  # both
    ref = start(team, {"ending": None, "at_risk": AT_RISK["at_risk"]})
    assert view(team, ref)["headline"].endswith("placement AT RISK since 2026-11-16")
    take(team, ref, ["stability_meeting"])
    meeting = {
        "held_on": "2026-11-18",
        "attendees": ["social worker", "carers"],
        "decision": "ending",
        "rationale": "the carer's health; no support would hold it",
    }
    ending = {"ended_by": "carer_notice", "planned": True, "ends_on": "2026-11-27", "new_placement_on": "2026-11-27", "reason_for_change": "CREQO"}  # fmt: skip
    for bad, message in (
        ({**meeting, "held_on": "2026-11-13", "ending": ending}, "before the risk was identified"),
        (meeting, "the placement ends: give ending"),
        ({**meeting, "decision": "stable", "support_plan": [{"title": "Respite", "owner": "ssw-1", "due": 5}]}, "needs review_on"),
    ):  # fmt: skip
        with pytest.raises(InputError, match=message):
            submit(team, ref, "stability_meeting", bad, who="tm-1")
    submit(team, ref, "stability_meeting", {**meeting, "ending": ending}, who="tm-1")
    from models.processes.disruption import Stability

    assert take(team, ref, ["stability_meeting"]).results["stability_meeting"] == (Stability.ending, False)  # fmt: skip
    with Session(team) as session:
        case = cases.get_case(session, ref)
        assert cases.details_of(case)["ending"]["ends_on"] == "2026-11-27"
    seen = view(team, ref)
    assert seen["placement"]["ends_on"] == "2026-11-27" and "planned ending" in seen["headline"]
    # From here it runs as an ending: its clocks count from the end the meeting recorded.
    take(team, ref, ["care_plan_review", "iro_informed"])
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    assert due["iro_informed"] == "2026-11-27"

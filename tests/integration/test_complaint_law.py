"""The stage 2 complaint as the regulations read it (issue 19), on SQLite and PostgreSQL through the
engine's services as the flow drives them: an extension decided before the deadline it moves; the
complainant's stage 3 window counted from receipt, never chased, closing itself; the investigating
officer, the adjudicating officer and the independent person three different people, the
adjudicator outside the service complained about; the findings the adjudicating officer's."""

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import accounts, cases, departures, registry, reports, steps
from models.db import session_scope
from models.enums import Role, StepStatus
from models.errors import InputError
from models.staff import add_staff
from models.tables import AuditEntry, Decision, Extension, Notice, Submission
from notifications.notices import notice_rows
from notifications.sweep import sweep, tell_at_once
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, submit_as, view_at
from tests.integration.test_cli import Run, refused
from tests.integration.test_cli import run as run
from tests.integration.test_complaint import NOW, RESPONSE, STATEMENT, start, submit, take, view
from tests.integration.test_complaint import team as team
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, sign_in
from web.app import create_app
from web.deps import WebDeps

STARTED = datetime(2026, 11, 1, tzinfo=UTC)  # before the cases start: none is "quiet" since


def to_response(engine: Engine, change: dict[str, Any] | None = None) -> str:
    """A complaint whose stage 2 response is open: statement agreed Fri 2 Oct, due Fri 6 Nov."""
    ref = start(engine, change)
    take(engine, ref, ["eligibility"])
    submit(engine, ref, "eligibility", {"accepted": True})
    take(engine, ref, ["eligibility"])
    take(engine, ref, ["stage2_appointments"])
    submit(engine, ref, "stage2_appointments", STATEMENT)
    take(engine, ref, ["stage2_appointments"])
    take(engine, ref, ["stage2_response"])
    return ref


def to_window(engine: Engine, response: dict[str, Any]) -> str:
    """A complaint answered at stage 2 with `response`, its stage 3 window open."""
    ref = to_response(engine)
    submit(engine, ref, "stage2_response", {**RESPONSE, "remedies": [], "remedies_review_on": None, **response})  # fmt: skip
    take(engine, ref, ["stage2_response"])
    take(engine, ref, ["stage3_request"])
    return ref


def extend(engine: Engine, ref: str, on: datetime, told_on: date) -> Extension:
    with session_scope(engine) as session:
        return departures.extend(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="stage2_response",
            to="45",
            reason="the independent person is ill",
            approver_id="cm-1",
            recorded_by="cm-1",
            now=on,
            recorded_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
            told_on=told_on,
        )


def count(engine: Engine, table: type[Any]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_an_extension_is_decided_before_the_deadline_it_moves(team: Engine) -> None:
    ref = to_response(team)
    assert {s["step"]: s["due"] for s in view(team, ref)["steps"]}[
        "stage2_response"
    ] == "2026-11-06"
    before = (count(team, Extension), count(team, AuditEntry))

    # Decided on Mon 9 Nov, after the due day (Fri 6 Nov): refused, nothing stored.
    with pytest.raises(InputError) as refused:
        extend(team, ref, datetime(2026, 11, 9, 10, tzinfo=UTC), date(2026, 11, 6))
    assert str(refused.value) == (
        "an extension is decided by the day it moves: the stage 2 investigation and adjudication "
        "was due on 6 November 2026 and this extension is dated 9 November 2026; if the decision "
        "came late, record the step as late, with the reason"
    )
    # The complainant told after the day it was decided (so after the due day): refused.
    with pytest.raises(InputError, match="must fall between the step's opening and today"):
        extend(team, ref, datetime(2026, 11, 6, 10, tzinfo=UTC), date(2026, 11, 9))
    assert (count(team, Extension), count(team, AuditEntry)) == before

    # On the due day itself, the complainant told that day: the due day moves on.
    extension = extend(team, ref, datetime(2026, 11, 6, 16, tzinfo=UTC), date(2026, 11, 6))
    assert (extension.due_on_before, extension.due_on_after) == (date(2026, 11, 6), date(2026, 12, 4))  # fmt: skip

    # Answered within the extension: "in time with extension".
    submit(team, ref, "stage2_response", {**RESPONSE, "response_sent_on": "2026-11-20"})
    take(team, ref, ["stage2_response"])
    timely = {s["step"]: s["timeliness"] for s in view(team, ref)["steps"]}
    assert timely["stage2_response"] == "in time with extension"


def test_decided_late_it_is_recorded_late_with_its_reason(team: Engine) -> None:
    ref = to_response(team)
    with pytest.raises(InputError, match="an extension is decided by the day it moves"):
        extend(team, ref, datetime(2026, 11, 10, 10, tzinfo=UTC), date(2026, 11, 10))
    submit_as(team, ref, "stage2_response", {**RESPONSE, "response_sent_on": "2026-11-20"}, "cm-1", datetime(2026, 11, 27, 12, tzinfo=UTC), late_reason="the independent person was ill")  # fmt: skip
    take(team, ref, ["stage2_response"])
    seen = view(team, ref)
    assert {s["step"]: s["timeliness"] for s in seen["steps"]}["stage2_response"] == "late"
    late = [
        d
        for d in seen["decisions"]
        if d["kind"] == "late" and d["value"].startswith("Stage 2 investigation")
    ]
    assert [([r["text"] for r in d["rationale"]], d["rationale_due"]) for d in late] == [(["the independent person was ill"], None)]  # fmt: skip


def test_the_stage3_window_counts_from_receipt_and_is_never_chased(
    team: Engine, smtp: SmtpServer
) -> None:
    # Sent Thu 5 Nov, no receipt day: taken as received Mon 9 Nov; 20 working days: Mon 7 Dec.
    deemed = to_window(team, {"response_sent_on": "2026-11-05"})
    # Received Fri 6 Nov, as recorded: 20 working days: Fri 4 Dec.
    received = to_window(team, {"response_sent_on": "2026-11-05", "response_received_on": "2026-11-06"})  # fmt: skip
    due = lambda ref: {s["step"]: s["due"] for s in view(team, ref)["steps"]}["stage3_request"]  # noqa: E731
    assert (due(deemed), due(received)) == ("2026-12-07", "2026-12-04")

    # Long after both windows closed, the sweep tells nobody of them.
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 12, 21, 9, tzinfo=UTC))  # fmt: skip
    assert not [w for w in report.written if "stage3_request" in w.key]
    assert not [m for m in smtp.received if "review panel" in m.subject]

    # Recorded after its window, "no request" is neither late nor chased for a reason.
    late_day = datetime(2026, 12, 8, 11, tzinfo=UTC)
    submit_as(team, received, "stage3_request", {"requested": False}, "cm-1", late_day)
    advance_case(team, received, ["stage3_request"], late_day)
    seen = view_at(team, received, late_day)
    assert not [d for d in seen["decisions"] if d["kind"] == "late" and "stage3" in d["value"]]
    assert {s["step"]: s["status"] for s in seen["steps"]}["stage3_request"] == "closed"


def test_the_stage3_window_closes_itself_when_it_runs_out(team: Engine) -> None:
    ref = to_window(team, {"response_sent_on": "2026-11-05"})  # window due Mon 7 Dec
    on_the_day = datetime(2026, 12, 7, 16, tzinfo=UTC)
    assert advance_case(team, ref, ["stage3_request"], on_the_day).waiting == ["stage3_request"]
    with session_scope(team) as session:
        assert ref not in [c.reference for c in steps.stalled(session, on_the_day, STARTED)]

    # Tue 8 Dec: the window has run out. The sweep finds the case to carry on...
    after = datetime(2026, 12, 8, 9, tzinfo=UTC)
    with session_scope(team) as session:
        case_id = next(c.id for c in steps.stalled(session, after, STARTED) if c.reference == ref)
        assert steps.lapsed_windows(session, case_id or 0, after) == {
            "stage3-request-1"
        }  # its wait key
    # ...and the flow closes it: no review panel; a replay answers the same, writing nothing.
    submissions = count(team, Submission)
    for _ in range(2):
        progress = advance_case(team, ref, ["stage3_request"], after)
        assert (progress.results, progress.waiting) == ({"stage3_request": False}, [])
    assert count(team, Submission) == submissions
    with Session(team) as session:
        lapses = session.exec(select(AuditEntry).where(AuditEntry.action == "step.lapse")).all()
        assert [e.detail["step"] for e in lapses] == ["stage3_request"]
    seen = view_at(team, ref, after)
    window = next(s for s in seen["steps"] if s["step"] == "stage3_request")
    assert (window["status"], window["timeliness"]) == (StepStatus.lapsed.value, "window closed")
    with pytest.raises(InputError, match="stage3_request is not open"):
        submit_as(team, ref, "stage3_request", {"requested": False}, "cm-1", after)


def test_the_investigating_officer_adjudicator_and_independent_person_are_three_people(
    team: Engine,
) -> None:
    with session_scope(team) as session:  # people who hold two of the roles
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[
                person("io-sm", "investigating_officer", "service_manager", manager="hos-1"),
                person("io-ip", "investigating_officer", "independent_person", independent=True),
                person("ip-sm", "independent_person", "service_manager", independent=True),
                person("sm-2", "service_manager", manager="hos-1"),
            ],
        )
    ref = start(team, {"service_manager": "sm-2"})
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    take(team, ref, ["stage2_appointments"])
    with pytest.raises(InputError, match="io-ip is the investigating officer and cannot also be the independent person"):  # fmt: skip
        submit(team, ref, "stage2_appointments", {**STATEMENT, "investigating_officer": "io-ip", "independent_person": "io-ip"})  # fmt: skip
    submit(team, ref, "stage2_appointments", {**STATEMENT, "investigating_officer": "io-sm", "independent_person": "ip-sm"})  # fmt: skip
    take(team, ref, ["stage2_appointments"])
    take(team, ref, ["stage2_response"])
    for officer, said in [
        ("io-sm", "io-sm investigated the complaint and may not adjudicate it"),
        ("ip-sm", "ip-sm is the independent person and may not adjudicate"),
        ("sm-2", "sm-2 manages the service complained about and may not adjudicate"),
    ]:
        with pytest.raises(InputError, match=said):
            submit(team, ref, "stage2_response", {**RESPONSE, "adjudicating_officer": officer})
    assert count(team, Submission) == 2  # eligibility and the statement only
    submit(team, ref, "stage2_response", RESPONSE)  # sm-1: a senior manager outside the service


def test_the_findings_are_the_adjudicating_officers(team: Engine, smtp: SmtpServer) -> None:
    ref = to_response(team)
    submit(team, ref, "stage2_response", RESPONSE)  # typed in by cm-1; sm-1 adjudicated
    take(team, ref, ["stage2_response"])
    with Session(team) as session:
        findings = session.exec(select(Decision).where(Decision.kind == "finding")).all()
    assert {(d.author_id, d.author_role.value) for d in findings} == {("sm-1", "service_manager")}
    # Point 2 has no rationale: the chase goes to the adjudicating officer and their manager.
    [open_finding] = [d for d in findings if d.value == "point 2: upheld"]
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 12, 3, 9, tzinfo=UTC))  # fmt: skip
    chased = [w for w in report.written if f"/decision:{open_finding.id}/" in w.key]
    assert chased
    assert {p for w in chased for p in w.recipients} == {
        "sm-1",
        "hos-1",
        "dir-1",
        "iro-1",
        "irom-1",
    }


def test_a_notice_to_the_top_of_the_chain_stops_there_and_the_case_page_says_so(
    team: Engine, smtp: SmtpServer
) -> None:
    """The stage 2 response lapses on Fri 6 Nov; 5 working days later its second rung goes to the
    director alone. Unacknowledged, it has nobody above the director to go to, and it goes to
    nobody below (before, the head of service was told in the director's manager's place)."""
    ref = to_response(team)
    sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 11, 16, 9, tzinfo=UTC))
    with Session(team) as session:
        [to_director] = session.exec(select(Notice).where(Notice.kind == "lapsed", Notice.rung == 2)).all()  # fmt: skip
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 11, 23, 9, tzinfo=UTC))  # fmt: skip
    further = [w for w in report.written if f"/notice:{to_director.id}/" in w.key]
    assert further == []
    with Session(team) as session:
        row = next(n for n in notice_rows(session, reference=ref) if n["id"] == to_director.id)
    assert (row["nobody_above"], row["ack_due_at"], row["acknowledged_at"]) == (True, None, None)
    assert [d["to"] for d in row["deliveries"]] == ["dir-1"]

    with session_scope(team) as session:
        accounts.set_password(session, staff_id="cm-1", password=PASSWORD, now=datetime(2026, 11, 2, tzinfo=UTC), actor_id=None)  # fmt: skip
    app = create_app(WebDeps(engine=team, policy=POLICY, calendar=CALENDAR, clock=lambda: datetime(2026, 11, 23, 10, tzinfo=UTC), secret=b"k" * 32))  # fmt: skip
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(client, "cm-1")
    page = client.get(f"/cases/{ref}").text
    assert "Nobody is above them to tell: it went no further" in page


def test_stage_3_recommendations_are_each_accepted_as_a_remedy_or_refused_with_reasons(
    team: Engine,
) -> None:
    ref = to_response(team)
    submit(team, ref, "stage2_response", RESPONSE)  # a remedy, reviewed on Mon 23 Nov
    take(team, ref, ["stage2_response"])
    take(team, ref, ["stage3_request"])
    submit(team, ref, "stage3_request", {"requested": True, "requested_on": "2026-11-10"})
    take(team, ref, ["stage3_request"])
    take(team, ref, ["stage3_panel"])
    submit(team, ref, "stage3_panel", {"held_on": "2026-11-20", "members": ["ip-2", "ip-3", "ip-4"], "chair": "ip-2"})  # fmt: skip
    take(team, ref, ["stage3_panel"])
    take(team, ref, ["panel_report"])
    submit(team, ref, "panel_report", {"received_on": "2026-11-23", "recommendations": ["apologise in person", "review the plan"]})  # fmt: skip
    take(team, ref, ["panel_report"])
    take(team, ref, ["stage3_response"])
    base = {"responded_on": "2026-11-26", "decided_with_stage2_ip": True, "ombudsman_stated": True, "remedies_review_on": "2026-12-14"}  # fmt: skip
    accepted = {"number": 1, "accepted": True, "owner": "sw-1", "due": 10}
    rejected = {"number": 2, "accepted": False, "reasons": "the plan was reviewed in October"}
    half = {"number": 1, "accepted": True}
    unexplained = {"number": 2, "accepted": False}
    for answers, said in [
        ([accepted], "recommendation(s) 2 of the panel have no answer"),
        ([accepted, rejected, rejected], "twice: [2]"),
        ([half, rejected], "recommendation 1 is accepted: give who carries it out"),
        ([accepted, unexplained], "recommendation 2 is not accepted: give the reasons"),
    ]:
        with pytest.raises(InputError, match=re.escape(said)):
            submit(team, ref, "stage3_response", {**base, "recommendations": answers})
    without_day = {k: v for k, v in base.items() if k != "remedies_review_on"}
    with pytest.raises(InputError, match="accepted recommendations need remedies_review_on"):
        submit(team, ref, "stage3_response", {**without_day, "recommendations": [accepted, rejected]})  # fmt: skip
    submit(team, ref, "stage3_response", {**base, "recommendations": [accepted, rejected]})
    assert take(team, ref, ["stage3_response"]).results == {"stage3_response": True}
    seen = view(team, ref)
    answers = [(d["value"], [r["text"] for r in d["rationale"]]) for d in seen["decisions"] if d["kind"] == "recommendation"]  # fmt: skip
    assert answers == [
        ("recommendation 1: accepted", ["accepted: a remedy with its owner and due day"]),
        ("recommendation 2: not accepted", ["the plan was reviewed in October"]),
    ]
    # The remedy: 10 working days after the response (Thu 26 Nov): Thu 10 Dec; reviewed with stage 2's.
    remedies = [(a["title"], a["owner"], a["due"]) for a in seen["actions"]]
    assert remedies == [("Apology and plan review", "sw-1", "2026-11-20"), ("Review panel recommendation 1", "sw-1", "2026-12-10")]  # fmt: skip
    take(team, ref, ["remedies_review"])
    [first, second] = [a["id"] for a in seen["actions"]]
    with pytest.raises(InputError, match="unaccounted"):
        submit(team, ref, "remedies_review", {"held_on": "2026-11-23", "accounted": [{"action_id": first, "status": "done"}]})  # fmt: skip
    submit(team, ref, "remedies_review", {"held_on": "2026-11-23", "accounted": [{"action_id": first, "status": "done"}, {"action_id": second, "status": "carried_forward", "reason": "due later", "new_due": "2026-12-10"}], "next_review_on": "2026-12-14"})  # fmt: skip
    progress = take(team, ref, ["remedies_review"])
    assert progress.results == {"remedies_review": True}


def test_a_stage3_response_stored_before_each_recommendation_was_answered_still_reads() -> None:
    """Version 1 gave one reason for any recommendation not followed; its record still reads."""
    stored = Submission(
        case_id=1,
        kind="stage3_response",
        author_id="dir-1",
        author_role=Role.director,
        effective_at=datetime(2026, 11, 27, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 27, tzinfo=UTC),
        payload={
            "responded_on": "2026-11-27",
            "decided_with_stage2_ip": True,
            "not_followed_reasons": "cost",
            "ombudsman_stated": True,
        },
        schema_version=1,
    )
    data = steps.stored_input(registry.get("complaint").step("stage3_response"), stored)
    assert (data.responded_on, data.recommendations, data.remedies_review_on) == (date(2026, 11, 27), (), None)  # fmt: skip


def test_the_childs_iro_and_the_advocate_are_told_of_each_response(
    team: Engine, smtp: SmtpServer
) -> None:
    with session_scope(team) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[person("adv-1", "advocate", addresses=[smtp.url("adv-1")])],
        )
    with pytest.raises(InputError, match="an advocate is named only where advocacy was accepted"):
        start(team, {"advocate": "adv-1"})  # advocacy declined
    with pytest.raises(InputError, match="advocate"):
        start(team, {"advocacy": "accepted", "advocate": "sw-1"})
    advocated = to_response(team, {"advocacy": "accepted", "advocate": "adv-1"})
    alone = to_response(team)  # no advocate: nobody told in their place
    for ref in (advocated, alone):
        submit(team, ref, "stage2_response", RESPONSE)
        take(team, ref, ["stage2_response"])
    with session_scope(team) as session:
        ids = {ref: cases.get_case(session, ref).id or 0 for ref in (advocated, alone)}
    told = {
        ref: sorted(
            tuple(w.recipients)
            for w in tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=ids[ref], now=NOW)
            if w.kind == "information" and "/step:" in w.key
        )
        for ref in (advocated, alone)
    }
    assert told == {advocated: [("adv-1", "iro-1")], alone: [("iro-1",)]}
    subjects = [m.subject for m in smtp.received if m.to[0].startswith("adv-1")]
    assert subjects == [f"For information: {advocated} Stage 2 investigation and adjudication done Thursday 5 November 2026"]  # fmt: skip


def test_a_refusal_names_the_ombudsman_route(team: Engine) -> None:
    ref = start(team)
    take(team, ref, ["eligibility"])
    refusal = {
        "accepted": False,
        "reasons": "before the courts",
        "out_of_scope": "court_proceedings",
    }
    with pytest.raises(InputError, match="states the complainant's right to go to the Local Government and Social Care Ombudsman"):  # fmt: skip
        submit(team, ref, "eligibility", refusal)
    submit(team, ref, "eligibility", {**refusal, "ombudsman_stated": True})
    assert take(team, ref, ["eligibility"]).results == {"eligibility": False}
    [decision] = [d for d in view(team, ref)["decisions"] if d["kind"] == "eligibility"]
    assert decision["value"] == "refused (court_proceedings); the Ombudsman route stated"


def open_alongside(engine: Engine, ref: str, names: list[str]) -> None:
    """As the flow opens steps alongside the one it waits at."""
    with session_scope(engine) as session:
        steps.open_alongside(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=names,
        )


def test_a_withdrawn_complaint_stops_every_clock_and_climbs_to_nobody(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = start(team, {"stage2_requested_on": "2026-09-30"})
    open_alongside(team, ref, ["withdrawn_or_resolved"])
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    open_alongside(team, ref, ["stage2_outer_limit"])
    take(team, ref, ["stage2_appointments"])
    submit(team, ref, "stage2_appointments", {**STATEMENT, "agreed_on": "2026-10-30"})
    take(team, ref, ["stage2_appointments"])
    take(team, ref, ["stage2_response"])  # due Fri 4 Dec; the outer limit Mon 4 Jan
    # Never due, never late, nobody's work: the withdrawal is there to record if it comes.
    unscheduled = next(s for s in view(team, ref)["steps"] if s["step"] == "withdrawn_or_resolved")
    assert (unscheduled["status"], unscheduled["due"], unscheduled["late"]) == ("open", None, False)

    bad = {"how": "gave up", "on": "2026-11-20", "words": "x"}
    with pytest.raises(InputError, match="how"):
        submit(team, ref, "withdrawn_or_resolved", bad)
    words = "I do not want to take this further; my son has settled"
    submit(team, ref, "withdrawn_or_resolved", {"how": "withdrawn", "on": "2026-11-20", "words": words})  # fmt: skip
    progress = take(team, ref, ["stage2_response"])
    assert (progress.ended, progress.waiting) == (["stage2_response"], [])
    assert take(team, ref, ["stage2_response"]).ended == ["stage2_response"]  # a replay: the same
    seen = view(team, ref)
    status = {s["step"]: (s["status"], s["timeliness"]) for s in seen["steps"]}
    assert status["stage2_response"] == ("ended", "not needed: the case ended")
    assert status["stage2_outer_limit"] == ("ended", "not needed: the case ended")
    assert status["withdrawn_or_resolved"] == ("closed", "recorded")
    [ending] = [d for d in seen["decisions"] if d["kind"] == "ending"]
    assert (ending["value"], [r["text"] for r in ending["rationale"]], ending["author"]) == ("withdrawn", [words], "cm-1")  # fmt: skip

    # Long after both clocks would have lapsed, nobody is told of them: not the director.
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2027, 1, 20, 9, tzinfo=UTC))  # fmt: skip
    assert [w for w in report.written if w.kind in ("lapsed", "reminder")] == []
    assert not [m.subject for m in smtp.received if "Stage 2" in m.subject]
    with Session(team) as session:
        timeliness = reports.timeliness(session=session, policy=POLICY, calendar=CALENDAR, process="complaint", start=date(2026, 9, 1), end=date(2027, 1, 31), now=datetime(2027, 1, 20, tzinfo=UTC)).as_dict()  # fmt: skip
    rows = {r["step"]: r for r in timeliness["steps"]}
    assert "withdrawn_or_resolved" not in rows
    # Neither done nor overdue: the steps the withdrawal ended are not the authority's timing.
    assert {k: (r["done"], r["overdue"]) for k, r in rows.items() if k.startswith("stage2_r")} == {}


def test_resolved_after_stage_2_its_remedies_are_still_followed(team: Engine) -> None:
    ref = to_response(team)
    open_alongside(team, ref, ["withdrawn_or_resolved"])
    submit(team, ref, "stage2_response", RESPONSE)  # a remedy, reviewed on Mon 23 Nov
    take(team, ref, ["stage2_response"])
    open_alongside(team, ref, ["remedies_review"])
    take(team, ref, ["stage3_request"])
    terms = "The authority apologises in writing and reviews the plan by 20 November"
    submit(team, ref, "withdrawn_or_resolved", {"how": "resolved", "on": "2026-11-12", "words": terms})  # fmt: skip
    assert take(team, ref, ["stage3_request"]).ended == ["stage3_request"]
    status = {s["step"]: s["status"] for s in view(team, ref)["steps"]}
    assert (status["stage3_request"], status["remedies_review"]) == ("ended", "open")
    [remedy] = view(team, ref)["actions"]
    submit(team, ref, "remedies_review", {"held_on": "2026-11-23", "accounted": [{"action_id": remedy["id"], "status": "done"}]})  # fmt: skip
    assert take(team, ref, ["remedies_review"]).results == {"remedies_review": False}


@pytest.mark.parametrize(
    ("step", "payload", "said"),
    [
        (
            "stage2_response",
            {**RESPONSE, "response_received_on": "2026-11-04"},
            "response_received_on is before the response was sent",
        ),
        ("withdrawn_or_resolved", {"how": "abandoned", "on": "2026-11-20", "words": "x"}, "how"),
        ("withdrawn_or_resolved", {"how": "withdrawn", "on": "2026-11-20"}, "words"),
        ("withdrawn_or_resolved", {"how": "withdrawn", "on": "2027-01-20", "words": "x"}, "on"),
    ],
)
def test_bad_input_to_a_new_field_is_one_line_and_stores_nothing(
    team: Engine,
    run: Run,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    step: str,
    payload: dict[str, Any],
    said: str,
) -> None:
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # never reached: refused first
    ref = to_response(team)
    open_alongside(team, ref, ["withdrawn_or_resolved"])
    before = (count(team, Submission), count(team, AuditEntry))
    data = tmp_path / "input.json"
    data.write_text(json.dumps(payload))
    refused(run("record", ref, step, "--as", "cm-1", "--input", str(data)), said)
    assert (count(team, Submission), count(team, AuditEntry)) == before


@pytest.mark.parametrize(
    ("process", "step", "payload"),
    [
        ("complaint", "eligibility", {"accepted": False, "reasons": "before the courts"}),
        ("allegation", "police_review", {"held_on": "2026-11-27", "decision": "close"}),
        ("disruption", "placement_plan", {"agreed_on": "2026-11-19", "childs_wishes": "..."}),
    ],
)
def test_records_stored_before_the_new_rules_still_read(
    process: str, step: str, payload: dict[str, Any]
) -> None:
    """The new rules (the Ombudsman named in a refusal, what follows the police's closing, the
    carer's signature) are checked when recorded: what was stored before reads as it did."""
    stored = Submission(
        case_id=1,
        kind=step,
        author_id="x",
        author_role=Role.lado,
        effective_at=datetime(2026, 11, 27, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 27, tzinfo=UTC),
        payload=payload,
        schema_version=1,
    )
    data = steps.stored_input(registry.get(process).step(step), stored)
    assert data.model_dump(mode="json", exclude_none=True, exclude_defaults=True).items() >= {k: v for k, v in payload.items()}.items()  # fmt: skip

"""The stage 2 complaint on SQLite and PostgreSQL, through the engine's services as its flow drives
them: the start (standing, a year's limit, stage 1 measured, the IRO told for information), the
eligibility rules, an independent person who must be independent, each point decided, the 25-day
clock extended with an approver and the day the complainant was told, the 25-day and 65-day clocks
escalating on whichever comes first, stage 3 without the stage 2 independent person; refusals
store nothing; no notice carries a name, a complaint's text or a finding."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import cases, departures, steps
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Extension, Submission
from notifications.sweep import sweep, tell_at_once
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, start_as, submit_as, view_at
from tests.smtp import SmtpServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SECRET = "Complainant Araminta Featherstonehaugh"

TEAM = [
    ("dir-1", ("director",), None, False),
    ("hos-1", ("head_of_service",), "dir-1", False),
    ("sm-1", ("service_manager",), "hos-1", False),
    ("cm-1", ("complaints_manager",), "hos-1", False),
    ("io-1", ("investigating_officer",), "cm-1", False),
    ("ip-staff", ("independent_person",), "cm-1", False),  # an officer: not independent
    ("ip-1", ("independent_person",), None, True),
    ("ip-2", ("independent_person",), None, True),
    ("ip-3", ("independent_person",), None, True),
    ("ip-4", ("independent_person",), None, True),
    ("irom-1", ("iro_manager",), "hos-1", False),
    ("iro-1", ("iro",), "irom-1", False),
    ("sw-1", ("social_worker",), "sm-1", False),
]

START: dict[str, Any] = {
    "complainant": {"reference": SECRET, "standing": "foster_carer"},
    "child": {"child": "C-5", "iro": "iro-1", "social_worker": "sw-1"},
    "advocacy_offered": True,
    "advocacy": "declined",
    "received_on": "2026-09-01",
    "matter_known_on": "2026-08-20",
    "stage1": {"received_on": "2026-09-01", "answered_on": "2026-09-14", "response": "not upheld"},
    "stage2_requested_on": "2026-09-28",
    "complaints_manager": "cm-1",
    "summary": f"{SECRET} says the placement plan ignored her",
}


@pytest.fixture
def team(engine: Engine, smtp: SmtpServer) -> Engine:
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[
                person(sid, *roles, manager=mgr, addresses=[smtp.url(sid)], independent=ind)
                for sid, roles, mgr, ind in TEAM
            ],
        )
    return engine


def start(engine: Engine, change: dict[str, Any] | None = None) -> str:
    return start_as(engine, "complaint", "cm-1", {**START, **(change or {})}, NOW)


def take(engine: Engine, ref: str, names: list[str], sequence: int = 1) -> steps.Progress:
    return advance_case(engine, ref, names, NOW, sequence)


def submit(engine: Engine, ref: str, step: str, payload: dict[str, Any], who: str = "cm-1") -> None:
    submit_as(engine, ref, step, payload, who, NOW)


def refused(engine: Engine, ref: str, step: str, payload: dict[str, Any], message: str) -> None:
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(Submission)).one()
    with pytest.raises(InputError, match=re.escape(message)):
        submit(engine, ref, step, payload)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == before


def view(engine: Engine, ref: str) -> dict[str, Any]:
    return view_at(engine, ref, NOW)


STATEMENT = {
    "agreed_on": "2026-10-02",
    "points": [
        {"number": 1, "text": "the plan ignored the carer's view"},
        {"number": 2, "text": "no reply to letters"},
    ],
    "investigating_officer": "io-1",
    "independent_person": "ip-1",
}


RESPONSE: dict[str, Any] = {
    "io_report_on": "2026-11-02",
    "ip_report_on": "2026-11-02",
    "adjudicated_on": "2026-11-04",
    "adjudicating_officer": "sm-1",
    "findings": [
        {
            "point": 1,
            "finding": "partly_upheld",
            "rationale": "the view was noted, not weighed",
        },
        {"point": 2, "finding": "upheld"},  # no rationale: its clock starts
    ],
    "remedies": [{"title": "Apology and plan review", "owner": "sw-1", "due": "2026-11-20"}],
    "remedies_review_on": "2026-11-23",
    "response_sent_on": "2026-11-05",
    "stage3_rights_stated": True,
    "ombudsman_stated": True,
}


def test_start_and_eligibility(team: Engine, smtp: SmtpServer) -> None:
    with pytest.raises(InputError, match="sufficient_interest_reasons"):
        start(team, {"complainant": {"reference": "X", "standing": "sufficient_interest"}})
    ref = start(team)
    assert ref.startswith("CMP-2026-")
    seen = view(team, ref)
    measured = {s["step"]: s["timeliness"] for s in seen["steps"]}
    assert measured == {"stage1_response": "in time", "stage2_request_window": "in time"}
    tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=1, now=NOW)
    informed = [(m.to[0].split("@")[0], m.subject) for m in smtp.received]
    assert informed == [("iro-1", f"For information: {ref} (Complaint under the Children Act 1989 representations procedure) started Friday 27 November 2026")]  # fmt: skip

    take(team, ref, ["eligibility"])
    refused(team, ref, "eligibility", {"accepted": False}, "refusing the complaint needs reasons")
    late = start(team, {"matter_known_on": "2025-06-01", "stage2_requested_on": "2026-11-02"})
    take(team, late, ["eligibility"])
    refused(team, late, "eligibility", {"accepted": True}, "more than a year after the matter")
    refused(team, late, "eligibility", {"accepted": True, "late_complaint_reasons": "bereavement"}, "stage 2 was asked for after its window")  # fmt: skip
    submit(team, late, "eligibility", {"accepted": True, "late_complaint_reasons": "bereavement", "late_request_reasons": "in hospital"})  # fmt: skip
    assert take(team, late, ["eligibility"]).results == {"eligibility": True}


def test_the_statement_the_points_and_the_adjudication(team: Engine, smtp: SmtpServer) -> None:
    ref = start(team)
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    take(team, ref, ["stage2_appointments"])
    refused(team, ref, "stage2_appointments", {**STATEMENT, "independent_person": "ip-staff"}, "ip-staff is not recorded as independent of the authority")  # fmt: skip
    refused(team, ref, "stage2_appointments", {**STATEMENT, "points": [{"number": 2, "text": "x"}]}, "number the points 1, 2, 3")  # fmt: skip
    submit(team, ref, "stage2_appointments", STATEMENT)
    take(team, ref, ["stage2_appointments"])
    take(team, ref, ["stage2_response"])
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    assert due["stage2_response"] == "2026-11-06"  # 25 working days from Fri 2 Oct

    response = RESPONSE
    refused(team, ref, "stage2_response", {**response, "findings": response["findings"][:1]}, "point(s) 2 of the statement have no finding")  # fmt: skip
    refused(team, ref, "stage2_response", {**response, "adjudicating_officer": "cm-1"}, "cm-1 (complaints manager) is too junior")  # fmt: skip
    refused(team, ref, "stage2_response", {**response, "stage3_rights_stated": False}, "stage3_rights_stated")  # fmt: skip
    submit(team, ref, "stage2_response", response)
    assert take(team, ref, ["stage2_response"]).results == {"stage2_response": True}
    seen = view(team, ref)
    steps_now = {s["step"]: s for s in seen["steps"]}
    assert steps_now["stage2_response"]["timeliness"] == "in time"
    findings = [(d["value"], d["rationale_due"] is not None) for d in seen["decisions"] if d["kind"] == "finding"]  # fmt: skip
    assert findings == [("point 1: partly_upheld", False), ("point 2: upheld", True)]
    assert [a["title"] for a in seen["actions"]] == ["Apology and plan review"]

    # Stage 3: three independent people, not the stage 2 independent person.
    take(team, ref, ["stage3_request"])
    submit(team, ref, "stage3_request", {"requested": True, "requested_on": "2026-11-10"})
    assert take(team, ref, ["stage3_request"]).results == {"stage3_request": True}
    take(team, ref, ["stage3_panel"])
    panel = {"held_on": "2026-11-26", "members": ["ip-2", "ip-3", "ip-4"], "chair": "ip-2"}
    refused(team, ref, "stage3_panel", {**panel, "members": ["ip-1", "ip-3", "ip-4"], "chair": "ip-3"}, "ip-1 was the stage 2 independent person")  # fmt: skip
    refused(team, ref, "stage3_panel", {**panel, "members": ["ip-staff", "ip-3", "ip-4"], "chair": "ip-3"}, "ip-staff is not recorded as independent")  # fmt: skip
    submit(team, ref, "stage3_panel", panel)
    take(team, ref, ["stage3_panel"])
    take(team, ref, ["panel_report"])
    submit(team, ref, "panel_report", {"received_on": "2026-11-27", "recommendations": ["apologise"]})  # fmt: skip
    take(team, ref, ["panel_report"])
    take(team, ref, ["stage3_response"])
    refused(team, ref, "stage3_response", {"responded_on": "2026-11-27", "decided_with_stage2_ip": False, "ombudsman_stated": True}, "decided_with_stage2_ip")  # fmt: skip
    submit(team, ref, "stage3_response", {"responded_on": "2026-11-27", "decided_with_stage2_ip": True, "recommendations": [{"number": 1, "accepted": False, "reasons": "the apology was made at stage 2"}], "ombudsman_stated": True})  # fmt: skip
    take(team, ref, ["stage3_response"])

    # The stage 2 independent person (and not the panel) is sent the response, for information;
    # the child's IRO is told of it, as of the stage 2 response.
    written = tell_at_once(team, policy=POLICY, calendar=CALENDAR, case_id=1, now=NOW)
    told = sorted((w.kind, tuple(w.recipients)) for w in written)
    assert ("information", ("ip-1", "iro-1")) in told
    assert not any("ip-2" in r or "ip-3" in r for _, r in told)
    assert any(m.subject == f"For information: {ref} Local authority response to the panel, with the stage 2 independent person done Friday 27 November 2026" for m in smtp.received)  # fmt: skip


def test_a_remedy_overdue_climbs_the_complaints_ladder(team: Engine, smtp: SmtpServer) -> None:
    ref = start(team)
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    take(team, ref, ["stage2_appointments"])
    submit(team, ref, "stage2_appointments", STATEMENT)
    take(team, ref, ["stage2_appointments"])
    take(team, ref, ["stage2_response"])
    submit(team, ref, "stage2_response", {**RESPONSE, "remedies": [{"title": "Apology", "owner": "sw-1", "due": "2026-11-13"}]})  # fmt: skip
    take(team, ref, ["stage2_response"])

    # Due Fri 13 Nov, still open: the owner and the complaints manager at once, then the owner's
    # manager and the head of service (2 working days), then the director (5): never a LADO.
    def rungs(at: datetime) -> list[tuple[int, tuple[str, ...]]]:
        report = sweep(team, policy=POLICY, calendar=CALENDAR, now=at)
        return sorted((int(w.key.rsplit("/", 1)[1]), tuple(w.recipients)) for w in report.written if w.kind == "action_overdue")  # fmt: skip

    assert [r for _, r in rungs(datetime(2026, 11, 27, 13, tzinfo=UTC))] == [("cm-1", "sw-1"), ("hos-1", "sm-1"), ("dir-1",)]  # fmt: skip
    assert all("Apology" not in m.text and SECRET not in m.text for m in smtp.received)


def test_the_extension_and_whichever_clock_comes_first(team: Engine, smtp: SmtpServer) -> None:
    ref = start(team, {"stage2_requested_on": "2026-09-30"})
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    with session_scope(team) as session:  # the flow opens the outer limit alongside
        steps.open_alongside(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=["stage2_outer_limit"],
        )
    take(team, ref, ["stage2_appointments"])
    submit(team, ref, "stage2_appointments", {**STATEMENT, "agreed_on": "2026-10-30"})  # late
    take(team, ref, ["stage2_appointments"])
    take(team, ref, ["stage2_response"])
    due = {s["step"]: s["due"] for s in view(team, ref)["steps"]}
    # 25 working days from Fri 30 Oct: Fri 4 Dec; 65 from the request (Wed 30 Sep): Mon 4 Jan.
    assert (due["stage2_response"], due["stage2_outer_limit"]) == ("2026-12-04", "2027-01-04")

    # Mon 7 Dec: the 25 working days (Fri 4 Dec) came first: the response's ladder, not the limit's.
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2026, 12, 7, 9, tzinfo=UTC))  # fmt: skip
    first = sorted((w.kind, w.key.split("/")[1].split(":")[0], tuple(w.recipients)) for w in report.written if w.kind == "lapsed")  # fmt: skip
    assert first == [("lapsed", "step", ("cm-1", "hos-1"))]
    assert any("LATE (rung 1)" in m.subject and "Stage 2 investigation" in m.subject for m in smtp.received)  # fmt: skip

    def extend(to: str, approver: str, told_on: date | None = date(2026, 11, 20)) -> Extension:
        with session_scope(team) as session:
            return departures.extend(
                session,
                policy=POLICY,
                calendar=CALENDAR,
                reference=ref,
                step_name="stage2_response",
                to=to,
                reason="the independent person is ill",
                approver_id=approver,
                recorded_by="cm-1",
                now=NOW,
                recorded_at=NOW,
                told_on=told_on,
            )

    with pytest.raises(
        InputError, match="told_on is needed to extend the stage 2 investigation and adjudication"
    ):
        extend("45", "cm-1", told_on=None)
    with pytest.raises(InputError, match=r"io-1 .* is too junior"):
        extend("45", "io-1")
    extension = extend("45", "cm-1")
    assert (extension.due_on_after, extension.told_on) == (date(2027, 1, 6), date(2026, 11, 20))
    with pytest.raises(InputError, match="66 working days is past the legal maximum"):
        extend("66", "cm-1")

    # Now the outer limit (Mon 4 Jan) comes before the extended response (Wed 6 Jan): it lapses
    # first, to the complaints manager, the head of service and the director.
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2027, 1, 5, 9, tzinfo=UTC))  # fmt: skip
    lapsed = sorted((w.kind, tuple(w.recipients)) for w in report.written if w.kind == "lapsed")
    assert lapsed == [("lapsed", ("cm-1", "dir-1", "hos-1"))]
    outer = [m for m in smtp.received if "Stage 2 outer limit" in m.subject]
    assert len(outer) == 3
    assert outer and all(SECRET not in m.text + m.html for m in smtp.received)
    assert all("ignored" not in m.text and "upheld" not in m.text for m in smtp.received)


def test_deferred_while_proceedings_would_be_prejudiced(team: Engine, smtp: SmtpServer) -> None:
    """Reg 8: the outer limit stopped with a head of service's approval, reviewed, not lapsing."""
    ref = start(team, {"stage2_requested_on": "2026-09-30"})
    take(team, ref, ["eligibility"])
    submit(team, ref, "eligibility", {"accepted": True})
    take(team, ref, ["eligibility"])
    with session_scope(team) as session:
        steps.open_alongside(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=["stage2_outer_limit"],
        )

    def defer(approver: str) -> None:
        with session_scope(team) as session:
            departures.stop(
                session,
                policy=POLICY,
                calendar=CALENDAR,
                reference=ref,
                step_name="stage2_outer_limit",
                reason="care proceedings: the court's findings first",
                approver_id=approver,
                recorded_by="cm-1",
                now=NOW,
                recorded_at=NOW,
            )

    with pytest.raises(InputError, match="too junior"):
        defer("cm-1")
    defer("hos-1")
    report = sweep(team, policy=POLICY, calendar=CALENDAR, now=datetime(2027, 1, 5, 9, tzinfo=UTC))  # fmt: skip
    kinds = sorted((w.kind, tuple(w.recipients)) for w in report.written)
    assert ("lapsed", ("cm-1", "dir-1", "hos-1")) not in kinds  # stopped: the limit does not lapse
    assert ("stop_review", ("cm-1", "hos-1")) in kinds  # reviewed 28 days on

"""The allegation process true to the procedure (issue 12), on SQLite and PostgreSQL, through the
engine's services as the flow drives them: the time to outcome runs from the referral (and can be
stopped before any meeting); closing at initial consideration needs a senior manager's approval;
each child's IRO and social worker know from the start; the carer's supervising social worker is
the case's own, and nobody else in the role is told; the outcome notification says who was told,
for every child."""

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import departures, views
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Submission
from tests.builders import accept_any_address, person
from tests.cases import (
    CALENDAR,
    POLICY,
    RECEIVED,
    Inbox,
    add_team,
    at,
    open_step,
    record,
    start_case,
    sweep,
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


def refused(engine: Engine, ref: str, step: str, payload: dict, message: str, when: str) -> None:  # type: ignore[type-arg]
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(Submission)).one()
    with pytest.raises(InputError, match=re.escape(message)):
        record(engine, ref, step, payload, at(when))
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == before


def steps_of(engine: Engine, ref: str, when: str) -> dict[str, dict]:  # type: ignore[type-arg]
    with Session(engine) as session:
        seen = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=at(when))  # fmt: skip
    return {s["step"]: s for s in seen["steps"]}


def test_the_outcome_clock_runs_from_the_referral(team: Engine, smtp: SmtpServer) -> None:
    ref = start_case(team)  # referral received Mon 2 Nov 09:15
    open_step(team, ref, "outcome")  # as the flow does, first
    assert steps_of(team, ref, "2026-11-02T10:00")["outcome"]["due"] == "2026-12-02"
    # The police investigate before any meeting: the outcome clock can be stopped at once.
    with session_scope(team) as session:
        departures.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            reason="police investigation",
            approver_id="ladom-1",
            recorded_by="lado-1",
            now=at("2026-11-02T11:00"),
        )
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
    record(team, ref, "initial_consideration", THRESHOLD, at("2026-11-02T14:00"))
    open_step(team, ref, "allegation_meeting")
    outcome = {"category": "unfounded", "rationale": "r", "dbs_referral": False, "dbs_reason": "no harm"}  # fmt: skip
    refused(team, ref, "outcome", outcome, "no meeting has found the case ready for outcome", "2026-11-03T09:00")  # fmt: skip
    record(team, ref, "allegation_meeting", {"held_on": "2026-11-04", "attendees": ["lado"], "ready_for_outcome": True}, at("2026-11-04T15:00"))  # fmt: skip
    record(team, ref, "outcome", outcome, at("2026-11-05T10:00"))
    done = steps_of(team, ref, "2026-11-05T11:00")["outcome"]
    assert (done["status"], done["timeliness"]) == ("closed", "in time")


def test_closing_at_initial_consideration_needs_a_senior_managers_approval(team: Engine) -> None:
    ref = start_case(team)
    open_step(team, ref, "outcome")
    nfa = {"threshold_met": False, "route": "no_further_action", "rationale": "patently unfounded"}
    refused(team, ref, "initial_consideration", {**nfa, "approved_by": "lado-2"}, "lado-2 (lado) is too junior", "2026-11-02T14:00")  # fmt: skip
    refused(team, ref, "initial_consideration", nfa, "needs approved_by", "2026-11-02T14:00")
    record(team, ref, "initial_consideration", {**nfa, "approved_by": "ladom-1"}, at("2026-11-02T14:00"))  # fmt: skip
    with Session(team) as session:
        seen = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=at("2026-11-02T15:00"))  # fmt: skip
    assert [(d["kind"], d["value"]) for d in seen["decisions"]] == [
        ("threshold_and_route", "threshold not met; route: no_further_action"),
        ("closure_approved", "approved by ladom-1"),
    ]
    outcome = {s["step"]: s for s in seen["steps"]}["outcome"]
    assert outcome["status"] == "closed"  # concluded here: the time to outcome ends


def test_the_iro_and_social_worker_know_from_the_start_and_the_ssw_is_the_cases_own(
    team: Engine, smtp: SmtpServer
) -> None:
    ref = start_case(team)
    open_step(team, ref, "outcome")
    inbox = Inbox(smtp)
    sweep(team, at("2026-11-02T10:00"))
    assert inbox.new() == [("iro-1", "For information"), ("sw-1", "For information")]
    record(team, ref, "initial_consideration", THRESHOLD, at("2026-11-02T14:00"))
    open_step(team, ref, "allegation_meeting")
    record(team, ref, "allegation_meeting", {"held_on": "2026-11-04", "attendees": ["lado"], "ready_for_outcome": True}, at("2026-11-04T15:00"))  # fmt: skip
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
    with Session(team) as session:
        seen = views.case_view(session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=at("2026-11-06T13:00"))  # fmt: skip
    assert ("parents_not_told", "child C-9 Zebedee Quartermain") in [(d["kind"], d["value"]) for d in seen["decisions"]]  # fmt: skip

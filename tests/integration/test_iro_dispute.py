"""The IRO's challenge on SQLite and PostgreSQL, through the engine's services as its flow drives
them: who may start one and for which child, a case it is about linked both ways, a decision
recorded in a line with its reasons, the figures of the IRO service's report over a period
(raised, by category, where each ended, Cafcass, stages passed over, the 20 working days, the
IROs' acknowledgements), and the report's refusals. Refusals store nothing."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import figures
from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Case
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, start_as, submit_as, view_at
from tests.smtp import SmtpServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

TEAM = [
    ("dir-1", ("director",), None),
    ("hos-1", ("head_of_service",), "dir-1"),
    ("sm-1", ("service_manager",), "hos-1"),
    ("tm-1", ("team_manager",), "sm-1"),
    ("sw-1", ("social_worker",), "tm-1"),
    ("irom-1", ("iro_manager",), "hos-1"),
    ("iro-1", ("iro",), "irom-1"),
    ("iro-2", ("iro",), "irom-1"),
]


def challenge(child: str, category: str = "contact", **more: Any) -> dict[str, Any]:
    return {
        "child": {"child": child, "iro": "iro-1", "social_worker": "sw-1"},
        "team_manager": "tm-1",
        "category": category,
        "issue": "no contact for a month",
        "resolution_sought": "contact restarted",
        "first_raised_on": "2026-11-02",
        **more,
    }


@pytest.fixture
def team(engine: Engine, smtp: SmtpServer) -> Engine:
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[
                person(sid, *roles, manager=mgr, addresses=[smtp.url(sid)])
                for sid, roles, mgr in TEAM
            ],
        )
    return engine


def record(engine: Engine, ref: str, step: str, data: dict[str, Any], who: str, sequence: int = 1) -> None:  # fmt: skip
    advance_case(engine, ref, [step], NOW, sequence)
    submit_as(engine, ref, step, data, who, NOW)
    advance_case(engine, ref, [step], NOW, sequence)


def counted(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


def test_who_may_start_and_for_which_child(team: Engine) -> None:
    with pytest.raises(InputError, match="may not start an IRO challenge"):
        start_as(team, "iro_dispute", "tm-1", challenge("C-1"), NOW)
    external = {**challenge("C-1"), "child": {"child": "C-1", "placed_by": "Westshire", "contact": "duty IRO"}}  # fmt: skip
    with pytest.raises(InputError, match="a child this authority looks after"):
        start_as(team, "iro_dispute", "iro-1", external, NOW)
    with pytest.raises(InputError, match="tm-1"):  # the team manager must hold the role
        start_as(team, "iro_dispute", "iro-1", {**challenge("C-1"), "team_manager": "sw-1"}, NOW)
    assert counted(team) == 0
    ref = start_as(team, "iro_dispute", "irom-1", challenge("C-1"), NOW)  # on the IRO's behalf
    assert view_at(team, ref, NOW)["lead"] == "iro-1"  # the child's IRO leads it


def test_the_case_it_is_about_is_linked_both_ways(team: Engine) -> None:
    other = start_as(team, "iro_dispute", "iro-1", challenge("C-2"), NOW)
    ref = start_as(team, "iro_dispute", "iro-1", challenge("C-2", about_case=other, about_item="its plan"), NOW)  # fmt: skip
    assert [link["reference"] for link in view_at(team, ref, NOW)["links"]] == [other]
    assert [link["reference"] for link in view_at(team, other, NOW)["links"]] == [ref]
    with pytest.raises(InputError, match="no case 'DIS-2026-9999'"):
        start_as(team, "iro_dispute", "iro-1", challenge("C-2", about_case="DIS-2026-9999"), NOW)
    # the other challenge for the same child shows this one's flag, and this one the other's
    assert [f["reference"] for f in view_at(team, other, NOW)["flags"]] == [ref]


def test_the_iro_services_figures_over_a_period(team: Engine) -> None:
    # One resolved at the team manager's stage; one past the service manager to the head of
    # service, referred to Cafcass; one still informal, about the care plan.
    resolved = start_as(team, "iro_dispute", "iro-1", challenge("C-3"), NOW)
    record(team, resolved, "informal_resolution", {"raised_with": "both", "discussed_on": "2026-11-04", "answer": "no", "resolved": False, "why": "w", "next_stage": "team_manager", "alerted_on": "2026-11-04"}, "iro-1")  # fmt: skip
    advance_case(team, resolved, ["formal_total"], NOW)  # the flow opens it beside the stages
    long_reason = "contact restarts on Monday " + "x" * 150  # a decision in a line: 200 at most
    record(team, resolved, "formal_team_manager", {"responded_on": "2026-11-09", "decision": long_reason[:200], "reasons": "the plan says so"}, "tm-1")  # fmt: skip
    record(team, resolved, "response_considered", {"considered_on": "2026-11-10", "resolved": True, "why": "agreed"}, "iro-1", 1)  # fmt: skip
    climbed = start_as(team, "iro_dispute", "iro-1", challenge("C-4"), NOW)
    record(team, climbed, "informal_resolution", {"raised_with": "not_raised", "discussed_on": "2026-11-03", "resolved": False, "why": "w", "passed_over_because": "urgent", "next_stage": "team_manager", "alerted_on": "2026-11-03"}, "iro-1")  # fmt: skip
    advance_case(team, climbed, ["formal_total"], NOW)
    record(team, climbed, "formal_team_manager", {"responded_on": "2026-11-05", "decision": "no", "reasons": "r"}, "tm-1")  # fmt: skip
    record(team, climbed, "response_considered", {"considered_on": "2026-11-06", "resolved": False, "why": "w", "next_stage": "head_of_service", "responder": "hos-1", "alerted_on": "2026-11-06", "passed_over_because": "urgent"}, "iro-1", 1)  # fmt: skip
    record(team, climbed, "cafcass_referral", {"referred_on": "2026-11-09", "reason": "r"}, "iro-1")  # fmt: skip
    start_as(team, "iro_dispute", "iro-1", challenge("C-5", "care_plan"), NOW)
    with Session(team) as session:
        found = figures.figures(session=session, policy=POLICY, calendar=CALENDAR, name="iro", start=date(2026, 11, 1), end=date(2026, 11, 30), now=NOW)  # fmt: skip
    said = {f.label: f.value for f in found.figures}
    assert found.title == "The IRO service's figures"
    assert said["Challenges raised"] == 3
    assert (said["About: contact"], said["About: the care plan"]) == (2, 1)
    assert said["Resolved at the team manager's stage"] == 1
    assert said["Resolved informally"] == 0 and said["Not ended yet"] == 2
    assert said["Median working days from first raised to resolved"] == 6  # 2 Nov to 10 Nov
    assert said["Formal processes ended within 20 working days"] == 1
    assert said["Stages passed over"] == 2  # the informal stage, and the service manager's
    assert said["Referrals to Cafcass"] == 1
    assert said["Escalation notices to IROs"] == 0
    with Session(team) as session:  # a period before any of them: nothing raised
        before = figures.figures(session=session, policy=POLICY, calendar=CALENDAR, name="iro", start=date(2026, 1, 1), end=date(2026, 3, 31), now=NOW)  # fmt: skip
    assert {f.label: f.value for f in before.figures}["Challenges raised"] == 0
    with Session(team) as session, pytest.raises(InputError, match="'nonsense' is not a report"):
        figures.figures(session=session, policy=POLICY, calendar=CALENDAR, name="nonsense", start=date(2026, 1, 1), end=date(2026, 3, 31), now=NOW)  # fmt: skip

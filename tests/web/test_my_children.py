"""The IRO's picture of their children (My children), and the flag that follows a child while a
challenge is open for them: on every other case of the child (its page and `case show`), and as a
filter of the board. Pages over a real database, as the browser gets them."""

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from models import accounts, cases, steps
from models.db import session_scope
from tests.cases import CALENDAR, POLICY, add_team, at, start_as, start_case
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps

CHILD = "C-9 Zebedee Quartermain"  # the test team's allegation names this child


def challenge(child: str = CHILD) -> dict[str, object]:
    return {
        "child": {"child": child, "iro": "iro-1", "social_worker": "sw-1"},
        "team_manager": "tm-1",
        "category": "care_plan",
        "issue": "the plan says weekly contact; none for a month",
        "resolution_sought": "contact restarted",
        "first_raised_on": "2026-11-02",
    }


@pytest.fixture
def site(engine: Engine, smtp: SmtpServer) -> TestClient:
    """An allegation about the child; an IRO challenge for the same child, its informal stage
    open; another allegation about a child with no challenge."""
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("iro-1", "irom-1", "tm-1", "hos-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    start_case(engine)
    start_case(engine, children=[{"child": "C-10", "iro": "iro-1", "social_worker": "sw-1"}])
    ref = start_as(engine, "iro_dispute", "iro-1", challenge(), at("2026-11-03T09:00"))
    with session_scope(engine) as session:
        case_id = cases.get_case(session, ref).id or 0
        steps.open_steps(session=session, policy=POLICY, calendar=CALENDAR, case_id=case_id, names=["informal_resolution"], now=at("2026-11-03T09:00"))  # fmt: skip
    app = create_app(
        WebDeps(
            engine=engine,
            policy=POLICY,
            calendar=CALENDAR,
            clock=Clock(at("2026-11-12T10:00")),
            secret=b"k" * 32,
        )
    )
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def words(html: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return unescape(re.sub(r" ([,.:])", r"\1", text))


def test_my_children_shows_each_child_with_every_open_case_worst_first(site: TestClient) -> None:
    assert site.get("/my-children").status_code == 303  # signed out: sign in first
    sign_in(site, "iro-1")
    page = site.get("/my-children")
    assert page.status_code == 200
    said = words(page.text)
    # the child with a late step (the challenge's informal stage was due Mon 9 Nov) comes first
    assert said.index(CHILD) < said.index("C-10")
    assert "IRO dispute resolution open: IRO-2026-0001, at informal resolution" in said
    first = said[said.index(CHILD) : said.index("C-10")]
    assert "ALG-2026-0001" in first and "IRO-2026-0001" in first and "Late" in first
    assert "ALG-2026-0002" not in first  # the other child's allegation is under C-10
    assert 'href="/my-children"' in site.get("/my-work").text  # in the IRO's menu
    assert "Start an IRO challenge" in site.get("/my-work").text


def test_an_iro_manager_sees_it_for_each_iro_they_manage(site: TestClient) -> None:
    sign_in(site, "irom-1")
    said = words(site.get("/my-children").text)
    assert "Staff iro-1's children: 2" in said and "IRO-2026-0001" in said


def test_my_children_is_for_the_iro_service_only(site: TestClient) -> None:
    sign_in(site, "tm-1")
    page = site.get("/my-children")
    assert page.status_code == 403 and "This page is for IROs and IRO managers" in page.text
    assert 'href="/my-children"' not in site.get("/my-work").text


def test_every_other_case_of_the_child_shows_the_challenge_and_the_board_filters_by_it(
    site: TestClient, engine: Engine
) -> None:
    sign_in(site, "iro-1")  # a party to each case (a manager would be asked why first)
    page = words(site.get("/cases/ALG-2026-0001").text)
    assert f"An IRO challenge is open for {CHILD}: IRO-2026-0001" in page
    assert "An IRO challenge is open" not in words(site.get("/cases/ALG-2026-0002").text)
    assert "An IRO challenge is open" not in words(site.get("/cases/IRO-2026-0001").text)
    sign_in(site, "hos-1")
    board = site.get("/board?flagged=yes").text
    assert "ALG-2026-0001" in board and "IRO-2026-0001" in board
    assert "ALG-2026-0002" not in board
    assert "ALG-2026-0002" in site.get("/board").text
    with session_scope(engine) as session:  # the challenge closed: the flag goes with it
        cases.close_case(session=session, case_id=cases.get_case(session, "IRO-2026-0001").id or 0, now=at("2026-11-12T09:00"))  # fmt: skip
    assert "ALG-2026-0001" not in site.get("/board?flagged=yes").text
    sign_in(site, "iro-1")
    assert "An IRO challenge is open" not in words(site.get("/cases/ALG-2026-0001").text)


def test_the_iro_services_figures_page_and_its_csv(site: TestClient) -> None:
    sign_in(site, "iro-1")
    assert site.get("/reports/iro").status_code == 403  # managers only
    sign_in(site, "hos-1")
    page = site.get("/reports/iro?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    said = words(page.text)
    assert "The IRO service's figures" in said
    assert "From Sunday 1 November 2026 to Monday 30 November 2026" in said
    assert "Challenges raised Figure Number Challenges raised 1 About: the care plan 1" in said
    assert 'href="/reports/iro"' in site.get("/timeliness").text  # found from the timeliness page
    csv = site.get("/reports/iro.csv?from=2026-11-01&to=2026-11-30")
    assert csv.text.splitlines()[:2] == [
        "section,figure,value",
        "Challenges raised,Challenges raised,1",
    ]
    assert site.get("/reports/nonsense").status_code == 404
    refused = site.get("/reports/iro?from=2026-13-01")
    assert refused.status_code == 404 and "Enter the dates as year-month-day" in refused.text

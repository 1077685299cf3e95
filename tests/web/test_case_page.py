"""The case page says what the case is about (its start's facts in the declaration's words, people
by name, narrative as text), what happened in order (a timeline, newest or oldest first), and
offers only what can be recorded now: a step still waiting for an earlier one is shown waiting,
and its form refuses. A new case's page says its first step is being opened and refreshes."""

import re
from datetime import datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from models import cases, steps
from models.db import session_scope
from tests.cases import CALENDAR, POLICY, add_team, at, record, start_case
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps

MARKUP = "<script>alert('x')</script> & <b>bold</b>"


def consideration() -> dict[str, object]:
    return {
        "threshold_met": True,
        "limbs": ["harm"],
        "route": "allegation_meeting",
        "rationale": "a mark seen by the school",
    }


@pytest.fixture
def site(engine: Engine, smtp: SmtpServer) -> TestClient:
    """An allegation whose summary holds markup, its initial consideration recorded, the outcome
    open beside the meeting (the outcome waits for a meeting that finds the case ready)."""
    from models import accounts

    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("lado-1", "ladom-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    ref = start_case(engine, summary=f"First line {MARKUP}\nSecond line")
    record(engine, ref, "initial_consideration", consideration(), at("2026-11-02T16:00"))
    with session_scope(engine) as session:
        case_id = cases.get_case(session, ref).id or 0
        steps.open_steps(session=session, policy=POLICY, calendar=CALENDAR, case_id=case_id, names=["allegation_meeting", "outcome"], now=at("2026-11-02T16:05"))  # fmt: skip
    clock = Clock(at("2026-11-03T10:00"))
    app = create_app(
        WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32)
    )
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def section(page: str, heading_id: str) -> str:
    """The page's text from a heading to the next h2."""
    start = page.index(f'id="{heading_id}"')
    end = page.find("<h2", start)
    return page[start : end if end > 0 else None]


def words(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def test_the_case_page_says_what_the_case_is_about(site: TestClient) -> None:
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001").text
    about = section(page, "about")
    said = words(about)
    # the start's facts in the declaration's words, values as people read them
    assert "When the LADO received the referral 2 November 2026 at 09:15" in said
    assert "Date the organisation became aware Monday 2 November 2026" in said
    assert "Fostering service Northshire Fostering" in said
    assert "supervising social worker Staff ssw-1" in said  # by name (the test team's names)
    # narrative is text: the markup escaped, its line breaks kept
    assert "<script>" not in about and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in about
    assert "app-text" in about and "Second line" in about
    # people by name in the summary too
    assert "IRO Staff iro-1, social worker Staff sw-1" in words(page)


def test_the_timeline_lists_what_happened_newest_first_or_oldest_first(site: TestClient) -> None:
    sign_in(site, "lado-1")
    newest = words(section(site.get("/cases/ALG-2026-0001").text, "timeline"))
    oldest = words(section(site.get("/cases/ALG-2026-0001?order=oldest").text, "timeline"))
    expected = [
        "Case opened by Staff lado-1",
        "The LADO received the referral",
        "Initial consideration and threshold decision: opened, due Tuesday 3 November 2026",
        "Initial consideration and threshold decision: done by Staff lado-1",
        "Rationale added: threshold and route by Staff lado-1 a mark seen by the school",
        "Conclude and categorise the outcome: opened",
    ]
    for text in expected:
        assert text in newest and text in oldest, text
    order = [oldest.index(t) for t in expected[:1] + expected[2:4]]
    assert order == sorted(order)
    order = [newest.index(t) for t in expected[:1] + expected[2:4]]
    assert order == sorted(order, reverse=True)
    assert (
        "What happened Oldest first." in oldest[:60]
        and "What happened Newest first." in newest[:60]
    )


def test_a_step_waiting_for_an_earlier_one_is_shown_waiting_and_its_form_refuses(
    site: TestClient,
) -> None:
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001").text
    offered = section(page, "to-record")
    assert 'href="/cases/ALG-2026-0001/record/allegation_meeting"' in offered
    assert "/record/outcome" not in offered  # no link to a form that would be refused
    assert "Waiting" in offered
    assert "after a meeting or review that finds the case ready for its outcome" in words(offered)
    form = site.get("/cases/ALG-2026-0001/record/outcome")
    assert form.status_code == 409
    assert "cannot be recorded yet" in form.text and "<form" not in words(form.text)
    assert 'name="category"' not in form.text


def test_a_new_case_says_its_first_step_is_being_opened(engine: Engine, smtp: SmtpServer) -> None:
    from models import accounts

    add_team(engine, smtp)
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="lado-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
        cases.start_case(session=session, policy=POLICY, calendar=CALENDAR, process="allegation", author_id="lado-1", payload=_start(), now=at("2026-11-02T09:15"))  # fmt: skip
    clock = Clock(at("2026-11-02T09:15"))
    app = create_app(
        WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32)
    )
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(client, "lado-1")
    page = client.get("/cases/ALG-2026-0001").text
    assert "Its first step is being opened." in page
    assert "window.location.reload()" in page  # it refreshes itself
    # the flow never came: after a minute it says so, and stops refreshing
    clock.now = at("2026-11-02T09:30")
    page = client.get("/cases/ALG-2026-0001").text
    assert "Its first step has not been opened yet." in page
    assert "window.location.reload()" not in page


def _start() -> dict[str, object]:
    return {
        "received_at": datetime(2026, 11, 2, 9, 15).isoformat(),
        "aware_on": "2026-11-02",
        "carer": "FC-77",
        "fostering_service": "Northshire Fostering",
        "supervising_social_worker": "ssw-1",
        "children": [{"child": "C-9", "iro": "iro-1", "social_worker": "sw-1"}],
        "category": "physical",
        "summary": "a bruise",
    }


def test_a_case_is_found_by_its_own_a_childs_or_a_carers_reference(
    site: TestClient, engine: Engine
) -> None:
    from sqlmodel import Session, func, select

    from models.tables import CaseView
    from tests.cases import CARER_NAME, CHILD_NAME

    sign_in(site, "lado-1")
    with Session(engine) as session:
        viewed = session.exec(select(func.count()).select_from(CaseView)).one()
    for query, how in [
        ("alg-2026-0001", "Case reference"),
        (f"c-9 {CHILD_NAME}", "Child&#39;s reference"),
        (f"FC-77 {CARER_NAME.upper()}", "Carer&#39;s reference"),
    ]:
        page = site.get("/search", params={"q": query})
        assert page.status_code == 200
        found = section(page.text, "results")
        assert "1 case found" in found and 'href="/cases/ALG-2026-0001"' in found, query
        assert how in found
        assert "You will be asked why" not in found  # the LADO leads it
    with Session(engine) as session:  # finding a case opens nothing
        assert session.exec(select(func.count()).select_from(CaseView)).one() == viewed
    nothing = site.get("/search", params={"q": "C-404"})
    assert "No case found for C-404" in nothing.text
    blank = site.get("/search", params={"q": "  "})
    assert blank.status_code == 400
    assert (
        "Enter a case reference, a child&#39;s reference or a carer&#39;s reference" in blank.text
    )
    assert 'href="#q"' in blank.text  # the error summary leads to the field


def test_a_search_says_where_opening_asks_why_and_keeps_a_case_off_the_carers_file(
    site: TestClient, engine: Engine
) -> None:
    """Someone with no part in an allegation finds it, told they will be asked why; an allegation
    found malicious is not found by the carer's reference but by those who lead such cases."""
    from models import accounts
    from tests.cases import CARER_NAME, open_step
    from tests.integration.test_allegation_procedure import found_ready

    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="tm-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    ref = start_case(engine)
    open_step(engine, ref, "outcome")
    found_ready(engine, ref)
    record(engine, ref, "outcome", {"category": "malicious", "rationale": "r", "dbs_referral": False, "dbs_reason": "x"}, at("2026-11-05T10:00"))  # fmt: skip
    carer = f"FC-77 {CARER_NAME}"
    sign_in(site, "tm-1")
    found = section(site.get("/search", params={"q": carer}).text, "results")
    assert "1 case found" in found and "ALG-2026-0001" in found and ref not in found
    assert "You will be asked why you need to open it" in found
    mine = section(site.get("/search", params={"q": ref}).text, "results")
    assert "1 case found" in mine  # by its own reference, it is found
    site.cookies.clear()
    sign_in(site, "lado-1")
    found = section(site.get("/search", params={"q": carer}).text, "results")
    assert "2 cases found" in found and ref in found


def test_a_staff_field_offers_only_those_its_check_accepts(
    engine: Engine, smtp: SmtpServer
) -> None:
    """The initial consideration's approver: those the policy's approver roles name (a LADO
    manager, the head of service), by name with their roles and team; never the LADO recording it,
    nor anyone junior; someone who has left is not offered."""
    from models import accounts, handover

    add_team(engine, smtp)
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="lado-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    start_case(engine)
    clock = Clock(at("2026-11-02T10:00"))
    app = create_app(
        WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32)
    )
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(client, "lado-1")
    form = client.get("/cases/ALG-2026-0001/record/initial_consideration").text
    select = form[form.index('id="approved_by"') : form.index("</select>", form.index('id="approved_by"'))]  # fmt: skip
    offered = re.findall(r'<option value="([^"]*)"', select)
    assert offered == ["", "hos-1", "ladom-1"]  # "Choose a person", then by name
    assert "Staff ladom-1 (LADO manager; Staff hos-1&#39;s team)" in select
    with session_scope(engine) as session:
        handover.leave(session=session, policy=POLICY, calendar=CALENDAR, staff_id="hos-1", on=clock.now.date(), successor=None, actor_id=None, now=clock.now)  # fmt: skip
    form = client.get("/cases/ALG-2026-0001/record/initial_consideration").text
    select = form[form.index('id="approved_by"') : form.index("</select>", form.index('id="approved_by"'))]  # fmt: skip
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "ladom-1"]


def test_a_case_event_is_recorded_in_the_browser_with_the_clis_rules(
    site: TestClient, engine: Engine
) -> None:
    """The carer's resignation (item 3): offered on the case page to those who may record it, on
    a form asking the day; a day to come refused on the field; recorded once, on the timeline with
    what follows from it (approval ends 28 days on); a second refused."""
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001").text
    offered = words(section(page, "happened"))
    assert "Record: The carer's written notice of resignation received" in offered
    form = site.get("/cases/ALG-2026-0001/event/resignation_received")
    assert form.status_code == 200 and "Then: the carer's approval ends" in unescape(form.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]

    def post(day: str, month: str, year: str) -> "object":
        return site.post(
            "/cases/ALG-2026-0001/event/resignation_received",
            data={
                "csrf_token": csrf,
                "on-day": day,
                "on-month": month,
                "on-year": year,
                "save": "1",
            },
        )

    to_come = post("4", "11", "2026")  # today is 3 November
    assert to_come.status_code == 400 and 'href="#on"' in to_come.text  # type: ignore[attr-defined]
    assert "cannot be in the future" in to_come.text or "in the future" in to_come.text  # type: ignore[attr-defined]
    blank = post("", "", "")
    assert blank.status_code == 400 and "Enter the day it happened" in blank.text  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        assert "resignation_received_on" not in cases.details_of(cases.get_case(session, "ALG-2026-0001"))  # fmt: skip

    done = post("3", "11", "2026")
    assert done.status_code == 303  # type: ignore[attr-defined]
    shown = site.get(done.headers["location"]).text  # type: ignore[attr-defined]
    assert "Saved: what happened is on the case" in shown
    timeline = words(section(shown, "timeline"))
    assert "The carer's written notice of resignation was received" in timeline
    assert "1 December 2026 The carer's approval ends (28 days after their notice)" in timeline
    again = post("3", "11", "2026")
    assert again.status_code == 400 and "is already recorded (3 November 2026)" in again.text  # type: ignore[attr-defined]

    # The child's social worker may not record it: not offered, and refused if posted.
    site.cookies.clear()
    with session_scope(engine) as session:
        from models import accounts

        accounts.set_password(session, staff_id="sw-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    sign_in(site, "sw-1")
    assert 'id="happened"' not in site.get("/cases/ALG-2026-0001").text

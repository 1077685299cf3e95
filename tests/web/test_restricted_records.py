"""Restricted records (issue 22, part 5), on SQLite and PostgreSQL: a LADO manager restricts an
allegation about one of the council's own staff, with a ground and a reason; from then on only the
people working on it and the managers above them may open it. Anyone else is refused on every page
of the case, their attempt kept in its access log for the LADO manager; the board and search show
it as restricted, never its children or its summary. Restricting and lifting are decisions on the
case and in the audit log."""

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import accounts
from models.db import session_scope
from models.tables import AuditEntry, CaseView
from tests.cases import CALENDAR, CARER_NAME, CHILD_NAME, POLICY, add_team, at, start_case
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, csrf_of, sign_in
from web.app import create_app
from web.deps import WebDeps

PEOPLE = ("ladom-1", "lado-1", "lado-2", "iro-1", "irom-1", "hos-1", "adm-1", "sw-1")


@pytest.fixture
def case(engine: Engine, smtp: SmtpServer) -> str:
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in PEOPLE:
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    return start_case(engine)


def as_(engine: Engine, who: str) -> TestClient:
    deps = WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=Clock(at("2026-11-03T10:00")), secret=b"r" * 32)  # fmt: skip
    client = TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)
    assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
    return client


def words(page: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def opened(client: TestClient, ref: str) -> "object":
    """The case page, giving a reason first where the case asks one (no part in it)."""
    page = client.get(f"/cases/{ref}")
    if page.status_code == 303 and page.headers["location"].endswith("/reason"):
        form = client.get(page.headers["location"])
        assert form.status_code == 200
        page = client.post(page.headers["location"], data={"csrf_token": csrf_of(form.text), "reason": "I manage this work"})  # fmt: skip
    return page


def restrict(client: TestClient, ref: str, **form: str) -> "object":
    page = client.get(f"/cases/{ref}/restriction")
    return client.post(f"/cases/{ref}/restriction", data={"csrf_token": csrf_of(page.text), **form})


def test_a_restricted_case_opens_for_its_people_only(engine: Engine, case: str) -> None:
    manager = as_(engine, "ladom-1")
    page = opened(manager, case)
    assert 'id="restrict"' in page.text  # a LADO manager is offered it
    assert 'id="restrict"' not in as_(engine, "lado-1").get(f"/cases/{case}").text
    form = manager.get(f"/cases/{case}/restriction")
    assert form.status_code == 200 and "Why is it restricted?" in form.text
    refused = manager.post(f"/cases/{case}/restriction", data={"csrf_token": csrf_of(form.text), "reason": " "})  # fmt: skip
    assert refused.status_code == 400
    said = words(refused.text)
    assert "Choose why the case is restricted" in said
    assert "Enter the reason for restricting the case" in said
    done = restrict(manager, case, ground="related", reason="The carer's son works in the LADO team.")  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("?done=restricted")
    page = words(manager.get(done.headers["location"]).text)  # the reason given stands
    assert "The case is restricted: only the people working on it and their managers can open it" in page  # fmt: skip
    assert "Restricted: the carer or a child is related to a member of staff Staff ladom-1" in page
    assert "The carer's son works in the LADO team." in page

    # another LADO, and a manager above no one in the case: refused on every page of the case
    for outsider in ("lado-2", "adm-1"):
        client = as_(engine, outsider)
        for path in (f"/cases/{case}", f"/cases/{case}/record/initial_consideration", f"/cases/{case}/reason"):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code == 403, (outsider, path)
            assert "This case is restricted" in answer.text
            assert CHILD_NAME not in answer.text and "C-9" not in answer.text
    # its people and the managers above them open it
    for insider in ("lado-1", "iro-1", "sw-1", "irom-1", "hos-1"):
        assert opened(as_(engine, insider), case).status_code == 200, insider
    # the LADO manager sees each refused attempt in its access log
    log = words(opened(manager, case).text).split("Access log", 1)[1]
    assert log.count("Refused the case is restricted") == 6
    assert "Staff lado-2" in log and "Staff adm-1" in log
    with Session(engine) as session:
        assert len(session.exec(select(CaseView).where(col(CaseView.refused))).all()) == 6


def test_the_board_and_search_show_it_as_restricted(engine: Engine, case: str) -> None:
    restrict(as_(engine, "ladom-1"), case, ground="staff", reason="The carer is a member of staff.")
    outsider = as_(engine, "lado-2")
    found = words(outsider.get("/search", params={"q": case}).text)
    assert f"1 case found for {case}" in found and "Restricted Only the people working on it" in found  # fmt: skip
    assert f'href="/cases/{case}"' not in outsider.get("/search", params={"q": case}).text
    child, carer = f"C-9 {CHILD_NAME}", f"FC-77 {CARER_NAME}"
    assert f"No case found for {child}" in words(outsider.get("/search", params={"q": child}).text)
    assert f"No case found for {carer}" in words(outsider.get("/search", params={"q": carer}).text)
    insider = as_(engine, "iro-1")
    assert f'href="/cases/{case}"' in insider.get("/search", params={"q": child}).text
    board = as_(engine, "hos-1").get("/board")
    row = board.text.split(f'href="/cases/{case}"', 1)[1].split("</tr>", 1)[0]
    assert "Restricted" in row and CHILD_NAME not in board.text


def test_only_its_managers_decide_and_lifting_is_a_decision(engine: Engine, case: str) -> None:
    lado = as_(engine, "lado-1")
    assert lado.get(f"/cases/{case}/restriction").status_code == 403
    page = lado.get(f"/cases/{case}")
    posted = lado.post(f"/cases/{case}/restriction", data={"csrf_token": csrf_of(page.text), "ground": "staff", "reason": "x"})  # fmt: skip
    assert posted.status_code == 400
    assert "Only a LADO manager may restrict a case (lado-1 is not one)" in words(posted.text)
    manager = as_(engine, "ladom-1")
    restrict(manager, case, ground="staff", reason="The carer is a member of staff.")
    again = restrict(manager, case, ground="staff", reason="twice", lifting="")
    assert again.status_code == 400  # already restricted: the form now lifts it, without a reason
    lifted = restrict(manager, case, lifting="yes", reason="The carer has left the council.")
    assert lifted.status_code == 303 and lifted.headers["location"].endswith("?done=lifted")
    assert as_(engine, "lado-2").get(f"/cases/{case}").status_code == 303  # asks why, as before
    with Session(engine) as session:
        about = col(AuditEntry.action).like("case.restrict%")
        actions = session.exec(select(AuditEntry.action, AuditEntry.actor_id).where(about)).all()
    assert list(actions) == [("case.restricted", "ladom-1"), ("case.restriction_lifted", "ladom-1")]

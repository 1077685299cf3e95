"""The first run (issue 20, item 14): with nobody in the staff directory, the service makes a
one-time link, and the web app asks there for the first administrator; then never again. On SQLite
and PostgreSQL, through HTTP."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import first_run
from models.db import session_scope
from models.enums import Role
from models.tables import AuditEntry, Staff, StaffRole
from tests.cases import CALENDAR, POLICY, at
from tests.web.test_web_security import Clock, csrf_of
from web.app import create_app
from web.deps import WebDeps

PASSWORD = "plain words make a long password"


def app_on(engine: Engine, clock: Clock) -> TestClient:
    app = create_app(WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32))  # fmt: skip
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def link(engine: Engine, when: str) -> str | None:
    with session_scope(engine) as session:
        return first_run.setup_link(session, at(when))


def test_the_first_administrator_is_set_up_once_through_the_printed_link(engine: Engine) -> None:
    clock = Clock(at("2026-12-07T09:00"))
    site = app_on(engine, clock)
    replaced, token = link(engine, "2026-12-07T08:00"), link(engine, "2026-12-07T08:59")
    assert replaced and token and replaced != token
    # A link replaced by a newer one (the service started again) opens nothing.
    assert "This setup link does not work" in site.get(f"/setup/{replaced}").text

    page = site.get(f"/setup/{token}")
    assert page.status_code == 200 and "Set up Safeguard" in page.text
    assert 'value="head_of_service" checked' in page.text  # the role most set up with
    last = [page.text]

    def post(data: dict[str, str]) -> "object":
        """Post the form as the last page gave it (each page pairs a fresh token with its cookie)."""
        answer = site.post(f"/setup/{token}", data={**data, "csrf_token": csrf_of(last[0])})
        last[0] = answer.text
        return answer

    # Nothing given: each field says what to enter, nothing is stored.
    empty = post({})
    assert empty.status_code == 400
    for said in ("Enter your staff id", "Enter your full name", "Choose your role", "Enter a password"):  # fmt: skip
        assert said in empty.text
    # Passwords that differ; an id that is not one; a password too short: refused, on the field.
    form = {"staff_id": "ahughes", "name": "Alex Hughes", "role": "head_of_service"}
    differ = post({**form, "password": PASSWORD, "again": PASSWORD + "x"})
    assert differ.status_code == 400 and "The two passwords differ" in differ.text  # type: ignore[attr-defined]
    bad_id = post({**form, "staff_id": "Alex Hughes", "password": PASSWORD, "again": PASSWORD})
    assert bad_id.status_code == 400 and 'href="#staff_id"' in bad_id.text  # type: ignore[attr-defined]
    assert 'value="Alex Hughes"' in bad_id.text  # type: ignore[attr-defined]  # kept to correct
    short = post({**form, "password": "short", "again": "short"})
    assert short.status_code == 400 and 'href="#password"' in short.text  # type: ignore[attr-defined]
    not_offered = post({**form, "role": "social_worker", "password": PASSWORD, "again": PASSWORD})
    assert not_offered.status_code == 400 and "Choose your role" in not_offered.text  # type: ignore[attr-defined]
    with Session(engine) as session:
        assert session.exec(select(Staff)).all() == []

    done = post({**form, "password": PASSWORD, "again": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?done=setup"  # type: ignore[attr-defined]
    assert "Safeguard is set up: sign in" in site.get("/sign-in?done=setup").text
    with Session(engine) as session:
        roles = session.exec(select(StaffRole.role).where(StaffRole.staff_id == "ahughes")).all()
        assert [Role(r) for r in roles] == [Role.head_of_service]
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "staff.first_run")).one()  # fmt: skip

    # They sign in with it and see the board (a head of service manages).
    page = site.get("/sign-in")
    signed = site.post("/sign-in", data={"staff_id": "ahughes", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/board"})  # fmt: skip
    assert signed.status_code == 303 and site.get("/board").status_code == 200

    # Never again: the link is spent, no new one is made, and the page says to sign in.
    again = site.get(f"/setup/{token}")
    assert again.status_code == 404 and "Safeguard is set up already" in again.text
    assert link(engine, "2026-12-07T10:00") is None


def test_a_setup_link_expires(engine: Engine) -> None:
    clock = Clock(at("2026-12-07T09:00"))
    site = app_on(engine, clock)
    token = link(engine, "2026-12-07T09:00")
    clock.now = at("2026-12-07T09:00") + first_run.LINK_LASTS + timedelta(seconds=1)
    answer = site.get(f"/setup/{token}")
    assert answer.status_code == 404 and "has expired" in answer.text
    assert not re.search(r'name="staff_id"', answer.text)

"""Invitations, on SQLite and PostgreSQL, with the mail delivered through Apprise to a real SMTP
server: `safeguard staff invite ID` sends a one-time link (through the outbox) to set a password;
it works once, not after it expires, not for someone who has left; a person with no address is
refused, with the terminal's way round it."""

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import accounts, handover
from models.db import session_scope
from models.tables import Invite, Notice
from tests.cases import CALENDAR, POLICY, add_team, at
from tests.smtp import SmtpServer
from web.app import create_app
from web.deps import WebDeps

PASSWORD = "a long and private phrase"
SENT_AT = at("2026-11-27T09:00")  # before the real now: its delivery is due at once


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def invite(
    engine: Engine,
    smtp: SmtpServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    """`safeguard staff invite` as at SENT_AT: return (exit status, what it said, the link sent)."""
    from safeguard.cli import main

    add_team(engine, smtp)
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("SAFEGUARD_WEB_URL", "https://safeguard.example.gov.uk")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("safeguard.cli.staff.system_clock", lambda: SENT_AT)

    def send(*args: str) -> tuple[int, str, str | None]:
        before = len(smtp.received)
        code = main(["staff", "invite", *args])
        out = capsys.readouterr()
        mails = smtp.received[before:]
        found = re.search(r"https://safeguard\.example\.gov\.uk/invitation/([A-Za-z0-9_-]+)", mails[0].text + mails[0].html) if mails else None  # fmt: skip
        assert found or not mails, mails[0].text + mails[0].html
        return code, out.out + out.err, found.group(1) if found else None

    return send


def site(engine: Engine, clock: Clock) -> TestClient:
    app = create_app(WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"i" * 32))  # fmt: skip
    return TestClient(app, follow_redirects=False)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_an_invitation_sets_a_password_once(invite, engine: Engine, smtp: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    code, said, token = invite("iro-1", "--as", "hos-1")
    assert code == 0 and "invitation sent to iro-1" in said and token
    mail = smtp.received[-1]
    assert mail.to == ("iro-1@example.org",) and mail.subject == "Set your password for Safeguard (iro-1)"  # fmt: skip
    assert "until Monday 30 November 2026 at 09:00" in mail.text  # 72 hours, local time
    with Session(engine) as session:
        stored = session.exec(select(Invite)).one()
        assert token not in stored.token_hash  # only its SHA-256 is kept
        notice = session.exec(select(Notice).where(Notice.kind == "invitation")).one()
        assert notice.case_id is None and notice.ack_due_at is None
        # Delivered: the outbox keeps no working link (the mail had it).
        assert token not in notice.body_text + notice.body_html
        assert "/invitation/(the link, removed once delivered)" in notice.body_text
    client = site(engine, Clock(SENT_AT + timedelta(hours=1)))
    page = client.get(f"/invitation/{token}")
    assert page.status_code == 200 and "For <strong>iro-1</strong>" in page.text
    post = {"csrf_token": csrf_of(page.text), "password": PASSWORD, "again": PASSWORD + "x"}
    differ = client.post(f"/invitation/{token}", data=post)
    assert differ.status_code == 400 and 'href="#again"' in differ.text
    short = client.post(  # each form shown carries a fresh token
        f"/invitation/{token}",
        data={"csrf_token": csrf_of(differ.text), "password": "short", "again": "short"},
    )
    assert short.status_code == 400 and "use at least 12" in short.text
    done = client.post(f"/invitation/{token}", data={**post, "csrf_token": csrf_of(short.text), "again": PASSWORD})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?done=password"
    assert "Your password is set" in client.get(done.headers["location"]).text
    with session_scope(engine) as session:
        assert accounts.sign_in(session, staff_id="iro-1", password=PASSWORD, now=SENT_AT + timedelta(hours=2)).staff_id == "iro-1"  # fmt: skip
    again = client.get(f"/invitation/{token}")
    assert again.status_code == 404 and "has been used" in again.text
    assert client.get("/invitation/not-a-token").status_code == 404


def test_an_invitation_expires_and_is_for_people_who_can_receive_it(
    invite, engine: Engine, smtp: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    code, _, token = invite("sw-1", "--valid-hours", "1")
    assert code == 0 and token
    late = site(engine, Clock(SENT_AT + timedelta(hours=1, seconds=1)))
    page = late.get(f"/invitation/{token}")
    assert page.status_code == 404 and "has expired" in page.text
    assert invite("sw-1", "--valid-hours", "400")[0] == 2  # more than 14 days
    assert invite("nobody-9")[0] == 2
    with session_scope(engine) as session:  # someone with no address: the terminal's way round
        from models.tables import StaffAddress

        for address in session.exec(select(StaffAddress).where(StaffAddress.staff_id == "tm-1")).all():  # fmt: skip
            session.delete(address)
    code, said, _ = invite("tm-1")
    assert code == 2 and "no address to send the invitation to" in said and "set-password tm-1" in said  # fmt: skip
    # Someone who left after the invitation was sent cannot use it.
    code, _, token = invite("ssw-1")
    with session_scope(engine) as session:
        handover.leave(session=session, policy=POLICY, calendar=CALENDAR, staff_id="ssw-1", on=SENT_AT.date(), successor=None, actor_id=None, now=SENT_AT)  # fmt: skip
    left = site(engine, Clock(SENT_AT + timedelta(minutes=5))).get(f"/invitation/{token}")
    assert left.status_code == 404 and "ssw-1 left on" in left.text

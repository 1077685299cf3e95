"""A notice's email leads to the web app (issue 20, item 11): it links to the case's page and, where
it asks to be acknowledged, to a one-click acknowledgement of its own for each person, made as the
mail is sent through real SMTP. The link asks the person to sign in first, works only for them,
once, until it expires; the outbox's stored bodies never hold it. On SQLite and PostgreSQL."""

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import accounts
from models.db import session_scope
from models.tables import AckLink, Notice, NoticeDelivery
from notifications import sweep as outbox_sweep
from tests.cases import CALENDAR, POLICY, add_team, at, start_case
from tests.smtp import Mail, SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps

WEB = "https://safeguard.example.gov.uk"
ONE_CLICK = re.compile(re.escape(WEB) + r"/acknowledge/([A-Za-z0-9_-]+)")


def late_notice(engine: Engine, smtp: SmtpServer) -> tuple[int, Mail, Mail]:
    """The initial consideration lapses: its rung-1 notice goes to the LADO and their manager, by
    mail, each with a link of their own."""
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("lado-1", "ladom-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    reference = start_case(engine)
    sent_at = at("2026-11-04T09:00")  # the real moment, as the sweep's clock gives it
    outbox_sweep.sweep(
        engine,
        policy=POLICY,
        calendar=CALENDAR,
        now=sent_at,
        web_url=WEB + "/",
        clock=lambda: sent_at,
    )
    late = [m for m in smtp.received if m.subject.startswith("LATE (rung 1)")]
    to = {m.to[0].split("@")[0]: m for m in late}
    assert sorted(to) == ["lado-1", "ladom-1"]
    with Session(engine) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "lapsed")).one()
    assert reference in notice.subject
    return notice.id or 0, to["lado-1"], to["ladom-1"]


def token_in(mail: Mail) -> str:
    tokens = {ONE_CLICK.search(mail.text).group(1), ONE_CLICK.search(html.unescape(mail.html)).group(1)}  # type: ignore[union-attr]  # fmt: skip
    assert len(tokens) == 1, "the text and the HTML carry the same link"
    return tokens.pop()


def test_each_mail_links_to_the_case_and_carries_its_own_one_click_link(
    engine: Engine, smtp: SmtpServer
) -> None:
    notice_id, to_lado, to_manager = late_notice(engine, smtp)
    for mail in (to_lado, to_manager):
        assert f"{WEB}/cases/ALG-2026-0001" in mail.text
        assert f'href="{WEB}/cases/ALG-2026-0001"' in mail.html
        assert "safeguard " not in mail.text and "--as" not in mail.text  # no command to type
        assert "/runs/flow-run/" not in mail.text + mail.html  # not the Prefect UI
    assert token_in(to_lado) != token_in(to_manager)
    with Session(engine) as session:
        stored = session.get(Notice, notice_id)
        assert stored is not None
        for body in (stored.body_text, stored.body_html):
            # the outbox keeps the notice's own page, never a working one-click link
            assert f"{WEB}/notices/{notice_id}/acknowledge" in body
            assert token_in(to_lado) not in body and "/acknowledge/" not in body
        assert len(session.exec(select(AckLink)).all()) == 2  # their hashes only
        assert all(token_in(to_lado) != link.token_hash for link in session.exec(select(AckLink)))


def test_the_link_asks_for_sign_in_then_acknowledges_for_that_person_alone_and_once(
    engine: Engine, smtp: SmtpServer
) -> None:
    notice_id, to_lado, to_manager = late_notice(engine, smtp)
    clock = Clock(at("2026-11-04T10:00"))
    app = create_app(WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32))  # fmt: skip
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    mine, theirs = token_in(to_lado), token_in(to_manager)

    def acknowledged() -> dict[str, bool]:
        with Session(engine) as session:
            rows = session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))  # fmt: skip
            return {d.staff_id: d.acknowledged_at is not None for d in rows}

    # Not signed in: to sign in, and back to the link. Nothing acknowledged by the click alone.
    answer = client.get(f"/acknowledge/{mine}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/sign-in?next=%2Facknowledge%2F{mine}"
    assert acknowledged() == {"lado-1": False, "ladom-1": False}

    # Signed in as the manager, the LADO's link is refused: it was not sent to them.
    sign_in(client, "ladom-1")
    refused = client.get(f"/acknowledge/{mine}")
    assert refused.status_code == 400 and "This link was sent to someone else" in refused.text
    assert f'href="/notices/{notice_id}/acknowledge"' in refused.text
    assert acknowledged() == {"lado-1": False, "ladom-1": False}
    client.post("/sign-out", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/my-work").text).group(1)})  # type: ignore[union-attr]  # fmt: skip

    # Signed in as the LADO: acknowledged for them alone, and My work says what it was about.
    sign_in(client, "lado-1")
    done = client.get(f"/acknowledge/{mine}")
    assert done.status_code == 303 and done.headers["location"] == f"/my-work?done=ack-{notice_id}"
    said = html.unescape(client.get(done.headers["location"]).text)
    assert "You acknowledged: LATE (rung 1): ALG-2026-0001 Initial consideration" in said
    assert acknowledged() == {"lado-1": True, "ladom-1": False}

    # A second click: used. The notice's page says when it was acknowledged.
    again = client.get(f"/acknowledge/{mine}")
    assert again.status_code == 303 and again.headers["location"] == f"/notices/{notice_id}/acknowledge"  # fmt: skip
    page = client.get(again.headers["location"])
    assert page.status_code == 200 and "You acknowledged it, 4 November 2026 at 10:00" in page.text
    assert 'action="/notices/' not in page.text  # no button: nothing left to acknowledge

    # A link not ours opens nothing.
    unknown = client.get("/acknowledge/" + "A" * 43)
    assert unknown.status_code == 400 and "This link is not one we sent" in unknown.text

    # The manager's link, clicked after it has expired (14 days): refused; their notice's page
    # still offers the button.
    client.post("/sign-out", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/my-work").text).group(1)})  # type: ignore[union-attr]  # fmt: skip
    clock.now = at("2026-11-04T09:00") + timedelta(days=14, minutes=1)  # sent + 14 days
    sign_in(client, "ladom-1")
    expired = client.get(f"/acknowledge/{theirs}")
    assert expired.status_code == 400 and "This link has expired" in expired.text
    assert acknowledged() == {"lado-1": True, "ladom-1": False}
    page = client.get(f"/notices/{notice_id}/acknowledge")
    assert page.status_code == 200 and "Not yet by you" in page.text
    assert f'action="/notices/{notice_id}/acknowledge"' in page.text
    # Someone it was not sent to finds no such notice.
    assert client.get("/notices/99999/acknowledge").status_code == 404

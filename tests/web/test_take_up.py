"""What another case left undone at the top of its ladder, taken up: an allegation's action overdue
past its last rung offers the child's IRO "Challenge this" in the notice (a link carrying ids only)
and on the case page; the link opens the IRO's challenge form filled in with the case, its child
and the action. Nobody else is offered it; the notice's lower rungs do not offer it."""

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import accounts
from models.db import session_scope
from models.tables import Notice
from notifications import sweep as outbox_sweep
from tests.cases import CALENDAR, POLICY, add_team, at, open_step, record, start_case
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps

WEB = "http://testserver"


@pytest.fixture
def site(engine: Engine, smtp: SmtpServer) -> TestClient:
    """An allegation whose meeting agreed an action due Wed 4 Nov, still open; swept on Fri 20 Nov,
    past the action ladder's last rung (5 working days after the due day)."""
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("iro-1", "lado-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    ref = start_case(engine)
    consideration = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "a mark seen by the school"}  # fmt: skip
    record(engine, ref, "initial_consideration", consideration, at("2026-11-02T16:00"))
    open_step(engine, ref, "allegation_meeting", now=at("2026-11-02T16:05"))
    meeting = {"held_on": "2026-11-02", "attendees": ["lado"], "actions": [{"title": "Police interview", "owner": "sw-1", "due": "2026-11-04"}]}  # fmt: skip
    record(engine, ref, "allegation_meeting", meeting, at("2026-11-02T17:00"))
    outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-20T10:00"), web_url=WEB)  # fmt: skip
    app = create_app(
        WebDeps(
            engine=engine,
            policy=POLICY,
            calendar=CALENDAR,
            clock=Clock(at("2026-11-20T11:00")),
            secret=b"k" * 32,
        )
    )
    return TestClient(app, base_url=WEB, follow_redirects=False)


def overdue_notices(engine: Engine) -> dict[int, str]:
    with Session(engine) as session:
        return {
            n.rung: n.body_text
            for n in session.exec(
                select(Notice)
                .where(col(Notice.kind) == "action_overdue")
                .order_by(col(Notice.rung))
            ).all()
        }


def test_the_top_rung_offers_the_childs_iro_a_challenge(site: TestClient, engine: Engine) -> None:
    bodies = overdue_notices(engine)
    assert sorted(bodies) == [1, 2, 3]  # the action ladder's three rungs, all passed
    link = f"{WEB}/cases/ALG-2026-0001/take-up/action/1"
    assert f"Challenge this as the child's IRO: {link}" in bodies[3]
    assert "Challenge this" not in bodies[1] + bodies[2]  # a manager above can still act
    assert "Police interview" not in bodies[3]  # the link carries ids, never the item's words

    sign_in(site, "iro-1")
    page = unescape(site.get("/cases/ALG-2026-0001").text)
    assert 'href="/cases/ALG-2026-0001/take-up/action/1">Challenge this as the child\'s IRO' in page
    sent = site.get("/cases/ALG-2026-0001/take-up/action/1")
    assert sent.status_code == 303
    where = urlsplit(sent.headers["location"])
    assert where.path == "/start/iro_dispute"
    given = {k: v[0] for k, v in parse_qs(where.query).items()}
    assert given["about_case"] == "ALG-2026-0001" and given["category"] == "action_not_taken"
    assert given["child.child"].startswith("C-9") and given["child.iro"] == "iro-1"
    form = unescape(site.get(sent.headers["location"]).text)
    assert 'id="about_case" name="about_case" type="text" value="ALG-2026-0001"' in form
    assert "The action \u201cPolice interview\u201d, due Wednesday 4 November 2026, still open" in form  # fmt: skip
    assert 'value="action_not_taken" checked' in form


def test_nobody_else_is_offered_it(site: TestClient) -> None:
    sign_in(site, "lado-1")
    assert "Challenge this" not in site.get("/cases/ALG-2026-0001").text
    refused = site.get("/cases/ALG-2026-0001/take-up/action/1")
    assert refused.status_code == 403
    sign_in(site, "iro-1")
    assert site.get("/cases/ALG-2026-0001/take-up/action/99").status_code == 404
    assert site.get("/cases/ALG-2026-0001/take-up/meeting/1").status_code == 404

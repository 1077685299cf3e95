"""A notice's one-click link in Chromium (issue 20, item 11): opened from the mail signed out, it
asks the person to sign in, then acknowledges for them and says what about. Checked with axe-core
and saved as screenshots (08-09)."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import accounts
from models.db import make_engine, session_scope
from notifications import sweep as outbox_sweep
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve
from tests.cases import CALENDAR, POLICY, add_team, at, start_case
from tests.conftest import migrate
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser
NOW = at("2026-11-04T09:00")  # the initial consideration (due Tue 3 Nov) lapsed last night


@pytest.fixture
def lapsed(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="lado-1", password=PASSWORD, now=NOW, actor_id=None)  # fmt: skip
    start_case(engine)
    with serve(engine, NOW) as address:
        outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=NOW, web_url=address, clock=lambda: NOW)  # fmt: skip
        yield address, engine
    engine.dispose()


def test_the_mails_link_signs_in_then_acknowledges(
    lapsed: tuple[str, Engine], smtp: SmtpServer, browser: object
) -> None:
    address, _ = lapsed
    mail = next(m for m in smtp.to("lado-1") if m.subject.startswith("LATE (rung 1)"))
    link = re.search(re.escape(address) + r"/acknowledge/[A-Za-z0-9_-]+", mail.text)
    assert link, mail.text
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(link.group(0))
    assert "/sign-in?next=" in page.url
    checked(page, "08-one-click-sign-in")
    page.fill("#staff_id", "lado-1")
    page.fill("#password", PASSWORD)
    go(page, "#sign-in button")
    assert "/my-work?done=ack-" in page.url
    banner = page.locator(".govuk-notification-banner").inner_text()
    assert "You acknowledged: LATE (rung 1): ALG-2026-0001 Initial consideration" in banner
    checked(page, "09-one-click-acknowledged")
    page.goto(link.group(0))  # a second click: the notice's page says when
    assert "You acknowledged it, 4 November 2026 at 09:00" in page.locator("main").inner_text()

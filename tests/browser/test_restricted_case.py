"""A restricted case in Chromium (issue 22, part 5): the LADO manager restricts it from its page
(an error first: nothing chosen), the case page says so with the decision; another LADO is refused
and sees nothing of it; the refused attempt is in the access log the LADO manager reads. Each page
checked with axe-core and saved as a screenshot (95-98)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import accounts
from models.db import make_engine, session_scope
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve, signed_in
from tests.cases import CHILD_NAME, add_team, at, start_case
from tests.conftest import migrate
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser
NOW = at("2026-11-03T10:00")


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine: Engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("ladom-1", "lado-2"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    ref = start_case(engine)
    with serve(engine, NOW) as address:
        yield address, ref
    engine.dispose()


def test_a_lado_manager_restricts_a_case_and_another_lado_is_refused(site: tuple[str, str], browser: object) -> None:  # fmt: skip
    address, ref = site
    page = signed_in(browser, address, "ladom-1")
    page.goto(f"{address}/cases/{ref}")  # no part in it: asked why first
    page.fill("#reason", "I manage the LADO team")
    go(page, "button:has-text('Open the case')")
    go(page, "#restrict")
    assert page.locator("h1").inner_text() == "Restrict this case"
    go(page, "button:has-text('Restrict the case')")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Choose why the case is restricted" in summary
    checked(page, "95-restrict-error")
    page.check("#ground-related")
    page.fill("#reason", "The carer's son is a social worker in the Northshire team.")
    go(page, "button:has-text('Restrict the case')")
    assert "The case is restricted" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1 .app-restricted").inner_text() == "Restricted"
    checked(page, "96-restricted-case")

    other = signed_in(browser, address, "lado-2")
    other.goto(f"{address}/cases/{ref}")
    assert other.locator("h1").inner_text() == "This case is restricted"
    assert CHILD_NAME not in other.content()
    checked(other, "97-restricted-refused")

    page.goto(f"{address}/cases/{ref}#access-log")
    log = page.locator("#access-log").locator("xpath=following::table[1]").inner_text()
    assert "Refused" in log and "lado-2" in log
    checked(page, "98-restricted-access-log")

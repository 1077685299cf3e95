"""The first run in Chromium (issue 20, item 14): the printed link opens a page asking for the
first administrator; an error on a field, then set up, signed in, on the board. Each page checked
with axe-core and saved as a screenshot (71-73)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import first_run
from models.db import make_engine, session_scope
from tests.browser.test_in_chromium import checked, go, serve
from tests.cases import at
from tests.conftest import migrate

pytestmark = pytest.mark.browser
NOW = at("2026-12-07T09:00")
PASSWORD = "plain words make a long password"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A new database (nobody in the staff directory), served."""
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    with serve(engine, NOW) as address:
        yield address, engine
    engine.dispose()


def test_the_first_administrator_sets_up_safeguard(
    fresh: tuple[str, Engine], browser: object
) -> None:
    address, engine = fresh
    with session_scope(engine) as session:
        token = first_run.setup_link(session, NOW)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{address}/setup/{token}")
    assert page.locator("h1").inner_text() == "Set up Safeguard"
    checked(page, "71-first-run")
    page.fill("#staff_id", "ahughes")
    page.fill("#name", "Alex Hughes")
    page.fill("#password", PASSWORD)
    page.fill("#again", PASSWORD + " and more")
    go(page, "button:has-text('Set up Safeguard')")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "The two passwords differ" in summary
    checked(page, "72-first-run-error")
    page.fill("#password", PASSWORD)
    page.fill("#again", PASSWORD)
    go(page, "button:has-text('Set up Safeguard')")
    assert "Safeguard is set up" in page.locator(".govuk-notification-banner").inner_text()
    page.fill("#staff_id", "ahughes")
    page.fill("#password", PASSWORD)
    go(page, "#sign-in button")
    page.goto(f"{address}/board")
    assert page.locator("h1").inner_text() == "Every open case"
    checked(page, "73-first-run-board")
    page.goto(f"{address}/setup/{token}")
    assert "Safeguard is set up already" in page.locator("main").inner_text()

"""The pages issue 19 changed, in Chromium, as the people who use them see them: a disruption
meeting held while the allegation behind it is open (the stop's reason on the disruption, "waits
for this case" on the allegation), and a planned move's placement plan recorded after the day the
new placement started, where the reason is required (the error summary shown). Each page is
checked with axe-core and saved as a screenshot."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import accounts
from models.db import make_engine, session_scope
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve, signed_in
from tests.browser.test_recording import fill_date
from tests.cases import add_team, advance_case, start_as, start_case, submit_as
from tests.conftest import migrate
from tests.integration.test_disruption import NOW, START
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, Engine, str, str]]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("tm-1", "lado-1", "sw-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=NOW, actor_id=None)
    allegation = start_case(engine)
    ending = {**START["ending"], "ended_by": "allegation", "planned": True, "ends_on": "2026-11-20", "new_placement_on": "2026-11-23", "allegation": allegation}  # fmt: skip
    ref = start_as(engine, "disruption", "sw-1", {**START, "ending": ending}, NOW)
    for name in ("meeting_decision", "placement_plan"):
        advance_case(engine, ref, [name], NOW)
    submit_as(engine, ref, "meeting_decision", {"hold": True}, "tm-1", NOW)
    advance_case(engine, ref, ["meeting_decision"], NOW)
    with serve(engine, NOW) as address:
        yield address, engine, ref, allegation
    engine.dispose()


def test_a_held_meeting_and_a_late_plan_in_the_browser(
    site: tuple[str, Engine, str, str], browser: object
) -> None:
    address, _, ref, allegation = site
    page = signed_in(browser, address, "tm-1")
    page.goto(f"{address}/cases/{ref}")  # type: ignore[attr-defined]
    steps = page.locator("#steps + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "Hold the disruption meeting" in steps and "Clock stopped" in steps
    assert f"waits for the outcome of the allegation {allegation}" in steps  # the stop's reason
    checked(page, "51-disruption-meeting-held")

    lado = signed_in(browser, address, "lado-1")
    lado.goto(f"{address}/cases/{allegation}")  # type: ignore[attr-defined]
    assert "Waits for this case" in lado.content()  # type: ignore[attr-defined]
    checked(lado, "52-allegation-a-meeting-waits")

    sw = signed_in(browser, address, "sw-1")
    sw.goto(f"{address}/cases/{ref}/record/placement_plan")  # type: ignore[attr-defined]
    said = sw.content()  # type: ignore[attr-defined]
    assert "Done after its due day, it needs the reason" in said and "(optional)" not in said
    fill_date(sw, "agreed_on", "2026-11-25")
    sw.fill("#childs_wishes", "to stay at her school")  # type: ignore[attr-defined]
    fill_date(sw, "carer_signed_on", "2026-11-25")
    go(sw, "button:has-text('Save and continue')")
    summary = sw.locator(".govuk-error-summary").inner_text()  # type: ignore[attr-defined]
    assert "say why it was not reasonably practicable sooner" in summary
    checked(sw, "53-late-plan-needs-its-reason")

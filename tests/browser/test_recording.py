"""Starting an allegation and recording its steps in Chromium, on forms generated from the inputs:
a LADO starts the case, records the initial consideration and a meeting with an action; a review
that leaves the action out shows the GOV.UK error summary naming it, and keeps what was typed;
the same form sent twice stores once. Each page is checked with axe-core and saved as a screenshot.

The flow's part (opening the first step, applying a record, opening the next) is played here by
`FlowDouble`, as the integration tests do: the real flow is driven in tests/flows, and the web app
only stores and nudges (DESIGN rule 13)."""

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import accounts, cases
from models.db import make_engine, session_scope
from models.tables import Submission
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve, signed_in, tab_to
from tests.cases import add_team, advance_case, at
from tests.conftest import migrate
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

NOW = at("2026-11-02T16:00")  # Mon 2 Nov: the referral came this morning


class FlowDouble:
    """What the allegation flow does after each record, for the steps this test takes."""

    NEXT: ClassVar[dict[str, list[str]]] = {
        "initial_consideration": ["allegation_meeting"],
        "allegation_meeting": ["review_meeting"],
    }

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def launch(self, case_id: int) -> None:
        with Session(self.engine) as session:
            ref = cases.case_by_id(session, case_id).reference
        advance_case(self.engine, ref, ["initial_consideration"], NOW)

    def carry_on(self, _run_id: str | None, submission_id: int) -> None:
        with Session(self.engine) as session:
            stored = session.get(Submission, submission_id)
            assert stored is not None
            ref = cases.case_by_id(session, stored.case_id).reference
        advance_case(self.engine, ref, [stored.kind], NOW)
        for name in self.NEXT.get(stored.kind, []):
            advance_case(self.engine, ref, [name], NOW)


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="lado-1", password=PASSWORD, now=NOW, actor_id=None)
    flow = FlowDouble(engine)
    with serve(engine, NOW, carry_on=flow.carry_on, launch=flow.launch) as address:
        yield address, engine
    engine.dispose()


def fill_date(page: object, field: str, day: str) -> None:
    """Type a day into a GOV.UK date input (day, month, year)."""
    year, month, date_of_month = day.split("-")
    page.fill(f"#{field}", str(int(date_of_month)))  # type: ignore[attr-defined]
    page.fill(f"#{field}-month", str(int(month)))  # type: ignore[attr-defined]
    page.fill(f"#{field}-year", year)  # type: ignore[attr-defined]


def submissions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Submission)).one()


def test_a_lado_starts_and_records_in_the_browser(
    site: tuple[str, Engine], browser: object
) -> None:
    address, engine = site
    page = signed_in(browser, address, "lado-1")
    go(page, "a:has-text('Start an allegation')")
    checked(page, "21-start-allegation")
    fill_date(page, "received_at", "2026-11-02")
    page.fill("#received_at-time", "09:15")  # type: ignore[attr-defined]
    fill_date(page, "aware_on", "2026-11-02")
    page.fill("#carer", "FC-77")  # type: ignore[attr-defined]
    page.fill("#fostering_service", "Northshire Fostering")  # type: ignore[attr-defined]
    page.select_option("#supervising_social_worker", "ssw-1")  # type: ignore[attr-defined]
    page.fill("#children-0-child", "C-9")  # type: ignore[attr-defined]
    page.select_option("#children-0-iro", "iro-1")  # type: ignore[attr-defined]
    page.select_option("#children-0-social_worker", "sw-1")  # type: ignore[attr-defined]
    page.check("#category")  # type: ignore[attr-defined]  # physical abuse, the first
    page.fill("#summary", "a bruise on the forearm")  # type: ignore[attr-defined]
    go(page, "button:has-text('Start the case')")
    assert page.locator("h1").inner_text() == "ALG-2026-0001"  # type: ignore[attr-defined]

    # The initial consideration, from the case page.
    go(page, "a:has-text('Record: Initial consideration')")
    checked(page, "22-record-initial-consideration")
    page.check("#threshold_met")  # type: ignore[attr-defined]  # Yes
    page.check("#limbs")  # type: ignore[attr-defined]  # harm, the first limb
    page.check("input[name='route'][value='allegation_meeting']")  # type: ignore[attr-defined]
    page.fill("#rationale", "a mark seen by the school")  # type: ignore[attr-defined]
    # Saved by keyboard: Tab on from the last field to the button, Enter.
    assert tab_to(page, "Save and continue")
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert "Record: Allegation management" in page.content()  # type: ignore[attr-defined]

    # The meeting, with one action.
    go(page, "a:has-text('Record: Allegation management')")
    fill_date(page, "held_on", "2026-11-02")
    page.fill("#attendees", "lado\npolice")  # type: ignore[attr-defined]
    page.fill("#actions-0-title", "Police interview")  # type: ignore[attr-defined]
    page.select_option("#actions-0-owner", "sw-1")  # type: ignore[attr-defined]
    page.fill("#actions-0-due", "5")  # type: ignore[attr-defined]
    page.check("input[name='ready_for_outcome'][value='no']")  # type: ignore[attr-defined]
    checked(page, "23-record-meeting")
    go(page, "button:has-text('Save and continue')")
    assert "Police interview" in page.locator("#actions + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    checked(page, "24-case-after-meeting")

    # The review leaves the action out: refused, the error summary naming it, nothing stored.
    before = submissions(engine)
    go(page, "a:has-text('Record: Review')")
    assert "Police interview" in page.content()  # type: ignore[attr-defined]  # the open action, named
    fill_date(page, "held_on", "2026-11-02")
    page.fill("#attendees", "lado")  # type: ignore[attr-defined]
    page.fill("#accounted-0-action_id", "")  # type: ignore[attr-defined]  # the action left out
    go(page, "button:has-text('Save and continue')")
    summary = page.locator(".govuk-error-summary").inner_text()  # type: ignore[attr-defined]
    assert "unaccounted for: 1 (Police interview)" in summary
    assert page.input_value("#attendees") == "lado"  # type: ignore[attr-defined]  # kept
    checked(page, "25-review-refused")
    assert submissions(engine) == before

    # The same form sent twice (a double click, or the back button) stores once.
    page.fill("#accounted-0-action_id", "1")  # type: ignore[attr-defined]
    page.check("input[name='accounted-0-status'][value='done']")  # type: ignore[attr-defined]
    form = page.locator("form[action$='/record/review_meeting']")  # type: ignore[attr-defined]
    data = {
        el.get_attribute("name"): el.input_value()
        for el in form.locator("input[type=hidden], input[type=text], textarea").all()
    }
    data["accounted-0-status"] = "done"
    data["ready_for_outcome"] = "no"
    data["save"] = "1"
    request = page.request  # type: ignore[attr-defined]
    first = request.post(f"{address}/cases/ALG-2026-0001/record/review_meeting", form=data, max_redirects=0)  # fmt: skip
    again = request.post(f"{address}/cases/ALG-2026-0001/record/review_meeting", form=data, max_redirects=0)  # fmt: skip
    assert first.status == again.status == 303
    assert first.headers["location"] == again.headers["location"]
    assert submissions(engine) == before + 1

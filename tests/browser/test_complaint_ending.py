"""A complaint withdrawn in Chromium, on the form generated from its input: the case page offers
the withdrawal at any stage (never as work due), the form keeps the complainant's words, and the
case page then shows every other clock ended. Each page is checked with axe-core and saved as a
screenshot. The flow's part (applying the record) is played by `advance_case`, as in
test_recording.py; the real flow is driven in tests/flows/test_complaint_flow.py."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import accounts, cases, steps
from models.db import make_engine, session_scope
from models.staff import add_staff
from models.tables import Submission
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve, signed_in
from tests.browser.test_recording import fill_date
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, start_as, submit_as
from tests.conftest import migrate
from tests.integration.test_complaint import START, STATEMENT, TEAM
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, Engine]]:
    """A complaint waiting for its stage 2 response, the withdrawal open beside it."""
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=datetime(2026, 1, 5, tzinfo=UTC),
            people=[
                person(sid, *roles, manager=mgr, addresses=[smtp.url(sid)], independent=ind)
                for sid, roles, mgr, ind in TEAM
            ],
        )
        accounts.set_password(session, staff_id="cm-1", password=PASSWORD, now=NOW, actor_id=None)
    ref = start_as(engine, "complaint", "cm-1", START, NOW)
    with session_scope(engine) as session:
        case_id = cases.get_case(session, ref).id or 0
        steps.open_alongside(session=session, policy=POLICY, calendar=CALENDAR, case_id=case_id, names=["withdrawn_or_resolved"])  # fmt: skip
    for name, payload in (("eligibility", {"accepted": True}), ("stage2_appointments", STATEMENT)):
        advance_case(engine, ref, [name], NOW)
        submit_as(engine, ref, name, payload, "cm-1", NOW)
        advance_case(engine, ref, [name], NOW)
    advance_case(engine, ref, ["stage2_response"], NOW)

    def carry_on(_run_id: str | None, submission_id: int) -> None:
        with Session(engine) as session:
            stored = session.get(Submission, submission_id)
            assert stored is not None
        advance_case(engine, ref, ["stage2_response"], NOW)

    with serve(engine, NOW, carry_on=carry_on) as address:
        yield address, engine
    engine.dispose()


def test_a_complaint_withdrawn_in_the_browser(site: tuple[str, Engine], browser: object) -> None:
    address, _ = site
    page = signed_in(browser, address, "cm-1")
    page.goto(f"{address}/cases/CMP-2026-0001")  # type: ignore[attr-defined]
    offered = page.locator("#to-record + ul").inner_text().splitlines()  # type: ignore[attr-defined]
    # The work due first; the withdrawal, recorded only if it happens, after it.
    assert offered == ["Record: Stage 2 investigation and adjudication", "Record: Complaint withdrawn, or resolved with terms agreed"]  # fmt: skip
    checked(page, "41-complaint-before-withdrawal")
    go(page, "a:has-text('Record: Complaint withdrawn')")
    checked(page, "42-record-withdrawal")
    said = page.content()  # type: ignore[attr-defined]
    assert "Record this if it happens, at any stage." in said and "Due " not in said
    assert page.locator("#late_reason").count() == 0  # type: ignore[attr-defined]  # never late
    go(page, "button:has-text('Save and continue')")  # nothing given: refused, said plainly
    assert page.locator(".govuk-error-summary").count() == 1  # type: ignore[attr-defined]
    page.check("input[name='how'][value='withdrawn']")  # type: ignore[attr-defined]
    fill_date(page, "on", "2026-11-20")
    page.fill("#words", "I do not want to take this further")  # type: ignore[attr-defined]
    go(page, "button:has-text('Save and continue')")
    steps_table = page.locator("#steps + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "Not needed: the case ended" in steps_table
    assert "I do not want to take this further" in page.content()  # type: ignore[attr-defined]
    checked(page, "43-complaint-withdrawn")


def test_a_complaints_clock_stopped_and_started_again_in_the_browser(
    site: tuple[str, Engine], browser: object
) -> None:
    """Stage 2 deferred while proceedings would be prejudiced (RPR 2006 reg 8): the complaints
    manager stops its clock with a head of service's approval, then starts it again."""
    address, _ = site
    page = signed_in(browser, address, "cm-1")
    page.goto(f"{address}/cases/CMP-2026-0001")  # type: ignore[attr-defined]
    go(page, "a:has-text('Stop the clock')")
    offered = page.locator("#approver option").all_inner_texts()  # type: ignore[attr-defined]
    assert offered[0] == "Choose a person" and any(o.startswith("Staff hos-1") or "head of service" in o for o in offered[1:])  # fmt: skip
    checked(page, "66-stop-the-clock")
    go(page, "button:has-text('Stop the clock')")  # nothing filled: refused on the fields
    assert page.locator(".govuk-error-summary").is_visible()  # type: ignore[attr-defined]
    page.fill("#reason", "court proceedings about the placement would be prejudiced")  # type: ignore[attr-defined]
    page.select_option("#approver", "hos-1")  # type: ignore[attr-defined]
    go(page, "button:has-text('Stop the clock')")
    assert "Clock stopped" in page.locator(".govuk-notification-banner").inner_text()  # type: ignore[attr-defined]
    steps = page.locator("#steps + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "court proceedings about the placement would be prejudiced" in steps
    # the stopped step is not offered as a form the service would refuse: it waits for its clock
    offered = page.locator("#to-record + ul").inner_text()  # type: ignore[attr-defined]
    assert "Record: Stage 2" not in offered
    assert "It can be recorded after its clock is started again." in offered
    checked(page, "67-complaint-clock-stopped")
    go(page, "button:has-text('Start the clock again')")
    assert "Clock started again" in page.locator(".govuk-notification-banner").inner_text()  # type: ignore[attr-defined]
    assert "Record: Stage 2" in page.locator("#to-record + ul").inner_text()  # type: ignore[attr-defined]

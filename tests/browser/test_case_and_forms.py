"""The case page and the generated forms as people use them, in Chromium: people chosen by name
from those who may fill a field; a repeated block (a child) removed, and one left blank refused
on the block itself; Enter in a field saves the form (never "Add another"); a new case's page says
its first step is being opened and shows it once open; the case page says what the case is about,
what waits for what, and what happened. Each page is checked with axe-core and saved as a
screenshot (61-66)."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.tables import Case
from tests.browser.test_in_chromium import checked, go, signed_in
from tests.browser.test_recording import fill_date, site, submissions

pytestmark = pytest.mark.browser
__all__ = ["site"]  # the fixture, from test_recording: the flow played by its FlowDouble


def start_details(page: object) -> None:
    fill_date(page, "received_at", "2026-11-02")
    page.fill("#received_at-time", "09:15")  # type: ignore[attr-defined]
    fill_date(page, "aware_on", "2026-11-02")
    page.fill("#carer", "FC-77")  # type: ignore[attr-defined]
    page.fill("#fostering_service", "Northshire <b>Fostering</b>")  # type: ignore[attr-defined]
    page.check("#category")  # type: ignore[attr-defined]  # physical abuse, the first
    page.fill("#summary", "A bruise seen at school.\nThe child said it was the carer.")  # type: ignore[attr-defined]


def test_people_by_name_blocks_removed_and_enter_saves(
    site: tuple[str, Engine], browser: object, tmp_path: Path
) -> None:
    address, engine = site
    page = signed_in(browser, address, "lado-1")
    go(page, "a:has-text('Start an allegation')")
    # a staff field offers only those who may fill it, by name and role
    offered = page.locator("#children-0-iro option").all_inner_texts()  # type: ignore[attr-defined]
    assert offered == ["Choose a person", "Staff iro-1 (IRO; Staff irom-1's team)"]
    ssw = page.locator("#supervising_social_worker option").all_inner_texts()  # type: ignore[attr-defined]
    assert ssw == ["Choose a person", "Staff ssw-1 (supervising social worker; Staff tm-1's team)"]
    start_details(page)
    page.fill("#children-0-child", "C-9")  # type: ignore[attr-defined]
    page.select_option("#supervising_social_worker", "ssw-1")  # type: ignore[attr-defined]
    page.select_option("#children-0-iro", "iro-1")  # type: ignore[attr-defined]
    page.select_option("#children-0-social_worker", "sw-1")  # type: ignore[attr-defined]
    # two more children added: the second filled, the third left blank
    go(page, "button:has-text('Add another')")
    go(page, "button:has-text('Add another')")
    page.fill("#children-1-child", "C-10")  # type: ignore[attr-defined]
    page.select_option("#children-1-iro", "iro-1")  # type: ignore[attr-defined]
    page.select_option("#children-1-social_worker", "sw-1")  # type: ignore[attr-defined]
    # adding a block refuses nothing yet: no error is shown until the form is saved
    assert page.locator(".govuk-error-summary").count() == 0  # type: ignore[attr-defined]
    checked(page, "61-start-three-children")
    # Enter in a field saves (the main action), and the blank block is refused on itself
    page.focus("#carer")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
    summary = page.locator(".govuk-error-summary").inner_text()  # type: ignore[attr-defined]
    assert "Child 3 is empty: fill it in or remove it" in summary
    assert page.locator("#children-2-error").count() == 1  # type: ignore[attr-defined]
    assert submissions(engine) == 0 and _cases(engine) == 0
    checked(page, "62-blank-child-refused")
    # the second child removed: the first and the blank third stay, numbered again
    go(page, "button:has-text('Remove child 2')")
    assert page.input_value("#children-0-child") == "C-9"  # type: ignore[attr-defined]
    assert page.input_value("#children-1-child") == ""  # type: ignore[attr-defined]
    assert page.locator("#children-2-child").count() == 0  # type: ignore[attr-defined]
    assert page.input_value("#carer") == "FC-77"  # what was typed elsewhere is kept
    go(page, "button:has-text('Remove child 2')")
    assert page.locator("button:has-text('Remove child')").count() == 0  # type: ignore[attr-defined]
    assert _cases(engine) == 0
    page.focus("#children-0-child")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert page.url.endswith("/cases/ALG-2026-0001")  # type: ignore[attr-defined]
    assert _cases(engine) == 1
    checked(page, "63-new-case")
    # the case says what it is about, people by name, narrative as text
    about = page.locator("#about + dl").inner_text()  # type: ignore[attr-defined]
    assert "Northshire <b>Fostering</b>" in about  # typed markup shown as text
    assert "The carer's supervising social worker\tStaff ssw-1" in about
    assert "A bruise seen at school.\nThe child said it was the carer." in about
    timeline = page.locator("ol.app-timeline").inner_text()  # type: ignore[attr-defined]
    assert "Case opened by Staff lado-1" in timeline
    # something that happened, recorded as it comes (item 3): the carer's resignation, its day
    go(page, "a:has-text('Record: The carer')")
    assert page.locator("h1").inner_text() == "The carer's written notice of resignation received"  # type: ignore[attr-defined]
    go(page, "button:has-text('Save')")  # no day given: asked for, in the Design System's words
    assert "Enter the day it happened" in page.locator(".govuk-error-summary").inner_text()  # type: ignore[attr-defined]
    checked(page, "66b-case-event-refused")
    fill_date(page, "on", "2026-11-02")
    go(page, "button:has-text('Save')")
    assert page.url.split("#")[0].endswith("/cases/ALG-2026-0001?done=event")  # type: ignore[attr-defined]
    timeline = page.locator("ol.app-timeline").inner_text()  # type: ignore[attr-defined]
    assert "The carer's written notice of resignation was received" in timeline
    # found again by the carer's reference, from the menu
    go(page, "a:has-text('Find a case')")
    page.fill("#q", "fc-77")  # type: ignore[attr-defined]
    go(page, "button:has-text('Find')")
    assert "1 case found for fc-77" in page.locator("#results").inner_text()  # type: ignore[attr-defined]
    checked(page, "65-search")
    go(page, "#results + .app-table-container a:has-text('ALG-2026-0001')")
    assert page.url.endswith("/cases/ALG-2026-0001")  # type: ignore[attr-defined]


def test_the_case_page_at_a_phones_width(site: tuple[str, Engine], browser: object) -> None:
    address, _ = site
    page = signed_in(browser, address, "lado-1")
    go(page, "a:has-text('Start an allegation')")
    start_details(page)
    page.fill("#children-0-child", "C-9")  # type: ignore[attr-defined]
    page.select_option("#supervising_social_worker", "ssw-1")  # type: ignore[attr-defined]
    page.select_option("#children-0-iro", "iro-1")  # type: ignore[attr-defined]
    page.select_option("#children-0-social_worker", "sw-1")  # type: ignore[attr-defined]
    go(page, "button:has-text('Start the case')")
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    # nothing wider than the phone but a table's own scrolling container
    wider = page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth"
    )
    assert wider <= 390, wider
    checked(page, "64-case-at-390px")


def _cases(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Case)).all())

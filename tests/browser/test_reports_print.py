"""A report printed for a committee (issue 23, item 7), in Chromium: the placement changes report
(and any page) prints as a document, without the menu, the sign-out, the period form or the
footer; Chromium's own PDF of it is a document of pages. Checked with axe-core on screen and saved
as screenshots (99: on screen; 100: as printed)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from models import accounts
from models.db import make_engine, session_scope
from models.staff import add_staff
from tests.browser.test_in_chromium import PASSWORD, SHOTS, checked, serve, signed_in
from tests.builders import accept_any_address, person
from tests.cases import TEAM, at
from tests.conftest import migrate
from tests.integration.test_disruption import START, start

pytestmark = pytest.mark.browser


def ending(day: str, **more: Any) -> dict[str, Any]:
    return {"ending": {**START["ending"], "ends_on": day, "new_placement_on": day, **more}}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_staff(session=session, check_address=accept_any_address, now=datetime(2026, 1, 5, tzinfo=UTC), people=[person(sid, *roles, manager=m) for sid, roles, m in TEAM])  # fmt: skip
        accounts.set_password(session, staff_id="sm-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    start(engine, ending("2026-05-04", reason_for_change="CREQB"))
    start(engine, ending("2026-11-20", ended_by="child", reason_for_change=None))
    with serve(engine, at("2027-01-04T10:00")) as address:
        yield address
    engine.dispose()


def test_a_report_prints_as_a_document(site: str, browser: object, tmp_path: Path) -> None:
    page = signed_in(browser, site, "sm-1")
    page.goto(f"{site}/reports/placement-changes?from=2026-04-01&to=2027-03-31")  # type: ignore[attr-defined]
    checked(page, "99-report-on-screen")
    assert page.locator(".govuk-service-navigation__wrapper").is_visible()  # type: ignore[attr-defined]
    page.emulate_media(media="print")  # type: ignore[attr-defined]
    for hidden in (".govuk-service-navigation__wrapper", ".app-sign-out", "main form", ".govuk-footer"):  # fmt: skip
        assert not page.locator(hidden).first.is_visible(), hidden  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Placement changes"  # type: ignore[attr-defined]
    assert page.locator("#listing").is_visible()  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / "100-report-printed.png"), full_page=True)  # type: ignore[attr-defined]
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")  # type: ignore[attr-defined]
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000

"""The browser app in Debian's Chromium (headless, launched by its executable path), driven by
Playwright: a LADO signs in (by keyboard alone) and sees the case they must act on; the child's
IRO acknowledges the notice of a lapsed meeting with one click; a manager sees the case late, at
its rung, on the board, gives a reason to open it, and reads its access log. Each page is checked
with axe-core (no serious or critical violation) and saved as a screenshot for review under
test-output/screenshots (SAFEGUARD_SCREENSHOTS)."""

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from models import accounts
from models.db import make_engine, session_scope
from tests.cases import CALENDAR, POLICY, add_team, at, open_step, record, start_case, sweep
from tests.conftest import migrate
from tests.smtp import SmtpServer
from web.app import create_app
from web.deps import WebDeps

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("SAFEGUARD_SCREENSHOTS", ROOT / "test-output" / "screenshots"))
PASSWORD = "correct horse battery staple"
NOW = at("2026-11-10T09:30")  # Tue 10 Nov: the meeting (due Mon 9 Nov) lapsed yesterday


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread of the test process: no handlers
        pass


@contextmanager
def serve(
    engine: Engine,
    now: datetime,
    carry_on: Callable[[str | None, int], None] = lambda run, submission: None,
    launch: Callable[[int], None] = lambda case_id: None,
    clock: Callable[[], datetime] | None = None,
    **more: Any,
) -> Iterator[str]:
    """Serve the app on the database, as at `now` (or by `clock`), on a free port; yield its
    address. `more`: further WebDeps (how people sign in, say)."""
    app = create_app(
        WebDeps(
            engine=engine,
            policy=POLICY,
            calendar=CALENDAR,
            clock=clock or (lambda: now),
            secret=b"s" * 32,
            carry_on=carry_on,
            launch=launch,
            **more,
        )
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[str]:
    """One allegation whose meeting has lapsed (its IRO, LADO and LADO manager told), served on a
    free port; yields the address."""
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine: Engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("lado-1", "ladom-1", "iro-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    ref = start_case(engine)
    threshold = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}  # fmt: skip
    record(engine, ref, "initial_consideration", threshold, at("2026-11-02T14:00"))
    open_step(engine, ref, "allegation_meeting")
    sweep(engine, NOW)
    with serve(engine, NOW) as address:
        yield address
    engine.dispose()


def checked(page: "object", name: str) -> None:
    """Save the page as a screenshot, and fail on any serious or critical axe-core violation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    page.evaluate(AXE.read_text())  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')"
    )
    assert found == [], f"{name}: {found}"


def go(page: "object", selector: str) -> None:
    """Click what leads to another page, and wait until that page has loaded (never check the
    page being left)."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click(selector)  # type: ignore[attr-defined]


def tab_to(page: "object", text: str, presses: int = 40) -> bool:
    """Press Tab until the focused element's text starts with `text`; True if it got there."""
    for _ in range(presses):
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate("(document.activeElement.innerText || '').trim()").startswith(text):  # type: ignore[attr-defined]
            return True
    return False


def signed_in(browser: "object", site: str, who: str, *, keyboard: bool = False) -> "object":
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{site}/my-work")  # not signed in: sent to sign in
    assert "/sign-in" in page.url
    if keyboard:  # by keyboard alone: Tab to the staff id, type, Tab, type, Enter
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "staff_id":
                break
        page.keyboard.type(who)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
    else:
        page.fill("#staff_id", who)
        page.fill("#password", PASSWORD)
        go(page, "button:has-text('Sign in')")
    page.wait_for_url(f"{site}/my-work")
    return page


def test_officer_iro_and_manager_in_the_browser(site: str, browser: "object") -> None:
    # The sign-in page, and a refusal shown in the GOV.UK error summary, the field linked.
    page = browser.new_context(bypass_csp=True).new_page()  # type: ignore[attr-defined]
    page.goto(f"{site}/sign-in")
    checked(page, "01-sign-in")
    page.fill("#staff_id", "lado-1")
    page.fill("#password", "not the password at all")
    go(page, "button:has-text('Sign in')")
    assert page.locator(".govuk-error-summary").is_visible()
    # the refusal is on the whole form (it never says whether the id or the password was wrong)
    assert page.locator(".govuk-error-summary a[href='#sign-in']").count() == 1
    assert page.locator(".govuk-error-message").count() == 0
    checked(page, "02-sign-in-refused")

    # The LADO, by keyboard alone: their case waits at the lapsed meeting.
    lado = signed_in(browser, site, "lado-1", keyboard=True)
    steps = lado.locator("#steps + .app-table-container table")  # type: ignore[attr-defined]
    assert "ALG-2026-0001" in steps.inner_text() and "Late" in steps.inner_text()
    checked(lado, "03-my-work-lado")
    go(lado, "a:has-text('ALG-2026-0001')")
    assert lado.locator("h1").inner_text() == "ALG-2026-0001"  # type: ignore[attr-defined]
    checked(lado, "04-case")

    # The child's IRO acknowledges the meeting's lapse with one click.
    iro = signed_in(browser, site, "iro-1")
    awaiting = iro.locator("#notices + .app-table-container table")  # type: ignore[attr-defined]
    assert "Allegation management" in awaiting.inner_text()
    checked(iro, "05-my-work-iro")
    # By keyboard alone: Tab to the button, Enter.
    assert tab_to(iro, "Acknowledge"), "the Acknowledge button cannot be reached by Tab"
    with iro.expect_navigation():  # type: ignore[attr-defined]
        iro.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert "acknowledged" in iro.locator(".govuk-notification-banner").inner_text()  # type: ignore[attr-defined]
    assert iro.locator("#notices + .app-table-container table").count() == 0  # type: ignore[attr-defined]
    iro.goto(f"{site}/notices")  # type: ignore[attr-defined]
    mine = iro.locator("table").inner_text()  # type: ignore[attr-defined]
    assert "You acknowledged it" in mine and "child_iro" not in mine
    assert "You are the child's IRO" in mine  # why me, in words
    checked(iro, "06-notices-iro")
    # The notice's own page (where a mail's used or expired one-click link leads): acknowledged.
    go(iro, "table a:has-text('LATE (rung 1)')")
    said = iro.locator("main").inner_text()  # type: ignore[attr-defined]
    assert "You acknowledged it, 10 November 2026" in said and "You are the child's IRO" in said
    assert iro.locator("main button:has-text('Acknowledge')").count() == 0  # type: ignore[attr-defined]
    checked(iro, "06b-notice-iro")

    # The manager: the case late, at rung 1, waiting on the LADO; then its page, with a reason.
    manager = signed_in(browser, site, "ladom-1")
    manager.goto(f"{site}/board")  # type: ignore[attr-defined]
    row = manager.locator("table.app-board tbody tr").first  # type: ignore[attr-defined]
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[0].startswith("ALG-2026-0001") and "Late" in cells[3]
    assert cells[4] == "1" and cells[5] == "Staff lado-1"  # by name
    checked(manager, "07-board")
    manager.goto(f"{site}/board?rag=green")  # type: ignore[attr-defined]
    assert "No open case matches" in manager.locator("main").inner_text()  # type: ignore[attr-defined]
    manager.goto(f"{site}/cases/ALG-2026-0001")  # type: ignore[attr-defined]
    assert manager.url.endswith("/reason")  # type: ignore[attr-defined]
    checked(manager, "08-reason")
    manager.fill("#reason", "weekly oversight of late meetings")  # type: ignore[attr-defined]
    go(manager, "button:has-text('Open the case')")
    log = manager.locator("#access-log + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "weekly oversight of late meetings" in log and "lado-1" in log
    # each person a notice asked acknowledges their own: the IRO has, the others not yet
    notices = manager.locator("#notices + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "Staff iro-1: acknowledged 10 November 2026" in notices
    assert "Staff lado-1: Not yet" in notices
    checked(manager, "09-case-with-access-log")
    manager.goto(f"{site}/timeliness?process=allegation")  # type: ignore[attr-defined]
    chart = manager.locator("svg.app-chart")  # type: ignore[attr-defined]
    assert chart.count() == 1 and "steps done each month" in chart.locator("title").first.text_content()  # fmt: skip
    assert "Nov 2026" in manager.locator("table").first.inner_text()  # type: ignore[attr-defined]
    checked(manager, "10-timeliness")
    manager.goto(f"{site}/staff")  # type: ignore[attr-defined]
    checked(manager, "11-staff")

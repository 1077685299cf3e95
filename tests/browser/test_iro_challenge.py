"""The IRO's challenge in Chromium, on forms generated from its inputs: an IRO signs in and sees
their children, raises a challenge, records that the informal stage did not resolve it (the alert
to the team manager); the team manager answers on their form; the IRO records that the answer
does not resolve it and alerts the service manager, and sees that stage open. Each page is checked
with axe-core and saved as a screenshot. The flow's part (opening each step) is played by
`FlowDouble`, as in test_recording.py: the real flow is driven in tests/flows. And an action
overdue past its ladder's last rung, challenged from the case page: the form filled in."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import accounts, cases
from models.db import make_engine, session_scope
from models.tables import Submission
from notifications import sweep as outbox_sweep
from tests.browser.test_in_chromium import PASSWORD, checked, go, serve, signed_in
from tests.browser.test_recording import fill_date
from tests.cases import CALENDAR, POLICY, add_team, advance_case, at, open_step, record, start_case
from tests.conftest import migrate
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

NOW = at("2026-11-12T10:00")


class FlowDouble:
    """What flows/iro_dispute.py does after each record, for the steps this test takes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.responses = 0

    def launch(self, case_id: int) -> None:
        with Session(self.engine) as session:
            ref = cases.case_by_id(session, case_id).reference
        advance_case(self.engine, ref, ["cafcass_referral"], NOW)
        advance_case(self.engine, ref, ["informal_resolution"], NOW)

    def carry_on(self, _run_id: str | None, submission_id: int) -> None:
        with Session(self.engine) as session:
            stored = session.get(Submission, submission_id)
            assert stored is not None
            case = cases.case_by_id(session, stored.case_id)
            ref = case.reference
        sequence = self.responses if stored.kind == "response_considered" else 1
        advance_case(self.engine, ref, [stored.kind], NOW, sequence)
        with Session(self.engine) as session:
            stage = cases.details_of(cases.get_case(session, ref)).get("stage")
        if stored.kind in ("informal_resolution", "response_considered") and stage:
            advance_case(self.engine, ref, ["formal_total"], NOW)
            advance_case(self.engine, ref, [f"formal_{stage}"], NOW)
        elif stored.kind.startswith("formal_"):
            self.responses += 1
            advance_case(self.engine, ref, ["response_considered"], NOW, self.responses)


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("iro-1", "tm-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=NOW, actor_id=None)
    start_case(engine)  # an allegation about the child: on the IRO's picture from the start
    flow = FlowDouble(engine)
    with serve(engine, NOW, carry_on=flow.carry_on, launch=flow.launch) as address:
        yield address, engine
    engine.dispose()


def test_an_iro_challenges_and_the_team_manager_answers(
    site: tuple[str, Engine], browser: object
) -> None:
    address, _ = site
    iro = signed_in(browser, address, "iro-1")
    go(iro, "a:has-text('My children')")
    assert "ALG-2026-0001" in iro.content()  # type: ignore[attr-defined]
    checked(iro, "81-my-children")

    go(iro, "a:has-text('My work')")
    go(iro, "a:has-text('Start an IRO challenge')")
    iro.fill("#child-child", "C-9 Zebedee Quartermain")  # type: ignore[attr-defined]
    iro.select_option("#child-iro", "iro-1")  # type: ignore[attr-defined]
    iro.select_option("#child-social_worker", "sw-1")  # type: ignore[attr-defined]
    iro.select_option("#team_manager", "tm-1")  # type: ignore[attr-defined]
    iro.check("input[name='category'][value='contact']")  # type: ignore[attr-defined]
    iro.fill("#issue", "the plan says weekly contact; there has been none for a month")  # type: ignore[attr-defined]
    iro.fill("#resolution_sought", "contact restarted within two weeks")  # type: ignore[attr-defined]
    fill_date(iro, "first_raised_on", "2026-11-02")
    iro.fill("#about_case", "ALG-2026-0001")  # type: ignore[attr-defined]
    checked(iro, "82-start-iro-challenge")
    go(iro, "button:has-text('Start the case')")
    assert iro.locator("h1").inner_text() == "IRO-2026-0001"  # type: ignore[attr-defined]

    go(iro, "a:has-text('Record: Informal resolution')")
    iro.check("input[name='raised_with'][value='both']")  # type: ignore[attr-defined]
    fill_date(iro, "discussed_on", "2026-11-05")
    iro.fill("#answer", "no worker free until January")  # type: ignore[attr-defined]
    iro.check("input[name='resolved'][value='no']")  # type: ignore[attr-defined]
    iro.fill("#why", "the child cannot wait until January")  # type: ignore[attr-defined]
    go(iro, "button:has-text('Save and continue')")  # the alert forgotten: refused, on its field
    summary = iro.locator(".govuk-error-summary").inner_text()  # type: ignore[attr-defined]
    assert "Select who the formal alert goes to" in summary
    checked(iro, "83-informal-stage-refused")
    iro.check("input[name='next_stage'][value='team_manager']")  # type: ignore[attr-defined]
    fill_date(iro, "alerted_on", "2026-11-05")
    go(iro, "button:has-text('Save and continue')")
    steps = iro.locator("#steps + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "Formal stage 1: the team manager responds" in steps

    tm = signed_in(browser, address, "tm-1")
    assert "Formal stage 1: the team manager responds" in tm.content()  # type: ignore[attr-defined]
    go(tm, "a:has-text('IRO-2026-0001')")
    go(tm, "a:has-text('Record: Formal stage 1')")
    fill_date(tm, "responded_on", "2026-11-10")
    tm.fill("#decision", "contact resumes when a worker is free")  # type: ignore[attr-defined]
    tm.fill("#reasons", "two vacancies in the team")  # type: ignore[attr-defined]
    checked(tm, "84-team-manager-answers")
    go(tm, "button:has-text('Save and continue')")
    assert "Team manager response" in tm.content()  # type: ignore[attr-defined]

    iro.goto(f"{address}/cases/IRO-2026-0001")  # type: ignore[attr-defined]
    go(iro, "a:has-text('Record: The IRO decides')")
    fill_date(iro, "considered_on", "2026-11-11")
    iro.check("input[name='resolved'][value='no']")  # type: ignore[attr-defined]
    iro.fill("#why", "vacancies do not answer the child's need")  # type: ignore[attr-defined]
    iro.check("input[name='next_stage'][value='service_manager']")  # type: ignore[attr-defined]
    iro.select_option("#responder", "sm-1")  # type: ignore[attr-defined]
    fill_date(iro, "alerted_on", "2026-11-11")
    checked(iro, "85-iro-considers-the-response")
    go(iro, "button:has-text('Save and continue')")
    steps = iro.locator("#steps + .app-table-container table").inner_text()  # type: ignore[attr-defined]
    assert "Formal stage 2: the service manager responds" in steps
    assert "Staff sm-1" in steps  # the responder named in the alert owns the stage
    checked(iro, "86-the-next-stage-open")
    go(iro, "a:has-text('My children')")
    assert "at formal stage 2: the service manager responds" in iro.content()  # type: ignore[attr-defined]


@pytest.fixture
def overdue(tmp_path: Path, smtp: SmtpServer) -> Iterator[str]:
    """An allegation whose meeting's action, due Wed 4 Nov, is past the ladder's last rung."""
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("iro-1", "hos-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=NOW, actor_id=None)
    ref = start_case(engine)
    consideration = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "a mark"}  # fmt: skip
    record(engine, ref, "initial_consideration", consideration, at("2026-11-02T16:00"))
    open_step(engine, ref, "allegation_meeting", now=at("2026-11-02T16:05"))
    meeting = {"held_on": "2026-11-02", "attendees": ["lado"], "actions": [{"title": "Police interview", "owner": "sw-1", "due": "2026-11-04"}]}  # fmt: skip
    record(engine, ref, "allegation_meeting", meeting, at("2026-11-02T17:00"))
    outbox_sweep.sweep(
        engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-12T09:00")
    )  # 6 working days late
    with serve(engine, NOW) as address:
        yield address
    engine.dispose()


def test_an_overdue_action_at_the_top_of_its_ladder_is_challenged_from_the_case(
    overdue: str, browser: object
) -> None:
    iro = signed_in(browser, overdue, "iro-1")
    iro.goto(f"{overdue}/cases/ALG-2026-0001")  # type: ignore[attr-defined]
    checked(iro, "87-case-challenge-this")
    go(iro, "a:has-text('Challenge this as the child')")
    assert iro.locator("h1").inner_text() == "IRO dispute resolution"  # type: ignore[attr-defined]
    assert iro.input_value("#about_case") == "ALG-2026-0001"  # type: ignore[attr-defined]
    assert "Police interview" in iro.input_value("#about_item")  # type: ignore[attr-defined]
    assert iro.input_value("#child-iro") == "iro-1"  # type: ignore[attr-defined]
    checked(iro, "88-challenge-filled-in")


def test_service_health_in_the_browser(overdue: str, browser: object) -> None:
    """The managers' Service health page, as a manager reads it."""
    manager = signed_in(browser, overdue, "hos-1")
    manager.goto(f"{overdue}/service-health")  # type: ignore[attr-defined]
    assert "Scheduled sweep" in manager.content()  # type: ignore[attr-defined]
    checked(manager, "89-service-health")

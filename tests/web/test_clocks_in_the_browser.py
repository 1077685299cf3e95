"""A step's clock in the browser, with the CLI's rules: stopped (reason and approver: only
those senior enough are offered, a missing reason is refused on its field), started again, and a
complaint's stage 2 extended (the day the complainant was told asked, as the law asks; past the
legal maximum refused, naming it). Each changes the case page and its timeline; a refusal
changes nothing."""

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import accounts, cases, steps
from models.db import session_scope
from models.staff import add_staff
from models.tables import ClockStop, Extension
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, advance_case, start_as, submit_as
from tests.smtp import SmtpServer
from tests.web.test_case_page import section, site, words
from tests.web.test_web_security import PASSWORD, Clock, csrf_of, sign_in
from web.app import create_app
from web.deps import WebDeps

__all__ = ["site"]  # the allegation of test_case_page: its outcome open, the LADO its recorder


def options(page: str, field: str) -> list[str]:
    start = page.index(f'id="{field}"')
    return re.findall(r'<option value="([^"]*)"', page[start : page.index("</select>", start)])


def test_a_clock_stopped_and_started_again_in_the_browser(site: TestClient, engine: Engine) -> None:
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001").text
    assert 'href="/cases/ALG-2026-0001/clock/outcome/stop"' in page
    form = site.get("/cases/ALG-2026-0001/clock/outcome/stop").text
    offered = options(form, "approver")  # a LADO manager or anyone more senior (the CLI's rule)
    assert {"ladom-1", "hos-1"} <= set(offered) and not {"lado-1", "lado-2", "sw-1"} & set(offered)
    assert "Why the clock stops" in form and "Approved by" in form
    refused = site.post("/cases/ALG-2026-0001/clock/outcome/stop", data={"csrf_token": csrf_of(form), "approver": "ladom-1", "save": "1"})  # fmt: skip
    assert refused.status_code == 400 and 'href="#reason"' in refused.text
    junior = site.post("/cases/ALG-2026-0001/clock/outcome/stop", data={"csrf_token": csrf_of(form), "reason": "police", "approver": "lado-2", "save": "1"})  # fmt: skip
    assert junior.status_code == 400 and "too junior" in junior.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ClockStop)).one() == 0
    stopped = site.post("/cases/ALG-2026-0001/clock/outcome/stop", data={"csrf_token": csrf_of(form), "reason": "the police asked us to wait", "approver": "ladom-1", "save": "1"})  # fmt: skip
    assert stopped.status_code == 303
    page = site.get(stopped.headers["location"]).text
    assert "Clock stopped" in page and "the police asked us to wait" in page
    assert "Start the clock again" in page
    assert "Conclude and categorise the outcome: clock stopped by Staff lado-1" in words(section(page, "timeline"))  # fmt: skip
    resumed = site.post("/cases/ALG-2026-0001/clock/outcome/resume", data={"csrf_token": csrf_of(page)})  # fmt: skip
    assert resumed.status_code == 303
    page = site.get(resumed.headers["location"]).text
    assert "Clock started again" in page
    assert "Conclude and categorise the outcome: clock started again by Staff lado-1" in words(section(page, "timeline"))  # fmt: skip
    with Session(engine) as session:
        [stop] = session.exec(select(ClockStop)).all()
        assert (stop.approver_id, stop.recorded_by, stop.resumed_by) == ("ladom-1", "lado-1", "lado-1")  # fmt: skip


def test_a_complaints_stage_2_extended_in_the_browser(engine: Engine, smtp: SmtpServer) -> None:
    from tests.integration.test_complaint import START, STATEMENT, TEAM

    now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # stage 2 due Fri 6 Nov
    with session_scope(engine) as session:
        add_staff(session=session, check_address=accept_any_address, now=datetime(2026, 1, 5, tzinfo=UTC), people=[person(sid, *roles, manager=mgr, addresses=[smtp.url(sid)], independent=ind) for sid, roles, mgr, ind in TEAM])  # fmt: skip
        accounts.set_password(session, staff_id="cm-1", password=PASSWORD, now=now, actor_id=None)
    ref = start_as(engine, "complaint", "cm-1", START, now)
    for name, payload in (("eligibility", {"accepted": True}), ("stage2_appointments", STATEMENT)):
        advance_case(engine, ref, [name], now)
        submit_as(engine, ref, name, payload, "cm-1", now)
        advance_case(engine, ref, [name], now)
    advance_case(engine, ref, ["stage2_response"], now)
    with session_scope(engine) as session:
        assert cases.get_case(session, ref) and steps
    app = create_app(WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=Clock(now), secret=b"k" * 32))  # fmt: skip
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(client, "cm-1")
    page = client.get(f"/cases/{ref}").text
    assert f'href="/cases/{ref}/clock/stage2_response/extend"' in page
    form = client.get(f"/cases/{ref}/clock/stage2_response/extend").text
    assert "at most 65 working days" in form and "In working days" in form
    assert "Day the person was told in writing" in form and "(optional)" not in words(form).split("Day the person was told")[1][:40]  # fmt: skip
    base = {"csrf_token": csrf_of(form), "reason": "a witness is away", "approver": "cm-1", "save": "1"}  # fmt: skip
    untold = client.post(f"/cases/{ref}/clock/stage2_response/extend", data={**base, "to": "45"})
    assert untold.status_code == 400 and 'href="#told_on"' in untold.text
    assert "--told-on" not in untold.text  # the form's words, never the CLI's option
    told = {"told_on-day": "20", "told_on-month": "10", "told_on-year": "2026"}
    past = client.post(f"/cases/{ref}/clock/stage2_response/extend", data={**base, **told, "to": "70"})  # fmt: skip
    assert past.status_code == 400 and "past the legal maximum" in past.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Extension)).one() == 0
    done = client.post(f"/cases/{ref}/clock/stage2_response/extend", data={**base, **told, "to": "45"})  # fmt: skip
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "Timescale extended" in page
    assert "Stage 2 investigation and adjudication: extended to 45 working days" in words(section(page, "timeline"))  # fmt: skip

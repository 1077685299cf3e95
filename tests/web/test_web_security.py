"""The browser app's guard rails, on SQLite and PostgreSQL, through HTTP (Starlette's test client):
nothing without signing in; a session cookie altered by one byte opens nothing; every form needs its
CSRF token; five failed sign-ins lock an account; someone who has left cannot sign in; signing out
ends the session; no page shows a password or an Apprise address; every view of a case is logged,
and an allegation you have no part in asks why first."""

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import accounts, handover
from models.db import session_scope
from models.errors import InputError
from models.tables import AuditEntry, Case, CaseView, Notice, NoticeDelivery, StaffCredential
from tests.cases import CALENDAR, POLICY, add_team, at, start_case, sweep
from tests.smtp import SmtpServer
from web.app import create_app
from web.deps import SESSION_COOKIE, WebDeps

PASSWORD = "correct horse battery staple"
PAGES = ["/my-work", "/notices", "/board", "/board.csv", "/timeliness", "/timeliness.csv", "/staff", "/cases/ALG-2026-0001", "/cases/ALG-2026-0001/record/initial_consideration", "/start/allegation"]  # fmt: skip
FORMS = ["/sign-out", "/notices/1/acknowledge", "/cases/ALG-2026-0001/reason", "/cases/ALG-2026-0001/record/initial_consideration", "/start/allegation", "/cases/ALG-2026-0001/decisions/1/rationale", "/cases/ALG-2026-0001/actions/1"]  # fmt: skip


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-04T09:30"))


@pytest.fixture
def site(engine: Engine, smtp: SmtpServer, clock: Clock) -> TestClient:
    """The team (with passwords), one allegation whose initial consideration has lapsed (the
    LADO and their manager told, to acknowledge), and the app on it."""
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("lado-1", "lado-2", "ladom-1", "iro-1", "sw-1", "tm-1", "ssw-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    start_case(engine)
    sweep(engine, at("2026-11-04T09:00"))  # initial consideration due Tue 3 Nov: lapsed
    app = create_app(
        WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"k" * 32)
    )
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, who: str, password: str = PASSWORD) -> "object":
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={
            "staff_id": who,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/my-work",
        },
    )


def test_nothing_is_shown_or_done_without_signing_in(site: TestClient) -> None:
    for path in PAGES:
        answer = site.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), path
        assert "ALG-2026" not in answer.text
    for path in FORMS:
        assert site.post(path, data={"csrf_token": "x"}).status_code == 401, path


def test_a_session_cookie_altered_by_one_byte_opens_nothing(site: TestClient) -> None:
    assert sign_in(site, "iro-1").status_code == 303
    assert site.get("/my-work").status_code == 200
    cookie = site.cookies[SESSION_COOKIE]
    # Each position, and at the last one every other character (base64's last character has
    # spare bits: a lax decoder would read some of those spellings as the same signature).
    last = len(cookie) - 1
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changes = [(n, "A" if cookie[n] != "A" else "B") for n in range(0, last, 7)]
    changes += [(last, c) for c in alphabet if c != cookie[last]]
    for position, character in changes:
        changed = cookie[:position] + character + cookie[position + 1 :]
        site.cookies.set(SESSION_COOKIE, changed)
        answer = site.get("/my-work")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


def test_every_form_needs_its_csrf_token(site: TestClient, engine: Engine) -> None:
    sign_in(site, "lado-1")
    page = site.get("/my-work").text
    notice = int(re.search(r'action="/notices/(\d+)/acknowledge"', page).group(1))  # type: ignore[union-attr]
    for data in ({}, {"csrf_token": "not-the-token"}):
        answer = site.post(f"/notices/{notice}/acknowledge", data=data)
        assert answer.status_code == 403 and "This form has expired" in answer.text
        assert site.post("/sign-out", data=data).status_code == 403
    with Session(engine) as session:
        assert session.get(Notice, notice).acknowledged_at is None  # type: ignore[union-attr]
    # The sign-in form too: without the token its cookie pairs with, nothing is checked.
    site.cookies.clear()
    answer = site.post(
        "/sign-in", data={"staff_id": "lado-1", "password": PASSWORD, "csrf_token": "x"}
    )
    assert answer.status_code == 403


def test_one_click_acknowledges_a_notice_and_the_page_says_so(
    site: TestClient, engine: Engine
) -> None:
    sign_in(site, "lado-1")
    page = site.get("/my-work").text
    assert "ALG-2026-0001" in page and "Initial consideration" in page
    notice = int(re.search(r'action="/notices/(\d+)/acknowledge"', page).group(1))  # type: ignore[union-attr]
    answer = site.post(f"/notices/{notice}/acknowledge", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    said = site.get(answer.headers["location"]).text
    with Session(engine) as session:
        subject = session.get(Notice, notice).subject  # type: ignore[union-attr]
    assert f"You acknowledged: {subject}" in said.replace("&#39;", "'")
    assert f"Notice {notice}" not in said  # what it was about, never its number
    with Session(engine) as session:
        mine = session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice, NoticeDelivery.staff_id == "lado-1")).one()  # fmt: skip
        assert mine.acknowledged_at is not None
        # it went to the LADO's manager too: theirs is still due (one person's acknowledgement
        # never discharges another's)
        assert session.get(Notice, notice).acknowledged_at is None  # type: ignore[union-attr]
    assert f'action="/notices/{notice}/acknowledge"' not in site.get("/my-work").text
    # Someone it was not sent to cannot acknowledge it.
    site.cookies.clear()
    sign_in(site, "sw-1")
    page = site.get("/my-work").text
    answer = site.post(f"/notices/{notice}/acknowledge", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 400 and "only a recipient" in answer.text


def test_five_failures_lock_an_account_for_a_while(
    site: TestClient, engine: Engine, clock: Clock
) -> None:
    for _ in range(accounts.LOCK_AFTER):
        answer = sign_in(site, "iro-1", "wrong password entirely")
        assert answer.status_code == 400 and "staff id or password is not right" in answer.text
    locked = sign_in(site, "iro-1")  # the right password, but locked
    assert locked.status_code == 400 and "locked after 5 failed sign-ins" in locked.text
    assert SESSION_COOKIE not in site.cookies
    # An unknown id is refused in the same words (it does not say which was wrong, nor that the
    # id exists), on the whole form, not on the id
    unknown = sign_in(site, "nobody-9").text
    assert "staff id or password is not right" in unknown

    def refusal(page: str) -> str:
        return re.search(
            r'govuk-error-summary__list">\s*<li><a href="#sign-in">([^<]+)</a>', page
        ).group(1)  # type: ignore[union-attr]

    assert refusal(unknown) == refusal(locked.text)
    assert 'id="staff_id-error"' not in unknown and "govuk-input--error" not in unknown
    clock.now += accounts.LOCKED_FOR + timedelta(seconds=1)
    assert sign_in(site, "iro-1").status_code == 303
    with Session(engine) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "staff.sign_in_refused")).all()  # fmt: skip
        assert len(refused) == accounts.LOCK_AFTER + 2  # five wrong, one while locked, one unknown


def test_someone_who_has_left_cannot_sign_in_and_their_session_ends(
    site: TestClient, engine: Engine, clock: Clock
) -> None:
    assert sign_in(site, "lado-2").status_code == 303
    with session_scope(engine) as session:
        handover.leave(session=session, policy=POLICY, calendar=CALENDAR, staff_id="lado-2", on=clock.now.date(), successor=None, actor_id=None, now=clock.now)  # fmt: skip
    assert site.get("/my-work").status_code == 303  # the live session opens nothing now
    site.cookies.clear()
    answer = sign_in(site, "lado-2")
    assert answer.status_code == 400 and "your account was closed when you left" in answer.text
    assert "ask your manager" in answer.text and "safeguard staff" not in answer.text


def test_signing_out_ends_the_session(site: TestClient) -> None:
    sign_in(site, "iro-1")
    cookie = site.cookies[SESSION_COOKIE]
    page = site.get("/my-work").text
    assert site.post("/sign-out", data={"csrf_token": csrf_of(page)}).status_code == 303
    site.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, kept by someone: opens nothing
    assert site.get("/my-work").status_code == 303


def test_no_page_shows_a_password_or_an_address(
    site: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    sign_in(site, "ladom-1")
    seen = "".join(site.get(p).text for p in PAGES) + site.get("/board.csv").text
    assert "ALG-2026-0001" in seen
    for secret in (PASSWORD, smtp.url("ladom-1"), "mailto", "smtp://", "argon2"):
        assert secret not in seen
    with Session(engine) as session:
        stored = session.get(StaffCredential, "ladom-1")
        assert stored is not None and stored.password_hash and PASSWORD not in stored.password_hash


def test_pages_follow_roles(site: TestClient) -> None:
    sign_in(site, "sw-1")
    for path in ("/board", "/board.csv", "/staff", "/timeliness", "/timeliness.csv"):
        answer = site.get(path)
        assert answer.status_code == 403 and "for managers" in answer.text
    site.cookies.clear()
    sign_in(site, "ladom-1")
    board = site.get("/board?rag=red").text
    assert "ALG-2026-0001" in board and "Late" in board
    csv = site.get("/board.csv?process=allegation").text.splitlines()
    assert csv[0].startswith("reference,process,step,title,due")
    assert csv[1].startswith("ALG-2026-0001,allegation,initial_consideration")
    assert "lado-1" in csv[1]  # who it waits on
    assert "ALG-2026-0001" not in site.get("/board?rag=green").text
    timeliness = site.get("/timeliness?process=allegation&months=3")
    assert timeliness.status_code == 200 and "<svg" in timeliness.text
    rows = site.get("/timeliness.csv?process=allegation&months=3").text.splitlines()
    assert rows[0] == "month,in time,in time with extension,in time (clock stopped),late"
    assert [r.split(",")[0] for r in rows[1:]] == ["Sep 2026", "Oct 2026", "Nov 2026"]
    assert site.get("/timeliness?process=nothing").status_code == 404


def test_every_view_is_logged_and_an_allegation_not_yours_asks_why(
    site: TestClient, engine: Engine
) -> None:
    sign_in(site, "iro-1")  # the child's IRO: part of the case
    assert "Initial consideration" in site.get("/cases/ALG-2026-0001").text
    site.cookies.clear()
    sign_in(site, "tm-1")  # no part in it
    answer = site.get("/cases/ALG-2026-0001")
    assert answer.status_code == 303 and answer.headers["location"] == "/cases/ALG-2026-0001/reason"
    form = site.get(answer.headers["location"]).text
    empty = site.post(
        "/cases/ALG-2026-0001/reason", data={"csrf_token": csrf_of(form), "reason": " "}
    )
    assert empty.status_code == 400 and 'href="#reason"' in empty.text  # the error summary links it
    given = site.post("/cases/ALG-2026-0001/reason", data={"csrf_token": csrf_of(form), "reason": "covering the duty desk"})  # fmt: skip
    assert given.status_code == 200 and "Initial consideration" in given.text
    assert site.get("/cases/ALG-2026-0001").status_code == 200  # the reason stands this session
    assert "Access log" not in given.text  # only LADO managers read it
    site.cookies.clear()
    sign_in(site, "ladom-1")
    form = site.get(site.get("/cases/ALG-2026-0001").headers["location"]).text
    page = site.post("/cases/ALG-2026-0001/reason", data={"csrf_token": csrf_of(form), "reason": "oversight"}).text  # fmt: skip
    assert "Access log" in page and "covering the duty desk" in page
    with Session(engine) as session:
        log = [(v.staff_id, v.reason) for v in session.exec(select(CaseView)).all()]
    assert log == [
        ("iro-1", None),
        ("tm-1", "covering the duty desk"),
        ("tm-1", "covering the duty desk"),
        ("ladom-1", "oversight"),
    ]


def test_the_first_password_is_set_at_the_terminal(
    engine: Engine,
    smtp: SmtpServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`safeguard staff set-password ID --password-stdin`: kept only as an argon2 hash; a short
    one, or someone unknown, is refused and nothing changes."""
    import io

    from safeguard.cli import main

    add_team(engine, smtp)
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)

    def run(who: str, password: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return main(["staff", "set-password", who, "--password-stdin"])

    assert run("hos-1", "too short") == 2
    assert "use at least 12" in capsys.readouterr().err
    assert run("nobody-9", PASSWORD) == 2
    with Session(engine) as session:
        assert session.get(StaffCredential, "hos-1") is None
    assert run("hos-1", PASSWORD) == 0
    assert "password set for hos-1" in capsys.readouterr().out
    with Session(engine) as session:
        kept = session.get(StaffCredential, "hos-1")
        assert kept is not None and kept.password_hash.startswith("$argon2")  # type: ignore[union-attr]
        assert accounts.sign_in(session, staff_id="hos-1", password=PASSWORD, now=at("2026-11-02T09:00")).staff_id == "hos-1"  # fmt: skip


def test_passwords_are_hashed_with_the_production_parameters(
    engine: Engine, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside the tests, argon2id with 64 MiB and 3 passes (RFC 9106); a password kept with weaker
    parameters (as every other test keeps them, for speed) is hashed again at its next sign-in."""
    add_team(engine, smtp)
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="lado-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
        weak = session.get(StaffCredential, "lado-1").password_hash  # type: ignore[union-attr]
    assert weak.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    monkeypatch.setattr(accounts, "_hasher", accounts.PRODUCTION_HASHER)
    with session_scope(engine) as session:
        accounts.sign_in(session, staff_id="lado-1", password=PASSWORD, now=at("2026-11-02T09:00"))  # fmt: skip
        rehashed = session.get(StaffCredential, "lado-1").password_hash  # type: ignore[union-attr]
        accounts.set_password(session, staff_id="lado-2", password=PASSWORD, now=at("2026-11-02T09:00"), actor_id=None)  # fmt: skip
        fresh = session.get(StaffCredential, "lado-2").password_hash  # type: ignore[union-attr]
    for kept in (rehashed, fresh):
        assert kept.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    with session_scope(engine) as session:
        assert accounts.sign_in(session, staff_id="lado-2", password=PASSWORD, now=at("2026-11-02T09:05")).staff_id == "lado-2"  # fmt: skip
        with pytest.raises(InputError, match="not right"):
            accounts.sign_in(session, staff_id="nobody-9", password=PASSWORD, now=at("2026-11-02T09:05"))  # fmt: skip


def test_case_show_as_a_person_is_logged_too(
    engine: Engine,
    smtp: SmtpServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At the terminal, `case show --as ID` logs the view as the browser does (asking the reason
    for an allegation not theirs), and shows the access log to a LADO manager."""
    import json

    from safeguard.cli import main

    add_team(engine, smtp)
    ref = start_case(engine)
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    assert main(["case", "show", ref, "--as", "tm-1"]) == 2
    assert "no part in" in capsys.readouterr().err
    assert main(["case", "show", ref, "--as", "tm-1", "--reason", "duty desk"]) == 0
    assert "access log" not in capsys.readouterr().out
    assert main(["case", "show", ref, "--as", "ladom-1", "--reason", "oversight", "--json"]) == 0
    log = json.loads(capsys.readouterr().out)["access_log"]
    assert [(v["who"], v["reason"], v["via"]) for v in log] == [
        ("ladom-1", "oversight", "cli"),
        ("tm-1", "duty desk", "cli"),
    ]


def test_a_social_worker_cannot_record_a_lado_step(site: TestClient, engine: Engine) -> None:
    from models.tables import Submission

    sign_in(site, "sw-1")
    page = site.get("/cases/ALG-2026-0001/record/initial_consideration")
    assert page.status_code == 403 and "needs the role LADO" in page.text
    form = {"csrf_token": csrf_of(site.get("/my-work").text), "threshold_met": "no", "route": "advice", "rationale": "r", "save": "1"}  # fmt: skip
    answer = site.post("/cases/ALG-2026-0001/record/initial_consideration", data=form)
    assert answer.status_code == 403
    assert site.post("/cases/ALG-2026-0001/record/initial_consideration", data={**form, "csrf_token": "x"}).status_code == 403  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(Submission)).all() == []
    # The LADO's form: refused input is shown on its field, what was typed kept, nothing stored.
    site.cookies.clear()
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001/record/initial_consideration").text
    assert 'name="form_key"' in page and "Is the harm threshold met?" in page
    answer = site.post(
        "/cases/ALG-2026-0001/record/initial_consideration",
        data={
            "csrf_token": csrf_of(page),
            "threshold_met": "yes",
            "route": "allegation_meeting",
            "rationale": "a mark seen",
            "save": "1",
        },
    )
    assert answer.status_code == 400
    assert (
        'href="#threshold_met"' in answer.text
        and "choose the limbs of it that apply" in answer.text
    )
    assert "a mark seen" in answer.text
    with Session(engine) as session:
        assert session.exec(select(Submission)).all() == []


def test_a_record_waits_to_be_applied_and_the_case_page_says_so(
    site: TestClient, clock: Clock, engine: Engine
) -> None:
    """DESIGN rule 13, the browser as the CLI: a record is stored at once whatever Prefect is
    doing (here the flow is never nudged); the case page says it is being applied, and once that
    has taken more than a minute, that it is saved and will be applied when the service is back."""
    from models.tables import Submission

    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001/record/initial_consideration").text
    answer = site.post(
        "/cases/ALG-2026-0001/record/initial_consideration",
        data={
            "csrf_token": csrf_of(page),
            "threshold_met": "no",
            "route": "advice",
            "rationale": "single agency",
            "approved_by": "ladom-1",
            "follow_up": "a visit",
            "save": "1",
        },
    )
    assert answer.status_code == 303
    with Session(engine) as session:
        assert len(session.exec(select(Submission)).all()) == 1
    first = site.get("/cases/ALG-2026-0001").text
    assert "Being applied" in first and "moves on by itself in a few seconds" in first
    clock.now += timedelta(minutes=2)
    later = site.get("/cases/ALG-2026-0001").text
    assert "Being applied" in later and "will be applied when that service is back" in later


def test_a_rule_across_the_case_is_shown_on_the_field_it_is_about(site: TestClient) -> None:
    """A declaration's check names the field it refuses: closing at the initial consideration
    without its approval is shown on "Approved by", not guessed from the words."""
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001/record/initial_consideration").text
    answer = site.post(
        "/cases/ALG-2026-0001/record/initial_consideration",
        data={
            "csrf_token": csrf_of(page),
            "threshold_met": "no",
            "route": "advice",
            "rationale": "r",
            "save": "1",
        },
    )
    assert answer.status_code == 400
    assert 'href="#approved_by"' in answer.text and 'id="approved_by-error"' in answer.text
    assert "needs who approved it" in answer.text


def test_a_rationale_is_added_and_an_action_updated_by_who_may(
    site: TestClient, engine: Engine
) -> None:
    """The case page's own forms: a decision's rationale by its author (or their managers), an
    action's update by its owner (or theirs); anyone else is refused, saying who may."""
    from models.tables import Action, Rationale
    from tests.cases import open_step, record

    threshold = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"}
    record(engine, "ALG-2026-0001", "initial_consideration", threshold, at("2026-11-04T09:00"), late_reason="the LADO was off sick")  # fmt: skip
    open_step(engine, "ALG-2026-0001", "allegation_meeting")
    meeting = {"held_on": "2026-11-04", "attendees": ["lado"], "actions": [{"title": "Visit the child", "owner": "sw-1", "due": 3}]}  # fmt: skip
    record(engine, "ALG-2026-0001", "allegation_meeting", meeting, at("2026-11-04T09:10"))
    sign_in(site, "sw-1")
    page = site.get("/cases/ALG-2026-0001").text
    assert "Rationale due" in page and "Update the action" in page
    decision = int(re.search(r'/decisions/(\d+)/rationale"', page).group(1))  # type: ignore[union-attr]
    refused = site.post(f"/cases/ALG-2026-0001/decisions/{decision}/rationale", data={"csrf_token": csrf_of(page), "rationale": "r"})  # fmt: skip
    assert refused.status_code == 400 and "Only lado-1 (who decided)" in refused.text
    # carried forward: the new due day typed as a GOV.UK date (day, month, year); a day that is no
    # day is refused in words and changes nothing
    carried = {"csrf_token": csrf_of(page), "status": "carried_forward", "reason": "the child was away"}  # fmt: skip
    bad = site.post("/cases/ALG-2026-0001/actions/1", data={**carried, "new_due-day": "31", "new_due-month": "2", "new_due-year": "2027"})  # fmt: skip
    assert bad.status_code == 400 and "New due day must be a real date" in bad.text
    partial = site.post("/cases/ALG-2026-0001/actions/1", data={**carried, "new_due-day": "9", "new_due-year": "2026"})  # fmt: skip
    assert partial.status_code == 400 and "must include a day, month and year" in partial.text
    moved = site.post("/cases/ALG-2026-0001/actions/1", data={**carried, "new_due-day": "11", "new_due-month": "11", "new_due-year": "2026"})  # fmt: skip
    assert moved.status_code == 303
    with Session(engine) as session:
        from models.tables import ActionUpdate

        [update] = session.exec(select(ActionUpdate).where(ActionUpdate.action_id == 1)).all()
        assert (update.reason, str(update.new_due_on)) == ("the child was away", "2026-11-11")
        assert str(session.get(Action, 1).due_on) == "2026-11-11"  # type: ignore[union-attr]
    page = site.get("/cases/ALG-2026-0001").text
    done = site.post("/cases/ALG-2026-0001/actions/1", data={"csrf_token": csrf_of(page), "status": "done"})  # fmt: skip
    assert done.status_code == 303 and "Action updated" in site.get(done.headers["location"]).text
    site.cookies.clear()
    sign_in(site, "lado-1")
    page = site.get("/cases/ALG-2026-0001").text
    added = site.post(f"/cases/ALG-2026-0001/decisions/{decision}/rationale", data={"csrf_token": csrf_of(page), "rationale": "a mark seen at school"})  # fmt: skip
    assert added.status_code == 303
    assert "a mark seen at school" in site.get("/cases/ALG-2026-0001").text
    with Session(engine) as session:
        given = session.exec(select(Rationale).where(Rationale.decision_id == decision)).all()
        assert [(r.author_id, r.text) for r in given] == [("lado-1", "a mark seen at school")]
        assert session.get(Action, 1).status.value == "done"  # type: ignore[union-attr]


def test_an_action_is_transferred_to_another_case_and_carries_on_there(
    site: TestClient, engine: Engine
) -> None:
    """Issue 20, item 3: an action transferred between meetings, from the case page, carries on
    open in the case named (its title, owner and due day), its first update saying where it came
    from; a case that is not one, the action's own or a closed one is refused, nothing changed."""
    from models.tables import Action, ActionUpdate
    from tests.cases import open_step, record

    threshold = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}  # fmt: skip
    record(engine, "ALG-2026-0001", "initial_consideration", threshold, at("2026-11-04T09:00"), late_reason="the LADO was off sick")  # fmt: skip
    open_step(engine, "ALG-2026-0001", "allegation_meeting")
    meeting = {"held_on": "2026-11-04", "attendees": ["lado"], "actions": [{"title": "Visit the child", "owner": "sw-1", "due": 3}]}  # fmt: skip
    record(engine, "ALG-2026-0001", "allegation_meeting", meeting, at("2026-11-04T09:10"))
    other = start_case(engine, carer="FC-78 Another Carer")
    with session_scope(engine) as session:
        due_on = session.get(Action, 1).due_on  # type: ignore[union-attr]
    sign_in(site, "sw-1")
    page = site.get("/cases/ALG-2026-0001").text
    assert "Transferred to another case" in page and 'name="to_case"' in page
    moving = {"csrf_token": csrf_of(page), "status": "transferred", "reason": "the police took it on in the other case"}  # fmt: skip
    for to_case, said in (
        ("ALG-2099-0001", "ALG-2099-0001 is not a case here"),
        ("ALG-2026-0001", "is the action's own case"),
        ("", "give the case that carries it on"),
    ):
        refused = site.post("/cases/ALG-2026-0001/actions/1", data={**moving, "to_case": to_case})
        assert refused.status_code == 400 and said in unescape(refused.text), to_case
    with Session(engine) as session:
        assert session.get(Action, 1).status.value == "open"  # type: ignore[union-attr]
        assert len(session.exec(select(Action)).all()) == 1
    moved = site.post("/cases/ALG-2026-0001/actions/1", data={**moving, "to_case": other.lower()})
    assert moved.status_code == 303
    with Session(engine) as session:
        source = session.get(Action, 1)
        assert source is not None and source.status.value == "transferred"
        [carried] = session.exec(select(Action).where(Action.id != 1)).all()
        assert (carried.title, carried.owner_id, carried.due_on, carried.status.value) == ("Visit the child", "sw-1", due_on, "open")  # fmt: skip
        assert session.get(Case, carried.case_id).reference == other  # type: ignore[union-attr]
        said = {u.action_id: u.reason for u in session.exec(select(ActionUpdate))}
        assert said == {1: f"to {other}: the police took it on in the other case", carried.id: "transferred from ALG-2026-0001: the police took it on in the other case"}  # fmt: skip
    assert "Visit the child" in site.get(f"/cases/{other}").text  # its own case shows it, open

"""Signing in with the council's identity provider (OpenID Connect), on SQLite and PostgreSQL,
against a real provider on a port (tests/oidc_provider.py): the authorization code flow with PKCE,
state and nonce; then the ID token's signature, issuer, audience and expiry; then exactly one
person in the staff directory. Each refusal says what to do, is in the audit log, and creates
nothing: no session, no one in the directory.
"""

import base64
import hashlib
import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff, set_sign_in_id
from models.tables import AuditEntry, SignInAttempt, Staff, WebSession
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY
from tests.oidc_provider import Provider, running_provider
from web.app import create_app
from web.deps import COUNCIL_COOKIE, SESSION_COOKIE, WebDeps
from web.oidc import Provider as Client
from web.oidc import ProviderSettings

PAT = "pat.iro@northshire.gov.uk"


class Clock:
    """The app's clock: this moment, moved on when a test says (the provider's tokens are
    stamped with the real time, so the app's clock starts there)."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def app_on(engine: Engine, provider: Provider, clock: Clock, sign_in: str = "oidc", issuer: str | None = None) -> TestClient:  # fmt: skip
    settings = ProviderSettings(issuer=issuer or provider.issuer, client_id="safeguard", client_secret="s3cret", name="Northshire account")  # fmt: skip
    council = Client(settings, clock=clock)
    deps = WebDeps(
        engine=engine, policy=POLICY, calendar=CALENDAR, clock=clock, secret=b"c" * 32,
        sign_in=sign_in, provider=council,
    )  # fmt: skip
    return TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)


@pytest.fixture
def site(engine: Engine, provider: Provider, clock: Clock) -> TestClient:
    provider.tamper = None
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=clock(),
            people=[
                person("irom-1", "iro_manager", name="Robin Manager"),
                person("iro-1", "iro", manager="irom-1", name="Pat Iro", sign_in_id=PAT),
            ],
        )
    provider.add_person(PAT, email=PAT, name="Pat Iro")
    return app_on(engine, provider, clock)


def go(site: TestClient, provider: Provider, sub: str = PAT, next: str = "/my-work") -> "object":
    """Sign in through the provider as `sub`: return our app's answer to the provider's return."""
    leave = site.get("/sign-in/council", params={"next": next})
    assert leave.status_code == 303, leave.text
    back = urlsplit(provider.authorize(leave.headers["location"], sub))
    assert back.path == "/sign-in/council/return"
    return site.get(f"{back.path}?{back.query}")


def refusals(engine: Engine) -> list[dict[str, str]]:
    with Session(engine) as session:
        refused = AuditEntry.action == "staff.sign_in_refused"
        entries = session.exec(select(AuditEntry).where(refused).order_by(col(AuditEntry.id))).all()
        return [e.detail for e in entries]


def sessions(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(WebSession)).all())


def test_a_person_signs_in_with_the_council_account(site: TestClient, provider: Provider, engine: Engine) -> None:  # fmt: skip
    page = site.get("/sign-in")
    assert "Sign in with Northshire account" in page.text
    assert 'name="password"' not in page.text  # SAFEGUARD_SIGN_IN=oidc: no password form
    leave = site.get("/sign-in/council", params={"next": "/my-children"})
    asked = parse_qs(urlsplit(leave.headers["location"]).query)
    assert asked["response_type"] == ["code"] and asked["client_id"] == ["safeguard"]
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    assert asked["redirect_uri"] == ["http://testserver/sign-in/council/return"]
    assert asked["state"][0] not in site.cookies[COUNCIL_COOKIE].split(".")[-1]  # signed
    back = urlsplit(provider.authorize(leave.headers["location"], PAT))
    answer = site.get(f"{back.path}?{back.query}")
    assert answer.status_code == 303 and answer.headers["location"] == "/my-children"
    assert SESSION_COOKIE in site.cookies and COUNCIL_COOKIE not in site.cookies
    assert "Pat Iro" in site.get("/my-work").text
    # PKCE: the code was exchanged with the verifier whose S256 the request carried
    verifier = provider.token_requests[-1]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert asked["code_challenge"] == [digest.decode()]
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "staff.sign_in")).one()
        assert entry.actor_id == "iro-1" and entry.detail == {"by": "council account"}
        assert session.exec(select(SignInAttempt)).one().used_at is not None  # once only
    # signing out ends our session and offers the provider's own sign-out
    csrf = site.get("/my-work").text.split('name="csrf_token" value="')[1].split('"')[0]
    out = site.post("/sign-out", data={"csrf_token": csrf})
    assert out.headers["location"] == "/sign-in?done=signed-out"
    page = site.get(out.headers["location"])
    assert "You have signed out of Safeguard" in page.text
    assert f"{provider.issuer}/oauth2/end_session?client_id=safeguard" in page.text
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Fsign-in" in page.text
    assert site.get("/my-work").status_code == 303


def test_a_token_for_another_service_is_refused(site: TestClient, provider: Provider, engine: Engine) -> None:  # fmt: skip
    provider.tamper = "audience"
    answer = go(site, provider)
    assert answer.status_code == 403 and "You are not signed in" in answer.text
    assert "Northshire account answered, but its answer could not be checked" in answer.text
    assert refusals(engine)[-1]["reason"] == "ID token claim aud wrong"
    assert sessions(engine) == 0 and SESSION_COOKIE not in site.cookies


def test_a_token_with_a_bad_signature_is_refused(site: TestClient, provider: Provider, engine: Engine) -> None:  # fmt: skip
    provider.tamper = "signature"
    answer = go(site, provider)
    assert answer.status_code == 403 and "could not be checked" in answer.text
    assert refusals(engine)[-1]["reason"].startswith("ID token not valid")
    assert sessions(engine) == 0


def test_a_sign_in_left_at_the_provider_too_long_is_refused(site: TestClient, provider: Provider, engine: Engine, clock: Clock) -> None:  # fmt: skip
    leave = site.get("/sign-in/council")
    back = urlsplit(provider.authorize(leave.headers["location"], PAT))
    clock.ahead = timedelta(minutes=11)  # an attempt lasts 10 minutes
    answer = site.get(f"{back.path}?{back.query}")
    assert answer.status_code == 403 and "took too long or was already used" in answer.text
    assert sessions(engine) == 0


def test_an_id_token_past_its_expiry_is_refused(engine: Engine, provider: Provider, clock: Clock, site: TestClient) -> None:  # fmt: skip
    """The token's own expiry, by the app's clock, with the attempt still fresh: the provider
    issues it after the app's clock has moved past the hour it lasts (a provider whose clock is
    behind, or a token held back)."""
    clock.ahead = timedelta(hours=1, minutes=5)  # the app's clock: an hour and more ahead
    answer = go(site, provider)
    assert answer.status_code == 403 and "could not be checked" in answer.text
    assert refusals(engine)[-1]["reason"] == "ID token expired"
    assert sessions(engine) == 0


def test_a_replayed_or_foreign_state_is_refused(site: TestClient, provider: Provider, engine: Engine) -> None:  # fmt: skip
    leave = site.get("/sign-in/council")
    cookie = site.cookies[COUNCIL_COOKIE]
    back = urlsplit(provider.authorize(leave.headers["location"], PAT))
    address = f"{back.path}?{back.query}"
    assert site.get(address).status_code == 303  # signed in once
    replay = app_on(engine, provider, site.app.state.site.deps.clock)
    replay.cookies.set(COUNCIL_COOKIE, cookie)  # the same browser's cookie, the same answer
    again = replay.get(address)
    assert again.status_code == 403 and "took too long or was already used" in again.text
    stranger = app_on(engine, provider, site.app.state.site.deps.clock)  # another browser
    leave = stranger.get("/sign-in/council")
    back = urlsplit(provider.authorize(leave.headers["location"], PAT))
    victim = app_on(engine, provider, site.app.state.site.deps.clock)  # no cookie of that state
    answer = victim.get(f"{back.path}?{back.query}")
    assert answer.status_code == 403 and SESSION_COOKIE not in victim.cookies
    assert sessions(engine) == 1
    assert [r["reason"] for r in refusals(engine)] == ["state not this browser's, used or old"] * 2


def test_an_unknown_person_a_leaver_and_two_matches_are_refused(site: TestClient, provider: Provider, engine: Engine, clock: Clock) -> None:  # fmt: skip
    provider.add_person("sam@northshire.gov.uk", email="sam@northshire.gov.uk")
    answer = go(site, provider, "sam@northshire.gov.uk")
    assert answer.status_code == 403
    said = html.unescape(answer.text)
    assert "Your council account (sam@northshire.gov.uk) is not linked to anyone in Safeguard's staff directory" in said  # fmt: skip
    assert "ask your manager, or whoever runs Safeguard for your council, to link it to you." in said  # fmt: skip
    # a leaver
    with session_scope(engine) as session:
        pat = session.get(Staff, "iro-1")
        assert pat is not None
        pat.active = False
        session.add(pat)
    answer = go(site, provider)
    assert answer.status_code == 403 and "your account was closed when you left" in answer.text
    # two entries with one sign-in id (written past the directory's own check)
    with session_scope(engine) as session:
        pat = session.get(Staff, "iro-1")
        assert pat is not None
        pat.active = True
        session.add(pat)
        manager = session.get(Staff, "irom-1")
        assert manager is not None
        manager.sign_in_id = PAT.upper()
        session.add(manager)
    answer = go(site, provider)
    assert answer.status_code == 403 and "linked to more than one person" in answer.text
    assert [r["reason"] for r in refusals(engine)] == ["no match", "left", "more than one match"]
    assert refusals(engine)[0]["sign_in_id"] == "sam@northshire.gov.uk"
    with Session(engine) as session:
        assert len(session.exec(select(Staff)).all()) == 2  # nothing created
    assert sessions(engine) == 0


def test_both_ways_and_password_only(engine: Engine, provider: Provider, clock: Clock, site: TestClient) -> None:  # fmt: skip
    both = app_on(engine, provider, clock, sign_in="both").get("/sign-in")
    assert "Sign in with Northshire account" in both.text and 'name="password"' in both.text
    assert "Or sign in with a password" in both.text
    password = app_on(engine, provider, clock, sign_in="password")
    page = password.get("/sign-in")
    assert "Northshire account" not in page.text and 'name="password"' in page.text
    assert password.get("/sign-in/council").status_code == 404
    oidc = app_on(engine, provider, clock)
    assert 'name="csrf_token"' not in oidc.get("/sign-in").text  # no password form to post
    # a password posted all the same (with a form token from when passwords were on)
    earlier = app_on(engine, provider, clock, sign_in="both")
    csrf = earlier.get("/sign-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    oidc.cookies.update(earlier.cookies)
    refused = oidc.post("/sign-in", data={"csrf_token": csrf, "staff_id": "iro-1", "password": "x" * 20})  # fmt: skip
    assert refused.status_code == 400
    assert "Passwords are not used here: sign in with Northshire account" in refused.text


def test_a_provider_that_cannot_be_reached_is_said_so(engine: Engine, provider: Provider, clock: Clock, site: TestClient) -> None:  # fmt: skip
    gone = app_on(engine, provider, clock, issuer="http://127.0.0.1:9")  # nothing listens there
    answer = gone.get("/sign-in/council")
    assert answer.status_code == 503
    assert "Safeguard cannot reach Northshire account just now: try again in a few minutes" in answer.text  # fmt: skip


def test_the_directory_keeps_one_person_to_a_sign_in_id(engine: Engine, clock: Clock, site: TestClient) -> None:  # fmt: skip
    taken = f"sign-in id {PAT} already belongs to iro-1"
    with pytest.raises(InputError, match=taken), session_scope(engine) as session:
        set_sign_in_id(session, staff_id="irom-1", value=PAT.title(), now=clock(), actor_id=None)  # fmt: skip
    with pytest.raises(InputError, match="no spaces"), session_scope(engine) as session:
        set_sign_in_id(session, staff_id="irom-1", value="robin manager", now=clock(), actor_id=None)  # fmt: skip
    with session_scope(engine) as session:
        set_sign_in_id(session, staff_id="irom-1", value=" Robin@Northshire.gov.uk ", now=clock(), actor_id="irom-1")  # fmt: skip
    with Session(engine) as session:
        assert session.get(Staff, "irom-1").sign_in_id == "robin@northshire.gov.uk"  # type: ignore[union-attr]

"""Signing in with the council's identity provider, in Chromium (issue 22, part 1): the sign-in
page's one button, the provider's own page (a real OpenID Connect provider on a port,
tests/oidc_provider.py), back signed in; signing out, offered the provider's sign-out too; and
the refusals a person can meet: not in the staff directory, left, a token that fails its checks.
Each page checked with axe-core and saved as a screenshot (90-94)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models.db import make_engine, session_scope
from models.staff import add_staff
from models.tables import Staff
from tests.browser.test_in_chromium import checked, go, serve
from tests.builders import accept_any_address, person
from tests.conftest import migrate
from tests.oidc_provider import Provider, running_provider
from web.oidc import Provider as Client
from web.oidc import ProviderSettings

pytestmark = pytest.mark.browser
PAT = "pat.iro@northshire.gov.uk"


def real_time() -> datetime:
    return datetime.now(UTC)  # the provider stamps its tokens with the real time


@pytest.fixture
def council(tmp_path: Path) -> Iterator[tuple[str, Provider, Engine]]:
    """Two people in the directory (Pat linked to a council account), the provider, the app with
    SAFEGUARD_SIGN_IN=oidc, served."""
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=real_time(),
            people=[
                person("irom-1", "iro_manager", name="Robin Manager"),
                person("iro-1", "iro", manager="irom-1", name="Pat Iro", sign_in_id=PAT),
            ],
        )
    with running_provider() as provider:
        provider.add_person(PAT, email=PAT, name="Pat Iro")
        provider.add_person("sam@northshire.gov.uk", email="sam@northshire.gov.uk")
        settings = ProviderSettings(issuer=provider.issuer, client_id="safeguard", client_secret="s3cret", name="Northshire account")  # fmt: skip
        client = Client(settings, clock=real_time)
        with serve(engine, real_time(), clock=real_time, sign_in="oidc", provider=client) as site:
            yield site, provider, engine
    engine.dispose()


def at_the_provider(page: "object", who: str) -> None:
    """The provider's own sign-in page: who, then Authorize (back to the app)."""
    page.get_by_placeholder("sub").fill(who)  # type: ignore[attr-defined]
    go(page, "button:has-text('Authorize')")


def test_signing_in_and_out_with_the_council_account(council: tuple[str, Provider, Engine], browser: object) -> None:  # fmt: skip
    site, provider, _ = council
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()  # type: ignore[attr-defined]
    page.goto(f"{site}/my-children")
    assert "/sign-in" in page.url and page.locator("#staff_id").count() == 0  # no password form
    checked(page, "90-council-sign-in")
    go(page, "text=Sign in with Northshire account")
    assert page.url.startswith(provider.issuer)
    at_the_provider(page, PAT)
    assert page.url == f"{site}/my-children"  # back where they were going, signed in
    assert page.locator(".app-sign-out__who").inner_text() == "Pat Iro (iro-1)"
    checked(page, "91-council-signed-in")
    go(page, "button:has-text('Sign out')")
    assert "You have signed out of Safeguard" in page.locator(".govuk-notification-banner").inner_text()  # fmt: skip
    leave = page.locator("#leave-council a")
    assert leave.inner_text() == "Sign out of Northshire account too"
    checked(page, "92-council-signed-out")
    go(page, "#leave-council a")
    assert page.url.startswith(f"{provider.issuer}/oauth2/end_session")
    page.goto(f"{site}/my-work")
    assert "/sign-in" in page.url  # our session has ended


def test_who_cannot_sign_in_is_told_why(council: tuple[str, Provider, Engine], browser: object) -> None:  # fmt: skip
    site, provider, engine = council
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()  # type: ignore[attr-defined]
    page.goto(f"{site}/sign-in")
    go(page, "text=Sign in with Northshire account")
    at_the_provider(page, "sam@northshire.gov.uk")
    assert page.locator("h1").inner_text() == "You are not signed in"
    assert "not linked to anyone in Safeguard's staff directory" in page.locator("#why").inner_text()  # fmt: skip
    checked(page, "93-council-not-in-directory")
    # a token that fails its checks (signed with a key the provider never published)
    provider.tamper = "signature"
    go(page, "text=Go back to the sign-in page")
    go(page, "text=Sign in with Northshire account")
    at_the_provider(page, PAT)
    assert "answered, but its answer could not be checked" in page.locator("#why").inner_text()
    checked(page, "94-council-token-refused")
    provider.tamper = None
    # someone who has left
    with session_scope(engine) as session:
        pat = session.get(Staff, "iro-1")
        assert pat is not None
        pat.active = False
        session.add(pat)
    go(page, "text=Go back to the sign-in page")
    go(page, "text=Sign in with Northshire account")
    at_the_provider(page, PAT)
    assert "your account was closed when you left" in page.locator("#why").inner_text()

"""What every page of the browser app depends on, as FastAPI dependencies: the running site (its
dependencies, signers and renderer), the signed-in person, managers only, and a form that carries
its CSRF token. A page declares what it needs (`me: Me = Depends(signed_in)`); the checks happen
once, here, before the page runs.

A session cookie is signed (itsdangerous), expires, and is HttpOnly and SameSite; its token's hash
is all the database keeps (models/accounts.py).
"""

import hmac
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData

from models import accounts, restriction
from models.calendar import WorkingCalendar
from models.casework import Casework, Rules, unit_of_work
from models.enums import Role
from models.errors import InputError
from models.permissions import is_manager
from models.policy import Policy
from models.staff import get_staff
from web.oidc import Provider
from web.render import Renderer

SESSION_COOKIE = "safeguard_session"
SIGN_IN_COOKIE = "safeguard_sign_in"  # the sign-in form's own CSRF token (before any session)
SIGN_IN_LASTS = 7200  # seconds a sign-in (or invitation) form stays good
COUNCIL_COOKIE = "safeguard_council_sign_in"  # a sign-in gone to the council's identity provider


@dataclass(frozen=True)
class WebDeps:
    """What the app is given: the record, the policy and calendar, the one clock, the secret."""

    engine: Engine
    policy: Policy
    calendar: WorkingCalendar
    clock: Callable[[], datetime]
    secret: bytes
    service: str = "Safeguard"
    prefect_ui: str | None = None  # the Prefect UI, for each case's run link
    secure_cookies: bool = False  # True behind HTTPS (the cookie is then sent over HTTPS only)
    session_lasts: timedelta = accounts.SESSION_LASTS
    # The flow's side, never waited for (DESIGN rule 13): carry a case's run on until it has
    # applied a stored record (its run id, the submission), and create a new case's run. Both run
    # in the background; what they miss the sweep repairs.
    carry_on: Callable[[str | None, int], None] = lambda run_id, submission_id: None
    launch: Callable[[int], None] = lambda case_id: None
    # What /health asks beyond the record: the Prefect API (None: not checked), the sweep's interval.
    prefect_api: str | None = None
    sweep_every: timedelta = timedelta(minutes=15)
    metrics_token: str | None = None  # /metrics answers only with it (unset: not found)
    # How people sign in: "password", "oidc" (the council's identity provider) or "both"; the
    # provider (web/oidc.py) when it is on; the app's address as people reach it (the provider
    # sends them back to it; unset: the address the request came to).
    sign_in: str = "password"
    provider: Provider | None = None
    address: str | None = None

    @property
    def passwords(self) -> bool:
        return self.sign_in in ("password", "both") or self.provider is None

    @property
    def council(self) -> Provider | None:
        return self.provider if self.sign_in in ("oidc", "both") else None

    def casework(self) -> AbstractContextManager[Casework]:
        """Return a unit of work on the record, under the policy, by the app's clock."""
        return unit_of_work(self.engine, Rules(self.policy, self.calendar, self.clock))


@dataclass(frozen=True)
class Me:
    """The signed-in person: who, their roles, their session's CSRF token and start."""

    id: str
    name: str
    roles: frozenset[Role]
    csrf: str
    since: datetime
    token: str = field(repr=False)

    @property
    def manager(self) -> bool:
        return is_manager(self.roles)


class SignInNeeded(Exception):
    """No live session: a page sends the browser to sign in; a form is refused."""


class Forbidden(Exception):
    """Signed in, but this page or form is not for this person (their role or the form's token)."""


@dataclass
class Site:
    """The running app: its dependencies, the cookie signers, the page renderer, and the start
    forms already answered (a start form's key -> the case it started: a double click starts
    one case)."""

    deps: WebDeps
    render: Renderer
    started: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sessions = TimestampSigner(self.deps.secret, salt="safeguard-session")
        self.sign_ins = TimestampSigner(self.deps.secret, salt="safeguard-sign-in")
        self.council_sign_ins = TimestampSigner(self.deps.secret, salt="safeguard-council")

    def casework(self) -> AbstractContextManager[Casework]:
        """A unit of work on the site's record, by its clock."""
        return self.deps.casework()


def site(request: Request) -> Site:
    """The site this request reached."""
    found: Site = request.app.state.site
    return found


def signed_in(request: Request, here: Site = Depends(site)) -> Me:
    """The signed-in person, or SignInNeeded (a page goes to sign in; a form is refused)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInNeeded
    token = unsigned(here.sessions, cookie, int(here.deps.session_lasts.total_seconds()))
    if token is None:  # altered, or older than a session lasts
        raise SignInNeeded
    with here.casework() as cx:
        live = accounts.session_of(cx.session, token, cx.now())
        if live is None:
            raise SignInNeeded
        person = get_staff(cx.session, live.staff_id)
        return Me(
            person.id, person.name, frozenset(person.roles), live.csrf, live.created_at, token
        )


def open_to_me(request: Request, me: Me = Depends(signed_in), here: Site = Depends(site)) -> None:
    """A page of one case (its path names the reference) opens only for those who may open it:
    a restricted case raises restriction.Restricted (the app keeps the attempt and says so)."""
    reference = request.path_params.get("reference")
    if reference is None:
        return
    with here.casework() as cx:
        try:
            case = cx.case(reference)
        except InputError:
            return  # the page itself says there is no such case
        restriction.check(cx.session, case, me.id)


def manager(me: Me = Depends(signed_in)) -> Me:
    """The signed-in person if they are a manager, else Forbidden."""
    if not me.manager:
        raise Forbidden("This page is for managers: it shows every open case and who it waits on.")
    return me


async def checked_form(request: Request, me: Me = Depends(signed_in)) -> FormData:
    """The posted form of a signed-in person, refused (Forbidden) unless it carries their
    session's CSRF token."""
    form = await request.form()
    _check_token(form, me.csrf)
    return form


async def sign_in_form(request: Request, here: Site = Depends(site)) -> FormData:
    """A form posted before any session (sign in, an invitation): its CSRF token must pair with
    the signed cookie its page set."""
    form = await request.form()
    cookie = request.cookies.get(SIGN_IN_COOKIE, "")
    _check_token(form, unsigned(here.sign_ins, cookie, SIGN_IN_LASTS) or "")
    return form


def _check_token(form: FormData, expected: str) -> None:
    given = form.get("csrf_token", "")
    given = given if isinstance(given, str) else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden(
            "This form has expired or did not come from this service: go back, reload the "
            "page and try again."
        )


def text(form: FormData, name: str) -> str:
    """A posted text field, stripped ("" when absent)."""
    value: Any = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def unsigned(signer: TimestampSigner, signed: str, max_age: int) -> str | None:
    """Return the value a signed cookie carries, or None if it is altered in any way or too old.
    The signature must be exactly the one this key gives: base64 can spell the same bytes more
    than one way (the last character's spare bits), and a cookie altered there is refused too."""
    value, _, signature = signed.rpartition(".")
    if not value or not hmac.compare_digest(
        signature.encode(), signer.get_signature(value.encode())
    ):
        return None
    try:
        return signer.unsign(signed, max_age=max_age).decode()
    except BadSignature:  # too old (SignatureExpired), or not ours
        return None

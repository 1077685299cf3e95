"""Signing in and out, and setting a password from an invitation: the pages before a session (their
forms pair a CSRF token with a signed cookie of their own), and the session's cookie."""

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from models import accounts, first_run, single_sign_on
from models.enums import Role
from models.errors import FieldErrors, InputError
from web.deps import (
    COUNCIL_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_LASTS,
    Me,
    Site,
    checked_form,
    sign_in_form,
    signed_in,
    site,
    text,
    unsigned,
)
from web.oidc import ProviderError
from web.render import sentence

ATTEMPT_SECONDS = int(single_sign_on.ATTEMPT_LASTS.total_seconds())

router = APIRouter()


@router.get("/")
def home() -> Response:
    return RedirectResponse("/my-work", status_code=303)


@router.get("/sign-in")
def sign_in_page(
    request: Request, next: str = "/my-work", done: str | None = None, here: Site = Depends(site)
) -> Response:
    said = {
        "password": "Your password is set: sign in with it",
        "setup": "Safeguard is set up: sign in with the staff id and password you chose",
        "signed-out": "You have signed out of Safeguard",
    }.get(done or "")
    council = here.deps.council
    leave_council = None
    if done == "signed-out" and council is not None:
        leave_council = council.end_session_url(_address(request, here) + "/sign-in")
    return _sign_in(request, here, next, flash=said, leave_council=leave_council)


@router.post("/sign-in")
def sign_in(
    request: Request, form: FormData = Depends(sign_in_form), here: Site = Depends(site)
) -> Response:
    staff_id, password = text(form, "staff_id"), _raw(form, "password")
    target = safe_next(text(form, "next") or "/my-work")
    if not here.deps.passwords:
        said = f"Passwords are not used here: sign in with {here.deps.council.name}"  # type: ignore[union-attr]
        return _sign_in(request, here, target, "", [("sign-in", said)], 400)
    given = (("staff_id", "staff id", staff_id), ("password", "password", password))
    missing = [(name, f"Enter your {label}") for name, label, value in given if not value]
    if missing:
        return _sign_in(request, here, target, staff_id, missing, 400)
    refused: InputError | None = None
    with here.casework() as cx:  # a refusal is kept too: the count, the audit entry
        try:
            begun = accounts.sign_in(
                cx.session,
                staff_id=staff_id,
                password=password,
                now=cx.now(),
                lasts=here.deps.session_lasts,
            )
        except InputError as error:
            refused = error
    if refused is not None:
        # on the whole form, not the id: it never says which was wrong
        return _sign_in(request, here, target, staff_id, [("sign-in", str(refused))], 400)
    response = RedirectResponse(target, status_code=303)
    lasts = int(here.deps.session_lasts.total_seconds())
    _cookie(here, response, SESSION_COOKIE, here.sessions.sign(begun.token).decode(), lasts)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@router.post("/sign-out")
def sign_out(
    me: Me = Depends(signed_in), _: FormData = Depends(checked_form), here: Site = Depends(site)
) -> Response:
    with here.casework() as cx:
        accounts.sign_out(cx.session, me.token, cx.now())
    response = RedirectResponse("/sign-in?done=signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the council's identity provider (OpenID Connect; web/oidc.py) ------------------------------


@router.get("/sign-in/council")
def council_sign_in(
    request: Request, next: str = "/my-work", here: Site = Depends(site)
) -> Response:
    """Send the browser to the council's identity provider, with a new attempt's state, nonce and
    PKCE challenge; the state also goes (signed) into this browser's cookie."""
    council = here.deps.council
    if council is None:
        return _no_council(request, here)
    with here.casework() as cx:
        attempt = single_sign_on.begin(cx.session, next_path=safe_next(next), now=cx.now())
    try:
        url = council.authorization_url(
            state=attempt.state,
            nonce=attempt.nonce,
            verifier=attempt.verifier,
            redirect_uri=_return_address(request, here),
        )
    except ProviderError as failed:
        return _not_signed_in(request, here, str(failed), 503 if failed.unreachable else 403)
    response = RedirectResponse(url, status_code=303)
    signed = here.council_sign_ins.sign(attempt.state).decode()
    _cookie(here, response, COUNCIL_COOKIE, signed, ATTEMPT_SECONDS)
    return response


@router.get("/sign-in/council/return")
def council_return(
    request: Request,
    code: str = "",
    state: str = "",
    error: str = "",
    here: Site = Depends(site),
) -> Response:
    """The provider's answer: this browser's state, unused and recent; then the code exchanged
    and the ID token checked (web/oidc.py); then exactly one person in the directory. Every
    refusal is in the audit log, and nothing is created."""
    council = here.deps.council
    if council is None:
        return _no_council(request, here)
    ours = unsigned(here.council_sign_ins, request.cookies.get(COUNCIL_COOKIE, ""), ATTEMPT_SECONDS)
    refused: str | None = None
    with here.casework() as cx:  # a refusal is kept too
        try:
            if not ours or not hmac.compare_digest(ours.encode(), state.encode()):
                raise InputError(single_sign_on.EXPIRED)
            attempt = single_sign_on.take(cx.session, state=state, now=cx.now())
            if error or not code:
                raise InputError(
                    f"you did not finish signing in with {council.name}: start again from the "
                    "sign-in page"
                )
        except InputError as stopped:
            reason = f"provider said {error[:40]}" if error else "state not this browser's, used or old"  # fmt: skip
            single_sign_on.refuse(cx.session, cx.now(), reason)
            refused = str(stopped)
    if refused is not None:
        return _not_signed_in(request, here, refused, 403)
    try:
        value = council.identify(
            code=code,
            nonce=attempt.nonce,
            verifier=attempt.verifier,
            redirect_uri=_return_address(request, here),
        )
    except ProviderError as failed:
        with here.casework() as cx:
            single_sign_on.refuse(cx.session, cx.now(), failed.reason)
        return _not_signed_in(request, here, str(failed), 503 if failed.unreachable else 403)
    with here.casework() as cx:  # a refusal is kept too
        try:
            begun = single_sign_on.sign_in_by_id(
                cx.session, value=value, now=cx.now(), lasts=here.deps.session_lasts
            )
        except InputError as stopped:
            refused = str(stopped)
    if refused is not None:
        return _not_signed_in(request, here, refused, 403)
    response = RedirectResponse(safe_next(attempt.next_path), status_code=303)
    lasts = int(here.deps.session_lasts.total_seconds())
    _cookie(here, response, SESSION_COOKIE, here.sessions.sign(begun.token).decode(), lasts)
    response.delete_cookie(COUNCIL_COOKIE, path="/")
    return response


def _no_council(request: Request, here: Site) -> HTMLResponse:
    said = "Signing in with a council account is not switched on here: sign in with your staff id and password."  # fmt: skip
    return here.render.refusal(request, None, 404, "Page not found", said)


def _address(request: Request, here: Site) -> str:
    return (here.deps.address or str(request.base_url)).rstrip("/")


def _return_address(request: Request, here: Site) -> str:
    """Where the provider sends the browser back (registered with the provider as this)."""
    return _address(request, here) + "/sign-in/council/return"


def _not_signed_in(request: Request, here: Site, message: str, status: int) -> HTMLResponse:
    response = here.render(
        request, "account/not_signed_in.html", None, status,
        title="You are not signed in", message=sentence(message),
    )  # fmt: skip
    response.delete_cookie(COUNCIL_COOKIE, path="/")
    return response


@router.get("/invitation/{token}")
def invitation_page(request: Request, token: str, here: Site = Depends(site)) -> Response:
    try:
        with here.casework() as cx:
            staff_id = accounts.invited(cx.session, token, cx.now()).staff_id
    except InputError as refused:
        return _invitation(request, here, token, None, status=404, message=sentence(str(refused)))
    return _invitation(request, here, token, staff_id)


@router.post("/invitation/{token}")
def accept_invitation(
    request: Request, token: str, form: FormData = Depends(sign_in_form), here: Site = Depends(site)
) -> Response:
    password, again = _raw(form, "password"), _raw(form, "again")
    try:
        with here.casework() as cx:
            staff_id = accounts.invited(cx.session, token, cx.now()).staff_id
    except InputError as refused:
        return _invitation(request, here, token, None, status=404, message=sentence(str(refused)))
    if password != again:
        differ = [("again", "The two passwords differ: type the same password twice")]
        return _invitation(request, here, token, staff_id, differ)
    try:
        with here.casework() as cx:
            accounts.accept_invite(cx.session, token=token, password=password, now=cx.now())
    except InputError as refused:
        return _invitation(request, here, token, staff_id, [("password", sentence(str(refused)))])
    return RedirectResponse("/sign-in?done=password", status_code=303)


@router.get("/setup/{token}")
def setup_page(request: Request, token: str, here: Site = Depends(site)) -> Response:
    """The first run: the page the service's printed link opens, asking for the first
    administrator (never again once anyone is in the staff directory)."""
    try:
        with here.casework() as cx:
            first_run.check_link(cx.session, token, cx.now())
    except InputError as refused:
        return _setup(request, here, token, {}, status=404, message=sentence(str(refused)))
    return _setup(request, here, token, {"role": Role.head_of_service.value})


@router.post("/setup/{token}")
def set_up(
    request: Request, token: str, form: FormData = Depends(sign_in_form), here: Site = Depends(site)
) -> Response:
    given = {name: text(form, name) for name in ("staff_id", "name", "role")}
    password, again = _raw(form, "password"), _raw(form, "again")
    asked = (
        ("staff_id", given["staff_id"], "Enter your staff id"),
        ("name", given["name"], "Enter your full name"),
        ("role", given["role"], "Choose your role"),
        ("password", password, "Enter a password"),
    )
    errors = [(name, said) for name, value, said in asked if not value]
    if not errors and password != again:
        errors = [("again", "The two passwords differ: type the same password twice")]
    if errors:
        return _setup(request, here, token, given, errors)
    try:
        with here.casework() as cx:
            first_run.set_up(
                cx.session, token=token, password=password, now=cx.now(),
                staff_id=given["staff_id"], name=given["name"], role=given["role"],
            )  # fmt: skip
    except FieldErrors as refused:
        return _setup(request, here, token, given, [(f, sentence(m)) for f, m in refused.fields])
    except InputError as refused:
        return _setup(request, here, token, {}, status=404, message=sentence(str(refused)))
    return RedirectResponse("/sign-in?done=setup", status_code=303)


def _setup(
    request: Request,
    here: Site,
    token: str,
    given: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
    status: int | None = None,
    message: str = "",
) -> HTMLResponse:
    roles = [(r.value, r.label[:1].upper() + r.label[1:]) for r in first_run.FIRST_ROLES]
    return before_session(
        request, here, "account/setup.html", status or (400 if errors else 200),
        title="Set up Safeguard", token=token, given=given, roles=roles, message=message,
        errors=errors or [], field_errors_list=errors or [],
    )  # fmt: skip


def _sign_in(
    request: Request,
    here: Site,
    target: str,
    staff_id: str = "",
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
    flash: str | None = None,
    leave_council: str | None = None,
) -> HTMLResponse:
    council = here.deps.council
    return before_session(
        request, here, "account/sign_in.html", status, title="Sign in", next=safe_next(target),
        staff_id=staff_id, errors=errors or [], field_errors_list=errors or [], flash=flash,
        passwords=here.deps.passwords, council=council.name if council else None,
        leave_council=leave_council,
    )  # fmt: skip


def _invitation(
    request: Request,
    here: Site,
    token: str,
    staff_id: str | None,
    errors: list[tuple[str, str]] | None = None,
    status: int | None = None,
    message: str = "",
) -> HTMLResponse:
    return before_session(
        request, here, "account/invitation.html", status or (400 if errors else 200),
        title="Set your password", token=token, staff_id=staff_id, message=message,
        errors=errors or [], field_errors_list=errors or [],
    )  # fmt: skip


def before_session(
    request: Request, here: Site, template: str, status: int, **context: Any
) -> HTMLResponse:
    """A page with a form before any session (sign in, an invitation): its CSRF token pairs with
    a signed cookie of its own."""
    raw = secrets.token_urlsafe(32)
    response = here.render(request, template, None, status, csrf=raw, **context)
    _cookie(here, response, SIGN_IN_COOKIE, here.sign_ins.sign(raw).decode(), SIGN_IN_LASTS)
    return response


def _cookie(here: Site, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        # the provider's answer arrives from its site: a strict cookie would not come with it
        samesite="strict" if name == SIGN_IN_COOKIE else "lax",
        secure=here.deps.secure_cookies,
        path="/",
    )


def _raw(form: FormData, name: str) -> str:
    """A posted password as typed (never stripped)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def safe_next(target: str) -> str:
    """Only a path on this site (never another site: an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/my-work"

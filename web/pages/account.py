"""Signing in and out, and setting a password from an invitation: the pages before a session (their
forms pair a CSRF token with a signed cookie of their own), and the session's cookie."""

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from models import accounts, first_run
from models.enums import Role
from models.errors import FieldErrors, InputError
from web.deps import (
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
)
from web.render import sentence

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
    }.get(done or "")
    return _sign_in(request, here, next, flash=said)


@router.post("/sign-in")
def sign_in(
    request: Request, form: FormData = Depends(sign_in_form), here: Site = Depends(site)
) -> Response:
    staff_id, password = text(form, "staff_id"), _raw(form, "password")
    target = safe_next(text(form, "next") or "/my-work")
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
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
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
) -> HTMLResponse:
    return before_session(
        request, here, "account/sign_in.html", status, title="Sign in", next=safe_next(target),
        staff_id=staff_id, errors=errors or [], field_errors_list=errors or [], flash=flash,
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

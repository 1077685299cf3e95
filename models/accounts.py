"""Signing in: passwords (argon2 hashes only), lockout, browser sessions, and the access log.

The browser app (web/) keeps no rule of its own: who may sign in, for how long, and who must give a
reason before opening a case are decided here, as the CLI's rules are in models/permissions.py.
A session's token is random and travels only in a signed cookie; the database keeps its SHA-256,
so a copy of the database opens no session.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from models import audit, registry, restriction
from models.cases import parties_of
from models.errors import InputError
from models.inputs import free_text
from models.permissions import acting_roles
from models.tables import (
    Action,
    Case,
    CaseView,
    Invite,
    Staff,
    StaffAddress,
    StaffCredential,
    Step,
    WebSession,
)

MIN_LENGTH = 12  # NCSC: length over complexity
LOCK_AFTER = 5  # failed sign-ins in a row lock the account...
LOCKED_FOR = timedelta(minutes=15)  # ...for this long
SESSION_LASTS = timedelta(hours=8)  # a working day; signing out ends it sooner

PRODUCTION_HASHER = PasswordHasher()  # argon2id, RFC 9106's second choice: 64 MiB, 3 passes
_hasher = PRODUCTION_HASHER
_dummy: dict[PasswordHasher, str] = {}


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash passwords with `hasher` from now on (the tests' cheap parameters; production keeps
    PRODUCTION_HASHER). A password hashed with weaker parameters is re-hashed at its next sign-in."""
    global _hasher
    _hasher = hasher


def _dummy_hash() -> str:
    """A hash to verify against when the staff id is unknown, so a check takes as long as a real
    one and a wrong id cannot be told from a wrong password by the time the answer takes. Made
    when first needed, not at import (every command would pay for it)."""
    if _hasher not in _dummy:
        _dummy[_hasher] = _hasher.hash("not a password anyone has")
    return _dummy[_hasher]


# One refusal for a wrong id, a wrong password and a locked account: it never says which (a
# locked account would show that the id exists).
REFUSED = (
    f"the staff id or password is not right, or the account is locked after {LOCK_AFTER} failed "
    f"sign-ins in a row: check them and try again in {LOCKED_FOR.seconds // 60} minutes, or ask "
    "your manager to have your password set again"
)
LEFT = "you can no longer sign in: your account was closed when you left; if that is wrong, ask your manager"  # fmt: skip


@dataclass(frozen=True)
class SignedIn:
    """A session just begun: the token goes (signed) into the cookie, never into the database."""

    token: str
    staff_id: str
    csrf: str
    expires_at: datetime


def set_password(
    session: Session, *, staff_id: str, password: str, now: datetime, actor_id: str | None
) -> None:
    """Set a person's password (kept as an argon2 hash); a lockout ends with it."""
    person = session.get(Staff, staff_id)
    if person is None:
        raise InputError(f"no staff id {staff_id!r}; 'safeguard staff list' shows who there is")
    acting_roles(session, staff_id)  # someone who has left gets no password
    if len(password) < MIN_LENGTH:
        raise InputError(
            f"the password has {len(password)} characters: use at least {MIN_LENGTH} (a few "
            "unrelated words make a long password that is easy to remember)"
        )
    if password.strip().lower() in (staff_id.lower(), person.name.lower()):
        raise InputError("the password is the person's staff id or name: choose another")
    credential = session.get(StaffCredential, staff_id) or StaffCredential(staff_id=staff_id)
    credential.password_hash = _hasher.hash(password)
    credential.set_at, credential.failed_attempts, credential.locked_until = now, 0, None
    session.add(credential)
    _end_sessions(session, staff_id, now)  # a new password signs out everywhere
    audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="staff.password",
        entity="staff",
        entity_id=staff_id,
    )


def sign_in(
    session: Session,
    *,
    staff_id: str,
    password: str,
    now: datetime,
    lasts: timedelta = SESSION_LASTS,
) -> SignedIn:
    """Check the staff id and password; begin a session. Five failures in a row lock the account
    for a while; someone who has left cannot sign in. The refusal never says which was wrong."""
    staff_id = staff_id.strip()
    credential = session.get(StaffCredential, staff_id) if staff_id else None
    if (
        credential is not None
        and credential.locked_until is not None
        and credential.locked_until > now
    ):
        _refused(session, staff_id, now, locked=True)
        raise InputError(REFUSED)
    stored = credential.password_hash if credential is not None else None
    if not _verifies(stored or _dummy_hash(), password) or stored is None:
        if credential is not None:
            credential.failed_attempts += 1
            if credential.failed_attempts >= LOCK_AFTER:
                credential.locked_until, credential.failed_attempts = now + LOCKED_FOR, 0
            session.add(credential)
        until = credential.locked_until if credential is not None else None
        locked = until is not None and until > now  # this failure locked it
        _refused(session, staff_id, now, locked=locked)
        raise InputError(REFUSED)
    try:  # the right password, but they have left: refused, saying so in their words
        acting_roles(session, staff_id)
    except InputError:
        _refused(session, staff_id, now, locked=False)
        raise InputError(LEFT) from None
    if _hasher.check_needs_rehash(stored):
        credential.password_hash = _hasher.hash(password)  # type: ignore[union-attr]
    credential.failed_attempts, credential.locked_until = 0, None  # type: ignore[union-attr]
    session.add(credential)
    return begin_session(session, staff_id, now, lasts)


def begin_session(
    session: Session, staff_id: str, now: datetime, lasts: timedelta, how: str = "password"
) -> SignedIn:
    """Begin a browser session for someone whose sign-in was checked (by password here, or by the
    council's identity provider in models/single_sign_on.py), in the audit log."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=token_digest(token),
            staff_id=staff_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + lasts,
        )
    )
    audit.record(
        session,
        at=now,
        actor_id=staff_id,
        action="staff.sign_in",
        entity="staff",
        entity_id=staff_id,
        detail={} if how == "password" else {"by": how},
    )
    return SignedIn(token, staff_id, csrf, now + lasts)


INVITE_LASTS = timedelta(hours=72)


def create_invite(
    session: Session, *, staff_id: str, now: datetime, lasts: timedelta, actor_id: str | None
) -> str:
    """Make a one-time token for the person to set their password; return it (the database keeps
    its SHA-256 only). Refused for someone unknown or who has left, or with no address to send
    it to."""
    if session.get(Staff, staff_id) is None:
        raise InputError(f"no staff id {staff_id!r}; 'safeguard staff list' shows who there is")
    acting_roles(session, staff_id)
    if not session.exec(select(StaffAddress.id).where(StaffAddress.staff_id == staff_id)).first():
        raise InputError(
            f"{staff_id} has no address to send the invitation to: add one "
            f"('safeguard staff add ... --address'), or set the password at the terminal "
            f"('safeguard staff set-password {staff_id}')"
        )
    if not timedelta(minutes=15) <= lasts <= timedelta(days=14):
        raise InputError("an invitation lasts from 15 minutes to 14 days: give --valid-hours in that range")  # fmt: skip
    token = secrets.token_urlsafe(32)
    session.add(
        Invite(
            token_hash=token_digest(token),
            staff_id=staff_id,
            created_at=now,
            expires_at=now + lasts,
            created_by=actor_id,
        )
    )
    audit.record(session, at=now, actor_id=actor_id, action="staff.invite", entity="staff", entity_id=staff_id)  # fmt: skip
    return token


def invited(session: Session, token: str, now: datetime) -> Invite:
    """Return the live invitation the token opens, or raise InputError saying why it does not."""
    found = session.exec(select(Invite).where(Invite.token_hash == token_digest(token))).first()
    if found is None:
        raise InputError("this link is not one we sent: ask for a new invitation")
    if found.used_at is not None:
        raise InputError("this link has been used: sign in, or ask for a new invitation")
    if found.expires_at <= now:
        raise InputError("this link has expired: ask for a new invitation")
    acting_roles(session, found.staff_id)
    return found


def accept_invite(session: Session, *, token: str, password: str, now: datetime) -> str:
    """Set the password the invitation is for, once; return whose it is."""
    found = invited(session, token, now)
    set_password(session, staff_id=found.staff_id, password=password, now=now, actor_id=found.staff_id)  # fmt: skip
    found.used_at = now
    session.add(found)
    return found.staff_id


def _refused(session: Session, staff_id: str, now: datetime, *, locked: bool) -> None:
    """Every refused sign-in is in the audit log (the id as typed, never the password)."""
    audit.record(
        session,
        at=now,
        actor_id=None,
        action="staff.sign_in_refused",
        entity="staff",
        entity_id=staff_id[:64] or "-",
        detail={"locked": locked},
    )


def session_of(session: Session, token: str, now: datetime) -> WebSession | None:
    """Return the live session the token opens (not ended, not expired, its person not left)."""
    found = session.get(WebSession, token_digest(token))
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    person = session.get(Staff, found.staff_id)
    return found if person is not None and person.active else None


def sign_out(session: Session, token: str, now: datetime) -> None:
    """End the session (its cookie opens nothing from now on)."""
    found = session.get(WebSession, token_digest(token))
    if found is not None and found.ended_at is None:
        found.ended_at = now
        session.add(found)
        audit.record(
            session,
            at=now,
            actor_id=found.staff_id,
            action="staff.sign_out",
            entity="staff",
            entity_id=found.staff_id,
        )


def _end_sessions(session: Session, staff_id: str, now: datetime) -> None:
    for live in session.exec(
        select(WebSession).where(
            WebSession.staff_id == staff_id, col(WebSession.ended_at).is_(None)
        )
    ).all():
        live.ended_at = now
        session.add(live)


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """What the database keeps of a one-time token (a session's, an invitation's, a link's): its
    SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- the access log ------------------------------------------------------------------------------


def has_part(session: Session, case: Case, staff_id: str) -> bool:
    """True if the person is part of the case: its lead, a named party, a child's IRO or social
    worker, or the owner of one of its steps or actions."""
    case_id = case.id or 0
    if parties_of(session, [case_id])[case_id].includes(staff_id):
        return True
    owns: list[Any] = [
        select(Step.id).where(Step.case_id == case_id, Step.owner_id == staff_id),
        select(Action.id).where(Action.case_id == case_id, Action.owner_id == staff_id),
    ]
    return any(session.exec(query.limit(1)).first() is not None for query in owns)


def needs_reason(session: Session, case: Case, staff_id: str) -> bool:
    """True if the person must say why before they see the case: its process asks it of anyone
    with no part in the case (e.g. an allegation not theirs)."""
    asks = registry.get(case.process).ask_why_before_opening
    return asks and not has_part(session, case, staff_id)


class ReasonNeeded(InputError):
    """A case the person has no part in, whose process asks why: they must say why first."""


def log_view(
    session: Session,
    *,
    case: Case,
    staff_id: str,
    now: datetime,
    reason: str | None,
    since: datetime | None = None,
    via: str = "web",
) -> None:
    """Record that the person viewed the case, with their reason where one is asked for. Without
    one, a reason they gave for this case since `since` (their session's start) stands; else the
    view is refused (ReasonNeeded) and nothing is shown. A restricted case the person may not
    open is refused (Restricted) with nothing written: the caller keeps the attempt
    (restriction.refused) in a transaction of its own."""
    acting_roles(session, staff_id)
    restriction.check(session, case, staff_id)
    text = free_text(reason, "reason") if reason else None
    if text is None and needs_reason(session, case, staff_id):
        earlier = (
            session.exec(
                select(CaseView)
                .where(
                    CaseView.case_id == case.id,
                    CaseView.staff_id == staff_id,
                    col(CaseView.reason).is_not(None),
                    col(CaseView.at) >= since,
                )
                .order_by(col(CaseView.id).desc())
            ).first()
            if since is not None
            else None
        )
        if earlier is None:
            raise ReasonNeeded(
                f"{case.reference} is {registry.get(case.process).noun} you have no part in: say "
                "why you need to open it (the reason is kept in its access log)"
            )
        text = earlier.reason
    session.add(CaseView(case_id=case.id or 0, staff_id=staff_id, at=now, reason=text, via=via))


def may_see_access_log(session: Session, case: Case, staff_id: str) -> bool:
    """True if the person holds a role the case's process lets read who viewed it."""
    readers = registry.get(case.process).access_log_readers
    return bool(acting_roles(session, staff_id) & readers)


def access_log(session: Session, case_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Return who viewed the case, newest first, with when and why (where asked)."""
    rows = session.exec(
        select(CaseView)
        .where(CaseView.case_id == case_id)
        .order_by(col(CaseView.id).desc())
        .limit(limit)
    ).all()
    return [
        {
            "who": v.staff_id,
            "at": v.at.isoformat(),
            "reason": v.reason,
            "via": v.via,
            "refused": v.refused,
        }
        for v in rows
    ]

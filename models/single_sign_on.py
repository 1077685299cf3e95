"""Signing in with the council's identity provider (OpenID Connect): the record's side.

The protocol (discovery, the authorization request, the code exchange, checking the ID token) is
web/oidc.py's, with Authlib. Here: the attempt a browser begins (its state, nonce and PKCE
verifier, kept until it comes back, and used once only), and who the provider's answer is in the
staff directory: exactly one person, by the sign-in id `staff add --sign-in-id` gave them. No
match, two matches or someone who has left is refused, in the audit log, and nothing is created.
A session begun this way is the same session a password begins (models/accounts.py).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import audit
from models.accounts import LEFT, SESSION_LASTS, SignedIn, begin_session
from models.errors import InputError
from models.permissions import acting_roles
from models.tables import SignInAttempt, Staff

ATTEMPT_LASTS = timedelta(minutes=10)  # from leaving for the provider to coming back
NOT_FOUND = (
    "your council account ({value}) is not linked to anyone in Safeguard's staff directory: ask "
    "your manager, or whoever runs Safeguard for your council, to link it to you"
)
TWO_FOUND = (
    "your council account is linked to more than one person in Safeguard's staff directory, so "
    "Safeguard cannot tell who you are: ask whoever runs Safeguard for your council to correct it"
)
EXPIRED = "the sign-in took too long or was already used: start again from the sign-in page"


@dataclass(frozen=True)
class Attempt:
    """A sign-in on its way to the provider: the state goes in the browser's cookie and the
    request; the nonce and verifier in the request (the verifier as its S256 challenge)."""

    state: str
    nonce: str
    verifier: str


def sign_in_id(value: str) -> str:
    """A sign-in id as kept and matched: trimmed, lower-case (an email's case means nothing)."""
    return value.strip().lower()


def begin(session: Session, *, next_path: str, now: datetime) -> Attempt:
    """Begin an attempt; keep what its return must match (the state only as its SHA-256)."""
    attempt = Attempt(
        secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    )
    session.add(
        SignInAttempt(
            id=_digest(attempt.state),
            nonce=attempt.nonce,
            verifier=attempt.verifier,
            next_path=next_path,
            created_at=now,
        )
    )
    return attempt


def take(session: Session, *, state: str, now: datetime) -> SignInAttempt:
    """Return the attempt this state began and mark it used, or refuse: unknown, already used
    (a replayed answer), or older than ATTEMPT_LASTS."""
    found = session.get(SignInAttempt, _digest(state)) if state else None
    if found is None or found.used_at is not None or found.created_at + ATTEMPT_LASTS < now:
        raise InputError(EXPIRED)
    found.used_at = now
    session.add(found)
    return found


def sign_in_by_id(
    session: Session, *, value: str, now: datetime, lasts: timedelta = SESSION_LASTS
) -> SignedIn:
    """Begin a session for the one person whose sign-in id is `value`, or refuse (in the audit
    log): no one, more than one, or someone who has left."""
    wanted = sign_in_id(value)
    people = (
        session.exec(select(Staff).where(func.lower(col(Staff.sign_in_id)) == wanted)).all()
        if wanted
        else []
    )
    if len(people) != 1:
        refuse(session, now, "no match" if not people else "more than one match", wanted)
        raise InputError(NOT_FOUND.format(value=wanted) if not people else TWO_FOUND)
    person = people[0]
    try:
        acting_roles(session, person.id)
    except InputError:
        refuse(session, now, "left", wanted, staff_id=person.id)
        raise InputError(LEFT) from None
    return begin_session(session, person.id, now, lasts, how="council account")


def refuse(
    session: Session, now: datetime, reason: str, value: str = "", staff_id: str | None = None
) -> None:
    """Keep a refused sign-in through the provider in the audit log: why, and the sign-in id the
    provider gave (never a token)."""
    audit.record(
        session,
        at=now,
        actor_id=None,
        action="staff.sign_in_refused",
        entity="staff",
        entity_id=staff_id or "-",
        detail={"by": "council account", "reason": reason, "sign_in_id": value[:320]},
    )


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()

"""The first run: while nobody is in the staff directory, the service prints a one-time link, and
the web app asks there for the first administrator (their staff id, name, role and password). Once
someone is in the directory, no link is made and none works: the rest of the team is added by them
(`safeguard staff add`, `safeguard staff invite`).
"""

import secrets
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models import accounts, audit
from models.enums import Role
from models.errors import FieldErrors, InputError
from models.staff import NewStaff, add_staff
from models.tables import SetupLink, Staff

LINK_LASTS = timedelta(hours=24)
ID_RULE = (
    "Enter a staff id of lower-case letters, digits, '.', '_' or '-', starting with a letter or "
    "digit (at most 64)"
)
# The roles a first administrator may take: those who see every case (the board) and add the team.
FIRST_ROLES = (Role.head_of_service, Role.director, Role.service_manager, Role.lado_manager, Role.iro_manager)  # fmt: skip


def anyone(session: Session) -> bool:
    """True once someone is in the staff directory."""
    return session.exec(select(Staff.id).limit(1)).first() is not None


def setup_link(session: Session, now: datetime) -> str | None:
    """While the staff directory is empty, return a new one-time setup token (the database keeps
    its hash; an earlier link stops working); once anyone is in it, None."""
    if anyone(session):
        return None
    for old in session.exec(select(SetupLink).where(col(SetupLink.used_at).is_(None))).all():
        old.expires_at = min(old.expires_at, now)
        session.add(old)
    token = secrets.token_urlsafe(32)
    session.add(
        SetupLink(
            token_hash=accounts.token_digest(token), created_at=now, expires_at=now + LINK_LASTS
        )
    )
    return token


def check_link(session: Session, token: str, now: datetime) -> SetupLink:
    """Return the live setup link the token opens, or raise InputError saying why it does not."""
    if anyone(session):
        raise InputError("Safeguard is set up already: sign in")
    found = session.exec(
        select(SetupLink).where(SetupLink.token_hash == accounts.token_digest(token))
    ).first()
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise InputError(
            "This setup link does not work (it has been used, has expired or was replaced by a "
            "newer one): start Safeguard again (make run) and use the link it prints"
        )
    return found


def set_up(
    session: Session,
    *,
    token: str,
    staff_id: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
) -> str:
    """Add the first administrator with their password, once; return their staff id. Raises
    FieldErrors naming the field in error (staff_id, name, role, password)."""
    link = check_link(session, token, now)
    if role not in {r.value for r in FIRST_ROLES}:
        raise FieldErrors("role: choose your role", [("role", "Choose your role")])
    try:
        person = NewStaff(id=staff_id, name=name, roles=(Role(role),))
    except ValidationError as bad:
        field = str(bad.errors()[0]["loc"][0])
        said = {"id": ID_RULE, "name": "Enter your full name"}.get(field, "Check this answer")
        field = "staff_id" if field == "id" else field
        raise FieldErrors(f"{field}: {said}", [(field, said)]) from None
    add_staff(session=session, people=[person], check_address=lambda url: url, now=now)
    try:
        accounts.set_password(
            session, staff_id=staff_id, password=password, now=now, actor_id=staff_id
        )
    except InputError as refused:
        raise FieldErrors(f"password: {refused}", [("password", str(refused))]) from None
    link.used_at = now
    session.add(link)
    audit.record(
        session, at=now, actor_id=staff_id, action="staff.first_run", entity="staff", entity_id=staff_id
    )  # fmt: skip
    return staff_id

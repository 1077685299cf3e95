"""One-click acknowledgement: each delivery of a notice that asks to be acknowledged carries its
own link, made as it is sent. The link works once, for the person it was sent to, and only in their
signed-in session (the web app asks them to sign in first); it expires. The database keeps only its
token's SHA-256, and the outbox's stored bodies never hold it: they hold the notice's own
acknowledgement page (`ack_path`), which each delivery swaps for its one-click link.

Why a GET may acknowledge: the token is the proof that the click came from the mail sent to this
person (no other page can know it), and the session that it is this person clicking.
"""

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from models.accounts import token_digest
from models.errors import InputError
from models.escalation import Kind
from models.tables import AckLink, Notice, NoticeDelivery
from notifications.notices import acknowledge

LINK_LASTS = timedelta(days=14)


class AlreadyAcknowledged(InputError):
    """The person has acknowledged the notice already (a second click on its link)."""

    def __init__(self, notice_id: int) -> None:
        super().__init__("You have already acknowledged this notice")
        self.notice_id = notice_id


def ack_path(notice_id: int) -> str:
    """The web app's page that acknowledges a notice (signed in, with a button)."""
    return f"/notices/{notice_id}/acknowledge"


def one_click_path(token: str) -> str:
    return f"/acknowledge/{token}"


def personalise(
    session: Session, notice: Notice, delivery: NoticeDelivery, now: datetime
) -> tuple[str, str]:
    """Return the notice's text and HTML for this delivery: where it asks to be acknowledged, and
    this person has not yet, with their own one-click link in place of the notice's page."""
    text, html = notice.body_text, notice.body_html
    page = ack_path(notice.id or 0)
    if (
        not Kind(notice.kind).needs_acknowledgement
        or delivery.acknowledged_at is not None
        or page not in text + html
    ):
        return text, html
    token = secrets.token_urlsafe(32)
    session.add(
        AckLink(
            token_hash=token_digest(token),
            delivery_id=delivery.id or 0,
            created_at=now,
            expires_at=now + LINK_LASTS,
        )
    )
    mine = one_click_path(token)
    return text.replace(page, mine), html.replace(page, mine)


def link_notice(session: Session, token: str) -> int | None:
    """Return the notice a link is for (any link of ours, used or not), or None."""
    found = session.exec(
        select(NoticeDelivery.notice_id)
        .join(AckLink, AckLink.delivery_id == NoticeDelivery.id)  # type: ignore[arg-type]
        .where(AckLink.token_hash == token_digest(token))
    ).first()
    return found


def redeem(session: Session, *, token: str, staff_id: str, now: datetime) -> Notice:
    """Acknowledge the notice a one-click link was sent with, for the person signed in; the link
    then works no more. Raises InputError saying why not (not ours, used, expired, someone else's)."""
    found = session.exec(
        select(AckLink, NoticeDelivery)
        .join(NoticeDelivery, NoticeDelivery.id == AckLink.delivery_id)  # type: ignore[arg-type]
        .where(AckLink.token_hash == token_digest(token))
    ).first()
    if found is None:
        raise InputError(
            "This link is not one we sent. Open the notice from My notices to acknowledge it"
        )
    link, delivery = found
    if delivery.staff_id != staff_id:
        raise InputError(
            "This link was sent to someone else. Sign out, then open it again signed in as the "
            "person it was sent to"
        )
    if link.used_at is not None or delivery.acknowledged_at is not None:
        raise AlreadyAcknowledged(delivery.notice_id)
    if link.expires_at <= now:
        raise InputError(
            "This link has expired. Acknowledge the notice from My notices or the case's page"
        )
    notice = acknowledge(session, notice_id=delivery.notice_id, staff_id=staff_id, now=now)
    link.used_at = now
    session.add(link)
    return notice

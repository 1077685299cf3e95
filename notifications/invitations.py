"""Invitations: a one-time link to set a password, written to the outbox for the person alone and
delivered like every notice; once delivered, the link leaves the stored bodies."""

import re
from datetime import datetime

from sqlmodel import Session

from models.escalation import Kind
from models.tables import Notice, NoticeDelivery
from notifications.render import render

INVITE_LINK = re.compile(r"/invitation/[A-Za-z0-9_-]+")


def forget_link(notice: Notice) -> None:
    """Once an invitation is delivered, its one-time link leaves its stored bodies."""
    gone = "/invitation/(the link, removed once delivered)"
    notice.body_text = INVITE_LINK.sub(gone, notice.body_text)
    notice.body_html = INVITE_LINK.sub(gone, notice.body_html)


def send_invitation(
    session: Session, *, staff_id: str, link: str, valid_until: datetime, now: datetime, key: str
) -> int:
    """Write an invitation (a one-time link to set a password) to the outbox, to the person alone;
    return its notice id. It is delivered like every notice (retried by the sweep), is about no
    case, and needs no acknowledgement."""
    notice = Notice(
        key=key,
        case_id=None,
        kind=Kind.invitation.value,
        clock=f"invite:{staff_id}",
        matter=f"invite:{staff_id}",
        rung=0,
        due_at=now,
        created_at=now,
        subject="",
        body_text="",
        body_html="",
        detail={"valid_until": valid_until.isoformat()},
    )
    session.add(notice)
    session.flush()
    assert notice.id is not None
    text = render(
        notice_id=notice.id,
        key=key,
        kind=Kind.invitation,
        reference="",
        rung=0,
        clock=notice.clock,
        facts={"valid_until": valid_until.isoformat(), "staff_id": staff_id},
        recipients=[(staff_id, "invited")],
        unfilled=[],
        ack_within="",
        link=link,
    )
    notice.subject, notice.body_text, notice.body_html = text.subject[:300], text.text, text.html
    session.add(notice)
    session.add(NoticeDelivery(notice_id=notice.id, staff_id=staff_id, because="invited", next_attempt_at=now))  # fmt: skip
    session.flush()
    return notice.id

"""Reading notices (newest first, each with its deliveries) and acknowledging one: a recipient's
acknowledgement stops it going further up the ladder."""

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import audit
from models.db import in_chunks
from models.enums import Role
from models.errors import InputError
from models.escalation import Kind
from models.permissions import acting_roles
from models.tables import Case, Notice, NoticeDelivery


def notice_rows(
    session: Session, *, pending: bool = False, reference: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Return notices newest first, each with its deliveries (who, status, attempts, error)."""
    query = select(Notice, Case.reference).join(Case, col(Case.id) == Notice.case_id)
    if reference:
        case = session.exec(select(Case).where(Case.reference == reference)).first()
        if case is None:
            raise InputError(f"no case {reference!r}; see 'safeguard status' for open cases")
        query = query.where(Notice.case_id == case.id)
    if pending:
        waiting = select(NoticeDelivery.notice_id).where(col(NoticeDelivery.status) != "delivered")
        anyone = sa.exists().where(col(NoticeDelivery.notice_id) == Notice.id)
        query = query.where(sa.or_(col(Notice.id).in_(waiting), ~anyone))  # or nobody to send to
    rows = session.exec(query.order_by(col(Notice.id).desc()).limit(limit)).all()
    deliveries: dict[int, list[NoticeDelivery]] = {}
    for chunk in in_chunks([n.id for n, _ in rows]):
        for d in session.exec(
            select(NoticeDelivery)
            .where(col(NoticeDelivery.notice_id).in_(chunk))
            .order_by(col(NoticeDelivery.staff_id))
        ).all():
            deliveries.setdefault(d.notice_id, []).append(d)
    return [
        {
            "id": n.id,
            "case": ref,
            "kind": n.kind,
            "rung": n.rung,
            "key": n.key,
            "subject": n.subject,
            "created_at": n.created_at.isoformat(),
            "due_at": n.due_at.isoformat(),
            "needs_ack": Kind(n.kind).needs_acknowledgement,
            "ack_due_at": n.ack_due_at.isoformat() if n.ack_due_at else None,
            "acknowledged_at": n.acknowledged_at.isoformat() if n.acknowledged_at else None,
            "acknowledged_by": n.acknowledged_by,
            "unfilled": n.detail.get("unfilled", []),
            # unacknowledged, and its recipients have nobody above them: it went no further
            "nobody_above": bool(n.detail.get("nobody_above")),
            "deliveries": [
                {
                    "to": d.staff_id,
                    "because": d.because,
                    "status": d.status,
                    "attempts": d.attempts,
                    "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                    "delivered_to": d.delivered_to,
                    "next_attempt_at": d.next_attempt_at.isoformat()
                    if d.status != "delivered"
                    else None,
                    "last_error": d.last_error,
                    "acknowledged_at": d.acknowledged_at.isoformat() if d.acknowledged_at else None,
                }
                for d in deliveries.get(n.id or 0, [])
            ],
        }
        for n, ref in rows
    ]


WHY = {
    "owner": "the step is yours",
    "owner_manager": "you manage the person whose step it is",
    "owner_senior_manager": "you are the next manager up from the person whose step it is",
    "case_lead": "you lead the case",
    "child_iro": "you are the child's IRO",
    "child_social_worker": "you are the child's social worker",
    "invited": "you were invited to set your password",
}


def why_me(because: str) -> str:
    """Why a notice came to the person, in words ("you are the child's IRO"), never the policy's
    recipient codes; what is already words ("instead of ...") is kept, its codes put in words."""
    parts = because.split(", ")
    if all(p in WHY or p in Role.__members__ for p in parts):
        said = [WHY[p] if p in WHY else f"you are a {Role(p).label}" for p in parts]
        text = "; ".join(said)
    else:  # a sentence already ("instead of child_iro (nobody holds it)"): its codes in words
        text = in_words(because)
    return text[:1].upper() + text[1:]


def in_words(because: str) -> str:
    """Who a person is in a notice, in words ("the case lead; LADO manager"), from the policy's
    recipient and role codes; what is already a sentence keeps its words, its codes put in words."""
    parts = because.split(", ")
    if all(p in NOUNS for p in parts):
        return "; ".join(NOUNS[p] for p in parts)
    return CODE.sub(lambda found: NOUNS[found.group(0)], because)


NOUNS = {
    "owner": "owner",
    "invited": "invited",
    "owner_senior_manager": "the owner's next manager up",
    "owner_manager": "the owner's manager",
    "case_lead": "the case lead",
    "child_iro": "the child's IRO",
    "child_social_worker": "the child's social worker",
    **{code: role.label for code, role in Role.__members__.items()},
}
CODE = re.compile(r"\b(" + "|".join(sorted(NOUNS, key=len, reverse=True)) + r")\b")


def subject_of(session: Session, notice_id: int) -> str | None:
    """Return what a notice is about (its subject), or None if there is no such notice."""
    notice = session.get(Notice, notice_id)
    return notice.subject if notice is not None else None


def acknowledge(session: Session, *, notice_id: int, staff_id: str, now: datetime) -> Notice:
    """Record that one person the notice went to has seen it. It asks each of them: one person's
    acknowledgement never discharges another's. Once all have, it goes no further up for being
    unacknowledged (until then, the chase goes to the managers of those who have not)."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise InputError(f"no notice {notice_id}; 'safeguard notices' lists them")
    deliveries = {
        d.staff_id: d
        for d in session.exec(
            select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id)
        ).all()
    }
    mine = deliveries.get(staff_id)
    if mine is None:
        who = ", ".join(sorted(deliveries)) or "nobody"
        raise InputError(
            f"{staff_id} did not receive notice {notice_id}: only a recipient ({who}) may acknowledge it"
        )
    acting_roles(session, staff_id)  # someone who has left acknowledges nothing
    if not Kind(notice.kind).needs_acknowledgement:
        raise InputError(f"notice {notice_id} is for information: it needs no acknowledgement")
    if mine.acknowledged_at is not None:
        return notice  # the same acknowledgement again changes nothing
    mine.acknowledged_at = now
    session.add(mine)
    if all(d.acknowledged_at is not None for d in deliveries.values()):
        notice.acknowledged_at, notice.acknowledged_by, notice.ack_due_at = now, staff_id, None
        session.add(notice)
    audit.record(
        session,
        at=now,
        actor_id=staff_id,
        action="notice.acknowledge",
        case_id=notice.case_id,
        entity="notice",
        entity_id=str(notice_id),
        detail={"kind": notice.kind, "rung": notice.rung},
    )
    session.flush()
    return notice


def at_the_top(session: Session, case_id: int) -> set[tuple[str, int]]:
    """Return the case's actions and decisions whose ladder has reached its last rung (("action",
    id) and ("decision", id)): what another process may take up (models/process.py: take_up)."""
    found: set[tuple[str, int]] = set()
    for kind, detail in session.exec(
        select(Notice.kind, Notice.detail).where(
            Notice.case_id == case_id,
            col(Notice.kind).in_([Kind.action_overdue.value, Kind.rationale_lapsed.value]),
        )
    ).all():
        if not (detail or {}).get("top_rung"):
            continue
        if kind == Kind.action_overdue.value:
            found.add(("action", int(detail["action_id"])))
        else:
            found.add(("decision", int(detail["decision_id"])))
    return found

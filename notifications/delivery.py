"""Delivering what the outbox holds: each delivery claimed first (a conditional update), sent
through its channel (Apprise: notifications/channels.py), its receipt or error recorded, and a
failure tried again later (backoff); a sender that dies after claiming leaves its claim to expire.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.escalation import Kind
from models.tables import Notice, NoticeDelivery, StaffAddress
from models.wallclock import Clock, system_clock
from notifications.ack_links import personalise
from notifications.channels import Sender, send_with_apprise
from notifications.invitations import forget_link

LEASE = timedelta(minutes=10)  # a claimed delivery whose sender died may be claimed again after it
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
DELIVERY_WORKERS = 4  # deliveries in flight at once (each is one SMTP or HTTP exchange)


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another sweep first


def deliver(
    engine: Engine,
    *,
    clock: Clock = system_clock,
    sender: Sender = send_with_apprise,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = DELIVERY_WORKERS,
    notice_ids: Sequence[int] | None = None,
) -> DeliveryReport:
    """Deliver every delivery that is pending and due for an attempt, a few at a time.

    Each is claimed first (a conditional update), so another sweep, or another worker here, never
    sends it too. A sender that dies after claiming leaves the claim to expire (LEASE), then it is
    tried again. Claims, receipts and retries are timed by `clock`, the real time, never by the
    moment a sweep runs "as at": a claim made by a sweep as at last week must not look expired to
    the sweep running now.
    """
    report = DeliveryReport()
    with Session(engine) as session:
        query = (
            select(NoticeDelivery.id).where(_claimable(clock())).order_by(col(NoticeDelivery.id))
        )
        if notice_ids is not None:
            query = query.where(col(NoticeDelivery.notice_id).in_(notice_ids))
        ids = [i for i in session.exec(query.limit(limit) if limit else query).all() if i]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_deliver_one, engine, i, clock, sender) for i in ids]
        for number, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            report.attempted += outcome != "skipped"
            report.delivered += outcome == "delivered"
            report.failed += outcome == "failed"
            report.skipped += outcome == "skipped"
            if progress:
                progress(number, len(ids))
    return report


def _claimable(now: datetime) -> Any:
    return sa.or_(
        sa.and_(
            col(NoticeDelivery.status) == "pending", col(NoticeDelivery.next_attempt_at) <= now
        ),
        sa.and_(col(NoticeDelivery.status) == "sending", col(NoticeDelivery.claimed_until) < now),
    )


def _deliver_one(engine: Engine, delivery_id: int, clock: Clock, sender: Sender) -> str:
    now = clock()
    with session_scope(engine) as session:
        claim = (
            sa.update(NoticeDelivery)
            .where(col(NoticeDelivery.id) == delivery_id, _claimable(now))
            .values(
                status="sending",
                claimed_until=now + LEASE,
                attempts=col(NoticeDelivery.attempts) + 1,
            )
        )
        if not cast(CursorResult[Any], session.execute(claim)).rowcount:
            return "skipped"  # another sweep claimed it first
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        notice = session.get(Notice, delivery.notice_id)
        assert notice is not None
        urls = session.exec(
            select(StaffAddress.url)
            .where(StaffAddress.staff_id == delivery.staff_id)
            .order_by(col(StaffAddress.id))
        ).all()
        subject = notice.subject
        text, html = personalise(session, notice, delivery, now)  # their own one-click link
        attempts = delivery.attempts
    result = sender(list(urls), subject, text, html)
    now = clock()  # the receipt's time: when it was sent, not when the claim was made
    with session_scope(engine) as session:
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        if result.delivered:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.delivered_to = ", ".join(result.delivered_to)
            delivery.last_error = "; ".join(result.errors) or None
            sent = session.get(Notice, delivery.notice_id)
            if sent is not None and sent.kind == Kind.invitation.value:
                forget_link(sent)  # delivered: the outbox keeps no working link
        else:
            delivery.status = "pending"
            delivery.last_error = "; ".join(result.errors) or "not delivered"
            delivery.next_attempt_at = now + backoff(attempts)
        delivery.claimed_until = None
        session.add(delivery)
    return "delivered" if result.delivered else "failed"


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt: 5 min, 10, 20, ... at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)

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
from models.tables import Case, Notice, NoticeDelivery, StaffAddress
from models.wallclock import Clock, system_clock
from notifications import notify as notify_channel
from notifications.ack_links import personalise
from notifications.addresses import mask
from notifications.channels import Sender, SendResult, send_with_apprise
from notifications.invitations import forget_link
from notifications.notify import NotifyChannel

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
    notify: NotifyChannel | None = None,
) -> DeliveryReport:
    """Deliver every delivery that is pending and due for an attempt, a few at a time.

    Each is claimed first (a conditional update), so another sweep, or another worker here, never
    sends it too. A sender that dies after claiming leaves the claim to expire (LEASE), then it is
    tried again. Claims, receipts and retries are timed by `clock`, the real time, never by the
    moment a sweep runs "as at": a claim made by a sweep as at last week must not look expired to
    the sweep running now. GOV.UK Notify addresses go through `notify` (notifications/notify.py).
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
        futures = [pool.submit(_deliver_one, engine, i, clock, sender, notify) for i in ids]
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


def _deliver_one(
    engine: Engine, delivery_id: int, clock: Clock, sender: Sender, notify: NotifyChannel | None
) -> str:
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
        subject, kind = notice.subject, notice.kind
        about = session.get(Case, notice.case_id) if notice.case_id else None
        reference = about.reference if about is not None else ""
        text, html = personalise(session, notice, delivery, now)  # their own one-click link
        attempts = delivery.attempts
        never = notify_channel.failed_for_good(session, delivery_id)  # Notify: no such address
    urls = [u for u in urls if mask(u) not in never]
    result, accepted = send_to_addresses(
        urls, sender=sender, notify=notify, kind=kind, subject=subject, text=text, html=html,
        reference=reference,
    )  # fmt: skip
    if never and not urls:
        result.errors.append("GOV.UK Notify could not deliver to any of their addresses: add another address")  # fmt: skip
    now = clock()  # the receipt's time: when it was sent, not when the claim was made
    with session_scope(engine) as session:
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        if result.delivered:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.delivered_to = ", ".join(result.delivered_to)
            delivery.last_error = "; ".join(result.errors) or None
            sent_notice = session.get(Notice, delivery.notice_id)
            if sent_notice is not None and sent_notice.kind == Kind.invitation.value:
                forget_link(sent_notice)  # delivered: the outbox keeps no working link
            notify_channel.keep(session, delivery_id, accepted, now)
        else:
            delivery.status = "pending"
            delivery.last_error = "; ".join(result.errors) or "not delivered"
            delivery.next_attempt_at = now + backoff(attempts)
        delivery.claimed_until = None
        session.add(delivery)
    return "delivered" if result.delivered else "failed"


def send_to_addresses(
    urls: Sequence[str],
    *,
    sender: Sender,
    notify: NotifyChannel | None,
    kind: str,
    subject: str,
    text: str,
    html: str,
    reference: str = "",
) -> tuple[SendResult, list[notify_channel.Accepted]]:
    """Send one notice to a person's addresses: GOV.UK Notify's through `notify`, every other
    through `sender` (Apprise); say which took it, why others did not, and what Notify took."""
    by_notify = [u for u in urls if notify_channel.is_notify(u)]
    others = [u for u in urls if not notify_channel.is_notify(u)]
    result = sender(others, subject, text, html) if others or not by_notify else SendResult()
    if not by_notify:
        return result, []
    if notify is None:
        result.errors += [f"{mask(u)}: GOV.UK Notify is not set up here: set SAFEGUARD_NOTIFY_API_KEY and SAFEGUARD_NOTIFY_TEMPLATES" for u in by_notify]  # fmt: skip
        return result, []
    sent = notify.send(by_notify, kind=kind, subject=subject, text=text, reference=reference)
    result.delivered_to += sent.delivered_to
    result.errors += sent.errors
    return result, sent.accepted


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the n-th failed attempt: 5 min, 10, 20, ... at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)

"""GOV.UK Notify as a channel: a person's address may be `notify-email:pat@council.gov.uk` or
`notify-sms:07700900123`, sent with GDS's `notifications-python-client`.

Each notice kind maps to a Notify template (SAFEGUARD_NOTIFY_TEMPLATES: `kind=template-id`, with
`*` for every other kind); the notice goes as the template's personalisation (`subject`, `body`
and `reference`: the notice's own words, which never hold a name or narrative). The outbox's claim
before sending, receipts and retries are delivery.py's, as for Apprise; the notification id Notify
gives is kept with the receipt (NotifyMessage), and a later sweep asks Notify what became of it
(`check_statuses`): delivered; a temporary or technical failure, sent again later; a permanent
failure (no such address), never sent to that address again for this notice, so the next attempt
goes to the person's other addresses. A delivery no other address took goes back to pending, and
the step's ladder runs on as for any notice nobody received.

Notify allows 3,000 requests a minute for a key: a limiter keeps under it. A 429 or a server
error is tried again later; a 400 is an error in the outbox that names the template.
"""

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import requests
import sqlalchemy as sa
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.errors import InputError
from models.staff import mask_address as mask
from models.tables import NoticeDelivery, NotifyMessage

EMAIL, SMS = "notify-email:", "notify-sms:"
BASE_URL = "https://api.notifications.service.gov.uk"
PER_MINUTE = 3000  # Notify's rate limit for one API key
WAITING = ("created", "sending", "pending", "taken")  # not yet final
RETRIED = ("temporary-failure", "technical-failure")  # final for that message: send again
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9 ()-]{6,20}$")


def is_notify(url: str) -> bool:
    return url.lower().startswith((EMAIL, SMS))


def check(url: str) -> str:
    """Return a Notify address as kept, or raise InputError saying how to write one."""
    scheme, _, to = url.strip().partition(":")
    to = to.strip()
    if scheme.lower() == EMAIL[:-1] and EMAIL_SHAPE.match(to):
        return EMAIL + to
    if scheme.lower() == SMS[:-1] and PHONE_SHAPE.match(to):
        return SMS + to
    raise InputError(
        f"notification address {mask(url)} is not a GOV.UK Notify address: write "
        "notify-email:name@council.gov.uk or notify-sms:07700900123"
    )


class RateLimit:
    """At most `per_minute` requests in any 60 seconds, across threads: a caller over it waits."""

    def __init__(
        self,
        per_minute: int = PER_MINUTE,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute, self._now, self._sleep = per_minute, now, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Wait until one more request keeps within the limit; return how long it waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._now()
                while self._sent and now - self._sent[0] >= 60:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return waited
                pause = 60 - (now - self._sent[0])
            self._sleep(pause)
            waited += pause


@dataclass(frozen=True)
class NotifySettings:
    api_key: str
    templates: Mapping[str, str]  # notice kind -> template id ("*": any other kind)
    base_url: str = BASE_URL


def read_templates(text: str) -> dict[str, str]:
    """`kind=template-id,kind=template-id` (or `*=template-id`) as a mapping, or InputError."""
    found: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, sep, template = part.partition("=")
        if not sep or not kind.strip() or not template.strip():
            raise InputError(
                f"SAFEGUARD_NOTIFY_TEMPLATES: {part!r} is not kind=template-id "
                "(e.g. lapsed=8d1c...,*=f3a2...)"
            )
        found[kind.strip()] = template.strip()
    return found


@dataclass
class Accepted:
    """A message Notify took: its id, kept with the receipt."""

    address: str  # masked
    notification_id: str
    template_id: str


@dataclass
class Sent:
    delivered_to: list[str] = field(default_factory=list)  # masked addresses Notify took it for
    errors: list[str] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)


class NotifyChannel:
    """Sends through Notify's API (one client per thread) within the key's rate limit."""

    def __init__(self, settings: NotifySettings, limit: RateLimit | None = None) -> None:
        self.settings = settings
        self.limit = limit or RateLimit()
        self._local = threading.local()

    def send(
        self, urls: Sequence[str], *, kind: str, subject: str, text: str, reference: str
    ) -> Sent:
        """Send the notice to each Notify address; say which took it and why others did not."""
        sent = Sent()
        template = self.settings.templates.get(kind) or self.settings.templates.get("*")
        if not template:
            sent.errors += [
                f"{mask(u)}: no GOV.UK Notify template for this kind of notice ({kind}): add "
                f"{kind}=TEMPLATE_ID (or *=TEMPLATE_ID) to SAFEGUARD_NOTIFY_TEMPLATES"
                for u in urls
            ]
            return sent
        personalisation = {"subject": subject, "body": text, "reference": reference or "-"}
        for url in urls:
            scheme, _, to = url.partition(":")
            what = "email" if scheme.lower() == EMAIL[:-1] else "text message"
            self.limit.wait()
            try:
                if what == "email":
                    answer = self._client().send_email_notification(
                        email_address=to, template_id=template, personalisation=personalisation
                    )
                else:
                    answer = self._client().send_sms_notification(
                        phone_number=to, template_id=template, personalisation=personalisation
                    )
            except APIError as refused:
                sent.errors.append(self._refusal(url, what, template, kind, refused))
                continue
            except requests.RequestException as failed:
                sent.errors.append(f"{mask(url)}: GOV.UK Notify could not be reached ({type(failed).__name__}): tried again later")  # fmt: skip
                continue
            sent.delivered_to.append(mask(url))
            sent.accepted.append(Accepted(mask(url), str(answer["id"]), template))
        return sent

    def status(self, notification_id: str) -> str:
        """What became of a message (Notify's status: delivered, permanent-failure...)."""
        self.limit.wait()
        answer = self._client().get_notification_by_id(notification_id)
        return str(answer.get("status", "unknown"))

    def _client(self) -> NotificationsAPIClient:
        client: NotificationsAPIClient | None = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(
                self.settings.api_key, base_url=self.settings.base_url, timeout=20
            )
            self._local.client = client
        return client

    @staticmethod
    def _refusal(url: str, what: str, template: str, kind: str, refused: APIError) -> str:
        code = refused.status_code
        said = refused.message
        if isinstance(said, list):
            said = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in said)  # fmt: skip
        if code == 429 or code >= 500:
            return f"{mask(url)}: GOV.UK Notify did not take the {what} just now ({code}: {said}): tried again later"  # fmt: skip
        return (
            f"{mask(url)}: GOV.UK Notify refused the {what} ({code}: {said}); the template for "
            f"this kind of notice ({kind}) is {template}: check it in Notify and in "
            "SAFEGUARD_NOTIFY_TEMPLATES"
        )


@lru_cache(maxsize=4)
def channel(api_key: str, base_url: str, templates: str) -> NotifyChannel:
    """One channel (and one rate limit) per key, for the life of the process."""
    return NotifyChannel(NotifySettings(api_key, read_templates(templates), base_url))


def keep(session: Session, delivery_id: int, accepted: Sequence[Accepted], now: datetime) -> None:
    """Keep each message Notify took with the delivery's receipt."""
    for message in accepted:
        session.add(
            NotifyMessage(
                delivery_id=delivery_id,
                address=message.address,
                notification_id=message.notification_id,
                template_id=message.template_id,
                status="taken",
                sent_at=now,
            )
        )


def failed_for_good(session: Session, delivery_id: int) -> set[str]:
    """The (masked) addresses Notify could never deliver this notice to: not tried again."""
    return set(
        session.exec(
            select(NotifyMessage.address).where(
                NotifyMessage.delivery_id == delivery_id,
                NotifyMessage.status == "permanent-failure",
            )
        ).all()
    )


@dataclass
class Checked:
    asked: int = 0
    delivered: int = 0
    failed: int = 0  # temporary, technical or permanent failures
    reopened: int = 0  # deliveries no other address took: pending again


def check_statuses(
    engine: Engine, *, clock: Callable[[], datetime], notify: NotifyChannel
) -> Checked:
    """Ask Notify what became of every message not yet final; a failure reopens its delivery
    where no other address took the notice (tried again on the next attempt)."""
    checked = Checked()
    with Session(engine) as session:
        waiting = session.exec(
            select(NotifyMessage.id, NotifyMessage.notification_id)
            .where(col(NotifyMessage.status).in_(WAITING))
            .order_by(col(NotifyMessage.id))
        ).all()
    for message_id, notification_id in waiting:
        try:
            status = notify.status(notification_id)
        except (APIError, requests.RequestException):
            continue  # asked again at the next sweep
        checked.asked += 1
        if status in WAITING:
            continue
        with session_scope(engine) as session:
            checked_one = _apply(session, message_id or 0, status, clock())
        checked.delivered += status == "delivered"
        checked.failed += status != "delivered"
        checked.reopened += checked_one
    return checked


def _apply(session: Session, message_id: int, status: str, now: datetime) -> bool:
    """Record a message's final status; reopen its delivery if it failed and nothing else took
    the notice. True if it was reopened."""
    message = session.get(NotifyMessage, message_id)
    if message is None or message.status not in WAITING:
        return False
    message.status, message.checked_at = status, now
    session.add(message)
    if status == "delivered":
        return False
    delivery = session.get(NoticeDelivery, message.delivery_id)
    if delivery is None:
        return False
    why = (
        "no such address: it is not tried again for this notice"
        if status == "permanent-failure"
        else "tried again later"
    )
    said = f"{message.address}: GOV.UK Notify could not deliver it ({status}): {why}"
    others = [a for a in (delivery.delivered_to or "").split(", ") if a and a != message.address]
    if delivery.status != "delivered" or others:
        delivery.last_error = said
        session.add(delivery)
        return False
    reopened = sa.update(NoticeDelivery).where(
        col(NoticeDelivery.id) == delivery.id, col(NoticeDelivery.status) == "delivered"
    )
    session.execute(
        reopened.values(
            status="pending",
            next_attempt_at=now,
            delivered_at=None,
            delivered_to=None,
            last_error=said,
        )
    )
    return True

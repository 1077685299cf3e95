"""GOV.UK Notify as a channel (issue 22, part 2), on SQLite and PostgreSQL, against a local
service that speaks Notify's API and checks each request's token (tests/notify_double.py):
notices to notify-email: and notify-sms: addresses sent with each kind's template and the notice
as personalisation; the notification id kept with the receipt; a later sweep asks what became of
each message: delivered; a temporary failure sent again; a permanent failure never sent to that
address again, the notice going to the person's other address; a 429 tried again later; a 400
an error in the outbox naming the template; a wrong key refused by the double; mail through
Apprise beside it."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.errors import InputError
from models.staff import add_staff, mask_address
from models.tables import Notice, NoticeDelivery, NotifyMessage
from notifications import sweep as outbox_sweep
from notifications.addresses import check_address
from notifications.channels import send_with_apprise
from notifications.notify import NotifyChannel, NotifySettings, RateLimit
from tests.builders import person
from tests.cases import CALENDAR, CARER_NAME, CHILD_NAME, NARRATIVE, POLICY, TEAM, at, start_case
from tests.notify_double import NotifyDouble, running_notify
from tests.smtp import SmtpServer

TEMPLATE = str(uuid.uuid4())
UNKNOWN = str(uuid.uuid4())  # a template Notify does not have
T0 = at("2026-11-05T09:00")  # the initial consideration lapsed: lado-1, ladom-1, hos-1 told
ADDRESSES = {
    "lado-1": ["notify-email:lado1@northshire.gov.uk"],
    "ladom-1": ["notify-email:gone@northshire.gov.uk", "notify-sms:07700900001"],
    "hos-1": ["notify-email:hos1@northshire.gov.uk"],
    "iro-1": [
        "notify-email:iro1@northshire.gov.uk"
    ],  # an information notice: its template is UNKNOWN
}


@pytest.fixture
def notify() -> Iterator[NotifyDouble]:
    with running_notify({TEMPLATE}) as double:
        double.outcomes = {
            "gone@northshire.gov.uk": ["permanent-failure"],
            "07700900001": ["429", "delivered"],
            "hos1@northshire.gov.uk": ["temporary-failure", "delivered"],
        }
        yield double


def channel(double: NotifyDouble, key: str | None = None, limit: RateLimit | None = None) -> NotifyChannel:  # fmt: skip
    templates = {"information": UNKNOWN, "*": TEMPLATE}
    return NotifyChannel(NotifySettings(key or double.api_key, templates, double.url), limit)


def deliveries(engine: Engine) -> dict[str, NoticeDelivery]:
    with Session(engine) as session:
        return {d.staff_id: d for d in session.exec(select(NoticeDelivery)).all()}


def sweep(engine: Engine, through: NotifyChannel, minutes: int) -> outbox_sweep.SweepReport:
    moment = T0 + timedelta(minutes=minutes)
    return outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=T0, sender=send_with_apprise, clock=lambda: moment, notify=through)  # fmt: skip


@pytest.fixture
def team(engine: Engine, smtp: SmtpServer) -> str:
    def addresses(sid: str) -> list[str]:
        return ADDRESSES.get(sid, [smtp.url(sid)])

    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=check_address,  # the real check: Notify addresses parse
            now=T0,
            people=[
                person(sid, *roles, manager=manager, name=f"Staff {sid}", addresses=addresses(sid))
                for sid, roles, manager in TEAM
            ],
        )
    return start_case(engine)


def test_notices_through_notify_with_receipts_and_what_became_of_them(
    engine: Engine, team: str, notify: NotifyDouble, smtp: SmtpServer
) -> None:
    counted = RateLimit()
    through = channel(notify, limit=counted)
    first = sweep(engine, through, 0)
    assert first.delivery is not None and first.delivery.delivered == 4  # iro-1 waits (400)
    sent = {m["to"]: m for m in notify.sent}
    lado = sent["lado1@northshire.gov.uk"]
    assert lado["template_id"] == TEMPLATE and lado["type"] == "email"
    assert lado["personalisation"]["reference"] == team
    with Session(engine) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "lapsed", Notice.rung == 1)).first()  # fmt: skip
        assert notice is not None and lado["personalisation"]["subject"] == notice.subject
    said = str(lado["personalisation"])  # the notice's own words: no child, carer or narrative
    assert CHILD_NAME not in said and CARER_NAME not in said and NARRATIVE not in said
    now = deliveries(engine)
    assert now["lado-1"].status == "delivered"
    assert now["lado-1"].delivered_to == mask_address(ADDRESSES["lado-1"][0])
    assert now["ladom-1"].status == "delivered"  # the email was taken; the text message was not
    assert "did not take the text message just now (429" in (now["ladom-1"].last_error or "")
    assert now["iro-1"].status == "pending"
    said = now["iro-1"].last_error or ""
    assert "GOV.UK Notify refused the email (400: Template not found)" in said
    assert f"the template for this kind of notice (information) is {UNKNOWN}" in said
    assert now["sw-1"].status == "delivered" and any(m.to == ("sw-1@example.org",) for m in smtp.received)  # fmt: skip
    with Session(engine) as session:
        kept = {m.notification_id: m for m in session.exec(select(NotifyMessage)).all()}
    assert set(kept) == {m["id"] for m in notify.sent}  # every id Notify gave, with its receipt
    assert {m.status for m in kept.values()} == {"taken"}

    # The next sweep asks Notify: delivered, a permanent failure (never that address again: the
    # text message instead) and a temporary one (sent again).
    second = sweep(engine, through, 1)
    assert second.notify is not None
    assert (second.notify.asked, second.notify.delivered, second.notify.failed, second.notify.reopened) == (3, 1, 2, 2)  # fmt: skip
    now = deliveries(engine)
    assert now["ladom-1"].status == "delivered"
    assert now["ladom-1"].delivered_to == mask_address("notify-sms:07700900001")
    assert now["hos-1"].status == "delivered"
    third = sweep(engine, through, 2)
    assert third.notify is not None and third.notify.delivered == 2 and third.notify.reopened == 0
    assert (
        notify.tried.count("gone@northshire.gov.uk") == 1
    )  # never again after "permanent-failure"
    assert notify.tried.count("07700900001") == 2  # 429, then taken
    assert notify.tried.count("hos1@northshire.gov.uk") == 2  # a temporary failure: sent again
    with Session(engine) as session:
        statuses = sorted(m.status for m in session.exec(select(NotifyMessage)).all())
        failed = session.exec(select(NotifyMessage).where(col(NotifyMessage.status) == "permanent-failure")).one()  # fmt: skip
    assert statuses == ["delivered"] * 3 + ["permanent-failure", "temporary-failure"]
    assert failed.address == mask_address("notify-email:gone@northshire.gov.uk")
    requests = len(notify.tried) + 1 + 3 + 2  # each send (iro-1's refused one), each status asked
    assert len(counted._sent) == requests  # every request went through the rate limit


def test_a_wrong_key_is_refused_by_the_double(engine: Engine, team: str, notify: NotifyDouble) -> None:  # fmt: skip
    wrong = (
        f"safeguard_test-{notify.service_id}-{uuid.uuid4()}"  # the right service, another secret
    )
    sweep(engine, channel(notify, key=wrong), 0)
    assert notify.sent == []
    said = deliveries(engine)["lado-1"].last_error or ""
    assert "GOV.UK Notify refused the email (403: Invalid token: InvalidSignatureError)" in said


def test_notify_addresses_are_checked_and_masked() -> None:
    assert check_address(" notify-email:pat@northshire.gov.uk") == "notify-email:pat@northshire.gov.uk"  # fmt: skip
    assert check_address("notify-sms:07700 900123") == "notify-sms:07700 900123"
    for bad in ("notify-email:pat", "notify-sms:call me", "notify-fax:0123"):
        with pytest.raises(InputError) as refused:
            check_address(bad)
        said = str(refused.value)
        assert (
            "notify-email:name@council.gov.uk or notify-sms:07700900123" in said
            and "pat" not in said
        )
    masked = mask_address("notify-email:pat@northshire.gov.uk")
    assert masked.startswith("notify-email:…#") and "pat" not in masked

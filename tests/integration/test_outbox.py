"""The outbox on SQLite and PostgreSQL with a real SMTP server: nothing lost when the mail server
goes away mid-sweep, nothing doubled by two sweeps at once, every failure kept with its error."""

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.db import make_engine, session_scope
from models.errors import InputError
from models.staff import add_staff
from models.tables import Notice, NoticeDelivery
from notifications.channels import SendResult, send_with_apprise
from notifications.delivery import backoff
from notifications.notices import acknowledge, notice_rows
from notifications.sweep import SweepReport, sweep, tell_at_once
from tests.builders import accept_any_address, person
from tests.cases import CALENDAR, POLICY, add_team, at, notice_id, record, start_case
from tests.smtp import SmtpServer

LAPSED = at("2026-11-04T09:00")  # every case below: initial consideration lapsed, rung 1 due
# ...and each case's start told, for information, to the child's IRO and social worker (the flow
# tells them at once; with no flow here, the sweep does): one more notice, two more deliveries.


def cases(engine: Engine, smtp: SmtpServer, n: int) -> None:
    add_team(engine, smtp)
    for _ in range(n):
        start_case(engine)


def deliveries(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(session.exec(select(NoticeDelivery.status)).all())


def test_smtp_server_stopped_mid_sweep_loses_nothing_and_doubles_nothing(
    engine: Engine, smtp: SmtpServer
) -> None:
    cases(engine, smtp, 6)  # 6 cases x (rung 1: owner + LADO manager; started: IRO + SW) = 24
    calls, lock = 0, threading.Lock()
    three_in, gone = threading.Event(), threading.Event()
    smtp.on_message = lambda _mail: three_in.set() if len(smtp.received) == 3 else None

    def sender_that_loses_the_server(urls: Sequence[str], s: str, t: str, h: str) -> SendResult:
        # Deliveries run a few at a time: the first three go through, then the server goes away
        # while the rest are in flight.
        nonlocal calls
        with lock:
            calls += 1
            mine = calls
        if mine == 4:
            assert three_in.wait(30)
            smtp.stop()
            gone.set()
        elif mine > 4:
            assert gone.wait(30)
        return send_with_apprise(urls, s, t, h)

    report = sweep(
        engine,
        policy=POLICY,
        calendar=CALENDAR,
        now=LAPSED,
        sender=sender_that_loses_the_server,
        clock=lambda: LAPSED,  # the real time, as this test runs it
    )
    assert report.delivery is not None
    delivered, failed = report.delivery.delivered, report.delivery.failed
    assert (delivered, failed) == (3, 21) and len(smtp.received) == 3
    assert deliveries(engine) == {"delivered": delivered, "pending": failed}
    with Session(engine) as session:
        pending = session.exec(
            select(NoticeDelivery).where(NoticeDelivery.status == "pending")
        ).all()
    assert all(d.attempts == 1 and "Connection error" in (d.last_error or "") for d in pending)
    assert all(d.next_attempt_at == LAPSED + timedelta(minutes=5) for d in pending)

    # Still down a minute later: the back-off holds them; nothing is tried, nothing changes.
    minute = LAPSED + timedelta(minutes=1)
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=minute, clock=lambda: minute)
    assert report.delivery is not None and report.delivery.attempted == 0
    smtp.start()
    # Back: the next sweep due for them delivers each exactly once; a further sweep sends nothing.
    for later in (LAPSED + timedelta(minutes=15), LAPSED + timedelta(minutes=30)):
        sweep(engine, policy=POLICY, calendar=CALENDAR, now=later, clock=lambda: later)  # noqa: B023
    assert deliveries(engine) == {"delivered": 24}
    received = Counter((m.to, m.subject) for m in smtp.received)
    assert len(received) == 24 and set(received.values()) == {1}
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 12


def test_two_sweeps_at_once_send_each_notice_once(
    engine: Engine, database_url: str, smtp: SmtpServer
) -> None:
    cases(engine, smtp, 10)
    start = threading.Barrier(2)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def one_sweep() -> None:
        own = make_engine(database_url)  # a separate process would have its own pool
        try:
            start.wait()
            reports.append(sweep(own, policy=POLICY, calendar=CALENDAR, now=LAPSED))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(len(r.written) for r in reports) == 20  # each notice written by one sweep only
    assert deliveries(engine) == {"delivered": 40}
    received = Counter((m.to, m.subject) for m in smtp.received)
    assert len(smtp.received) == 40 and set(received.values()) == {1}


def test_a_sweep_as_at_a_past_moment_claims_and_records_in_real_time(
    engine: Engine, database_url: str, smtp: SmtpServer
) -> None:
    """A sweep "as at" last week is delivering (slowly) when the scheduled sweep runs now: the
    claims of the first are not expired to the second, so nothing goes twice; and each receipt
    records when it was really sent, not the as-at moment."""
    cases(engine, smtp, 4)
    in_flight, now_done = threading.Event(), threading.Event()

    def slow_sender(urls: Sequence[str], s: str, t: str, h: str) -> SendResult:
        in_flight.set()
        assert now_done.wait(60)  # the sweep running now comes and goes meanwhile
        return send_with_apprise(urls, s, t, h)

    def past_sweep() -> None:
        own = make_engine(database_url)
        try:
            sweep(own, policy=POLICY, calendar=CALENDAR, now=LAPSED, sender=slow_sender)
        finally:
            own.dispose()

    before = datetime.now(UTC)
    past = threading.Thread(target=past_sweep)
    past.start()
    assert in_flight.wait(60)
    # The sweep running now: as at the real time (its own notices are later rungs).
    sweep(engine, policy=POLICY, calendar=CALENDAR, now=datetime.now(UTC))
    now_done.set()
    past.join(120)
    received = Counter((m.to, m.subject) for m in smtp.received)
    assert received and set(received.values()) == {1}, received  # nothing sent twice
    with Session(engine) as session:
        delivered = session.exec(
            select(NoticeDelivery).where(NoticeDelivery.status == "delivered")
        ).all()
    assert delivered and all(d.delivered_at and d.delivered_at >= before for d in delivered)


def test_a_role_nobody_holds_is_reported_to_the_head_of_service(
    engine: Engine, smtp: SmtpServer
) -> None:
    with session_scope(engine) as session:  # no LADO manager in this authority
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=LAPSED - timedelta(days=30),
            people=[
                person("hos-1", "head_of_service", addresses=[smtp.url("hos-1")]),
                person("lado-1", "lado", manager="hos-1", addresses=[smtp.url("lado-1")]),
                person("iro-1", "iro", addresses=[smtp.url("iro-1")]),
                person("sw-1", "social_worker", addresses=[smtp.url("sw-1")]),
                person("ssw-1", "supervising_social_worker"),
            ],
        )
    ref = start_case(engine)
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=LAPSED)
    [written] = [w for w in report.written if w.kind == "lapsed"]
    assert written.unfilled == ["lado_manager"]
    assert written.recipients == ["hos-1", "lado-1"]
    [to_head] = smtp.to("hos-1")
    assert "Nobody holds</th><td>LADO manager: the head of service receives this" in to_head.html
    with Session(engine) as session:
        because = session.exec(
            select(NoticeDelivery.because).where(NoticeDelivery.staff_id == "hos-1")
        ).one()
    assert because == "instead of lado_manager (nobody holds it)"
    assert ref


def test_acknowledging_needs_a_recipient_and_changes_nothing_otherwise(
    engine: Engine, smtp: SmtpServer
) -> None:
    cases(engine, smtp, 1)
    sweep(engine, policy=POLICY, calendar=CALENDAR, now=LAPSED)
    nid = notice_id(engine, "lapsed", "lado-1")
    with (
        pytest.raises(InputError, match=r"sw-1 did not receive notice \d+: only a recipient"),
        session_scope(engine) as session,
    ):
        acknowledge(session, notice_id=nid, staff_id="sw-1", now=LAPSED)
    with pytest.raises(InputError, match="no notice 999"), session_scope(engine) as session:
        acknowledge(session, notice_id=999, staff_id="lado-1", now=LAPSED)
    with Session(engine) as session:
        notice = session.get(Notice, nid)
        assert notice is not None and notice.acknowledged_at is None
    with session_scope(engine) as session:
        acknowledge(session, notice_id=nid, staff_id="ladom-1", now=LAPSED)
        acknowledge(session, notice_id=nid, staff_id="lado-1", now=LAPSED)
    # Acknowledged by both it went to: two working days on, it does not go up; the step's own
    # ladder runs on.
    later = at("2026-11-09T09:00")
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=later)
    kinds = sorted(w.kind for w in report.written)
    assert kinds == ["lapsed"]  # rung 2 (head of service); no "unacknowledged"


def test_each_person_acknowledges_their_own_and_only_those_who_have_not_are_chased(
    engine: Engine, smtp: SmtpServer
) -> None:
    """The late step's rung 1 went to the LADO and their manager: the manager's acknowledgement
    leaves the LADO's due, and when it lapses the chase goes above the LADO alone (to their
    manager), not above the manager who acknowledged (the head of service)."""
    cases(engine, smtp, 1)
    sweep(engine, policy=POLICY, calendar=CALENDAR, now=LAPSED)
    nid = notice_id(engine, "lapsed", "lado-1")
    with session_scope(engine) as session:
        acknowledge(session, notice_id=nid, staff_id="ladom-1", now=LAPSED)
        acknowledge(session, notice_id=nid, staff_id="ladom-1", now=LAPSED)  # again: no change
    with Session(engine) as session:
        notice = session.get(Notice, nid)
        assert notice is not None and notice.acknowledged_at is None
        done = {d.staff_id: d.acknowledged_at for d in session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == nid))}  # fmt: skip
        assert done["ladom-1"] is not None and done["lado-1"] is None
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-09T09:00"))
    [chase] = [w for w in report.written if w.kind == "unacknowledged"]
    assert chase.recipients == ["ladom-1"]  # the LADO's manager, about the LADO's; not hos-1


def test_a_person_without_an_address_stays_pending_with_the_reason(
    engine: Engine, smtp: SmtpServer
) -> None:
    cases(engine, smtp, 1)
    report = sweep(
        engine,
        policy=POLICY,
        calendar=CALENDAR,
        now=LAPSED,
        sender=lambda urls, s, t, h: send_with_apprise([], s, t, h),
    )
    assert report.delivery is not None and report.delivery.failed == 4  # lapsed 2, started 2
    with Session(engine) as session:
        errors = set(session.exec(select(NoticeDelivery.last_error)).all())
    assert errors == {"no notification address on record: add one with 'safeguard staff add'"}


def test_a_dry_run_writes_and_sends_nothing(engine: Engine, smtp: SmtpServer) -> None:
    cases(engine, smtp, 2)
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=LAPSED, dry_run=True)
    assert len(report.written) == 4 and all(w.notice_id is None for w in report.written)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0
    assert smtp.received == []


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert backoff(30) == timedelta(hours=6)


def test_a_notice_nobody_can_receive_is_kept_and_listed_as_pending(
    engine: Engine, smtp: SmtpServer
) -> None:
    with session_scope(engine) as session:  # no manager and no head of service at all
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=LAPSED - timedelta(days=30),
            people=[
                person("lado-1", "lado", addresses=[smtp.url("lado-1")]),
                person("iro-1", "iro"),
                person("sw-1", "social_worker"),
                person("ssw-1", "supervising_social_worker"),
            ],
        )
    start_case(engine)
    sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-05T09:00"))
    with Session(engine) as session:
        pending = notice_rows(session, pending=True)
    # Rung 1 reached the LADO (delivered); rung 2 (head of service) has nobody: kept, and listed.
    assert [
        (r["rung"], r["deliveries"], r["unfilled"]) for r in pending if r["kind"] == "lapsed"
    ] == [(2, [], ["head_of_service"])]


def test_a_decision_without_rationale_is_told_at_once_and_once(
    engine: Engine, smtp: SmtpServer
) -> None:
    cases(engine, smtp, 1)
    when = at("2026-11-03T11:00")
    record(
        engine,
        "ALG-2026-0001",
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        when,
    )
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0
    for _ in range(2):  # a replay of the flow tells nobody twice
        tell_at_once(engine, policy=POLICY, calendar=CALENDAR, case_id=1, now=when)
    told = sorted((m.to[0], m.subject.split(" ALG")[0]) for m in smtp.received)
    assert told == [
        ("iro-1@example.org", "Decision without rationale:"),
        ("iro-1@example.org", "For information:"),  # the case started (as the flow tells)
        ("iro-1@example.org", "For information:"),  # the route decided (done_notify)
        ("ladom-1@example.org", "Decision without rationale:"),
        ("sw-1@example.org", "For information:"),
        ("sw-1@example.org", "For information:"),
    ]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Notice)).one() == 3


def test_an_escalation_stops_at_the_top_of_the_chain(engine: Engine, smtp: SmtpServer) -> None:
    with session_scope(engine) as session:  # a small authority: the LADO reports to the head
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=LAPSED - timedelta(days=30),
            people=[
                person("hos-1", "head_of_service", "lado_manager", addresses=[smtp.url("hos-1")]),
                person("lado-1", "lado", manager="hos-1", addresses=[smtp.url("lado-1")]),
                person("iro-1", "iro"),
                person("sw-1", "social_worker"),
                person("ssw-1", "supervising_social_worker"),
            ],
        )
    start_case(engine)
    sweep(engine, policy=POLICY, calendar=CALENDAR, now=LAPSED)  # rung 1: lado-1, hos-1
    # Nobody acknowledges; the matter stays open. Above lado-1 is hos-1, above hos-1 nobody, and
    # both were told: no "unacknowledged" notice, and the first notice waits no longer.
    report = sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-09T09:00"))
    assert [w.kind for w in report.written] == ["lapsed"]  # rung 2 of the step's own ladder
    with Session(engine) as session:
        first = session.get(Notice, 1)
        assert first is not None and first.kind == "lapsed"
        assert first.ack_due_at is None and first.acknowledged_at is None
        assert session.exec(select(func.count()).select_from(Notice)).one() == 3  # + started

"""The state of the record as numbers, read in a few set-based queries: what /metrics gives
Prometheus (its text format, `prometheus-client`) and the managers' Service health page shows in
words. No names, no references, no narrative: labels are a process's code, a rung's number, a
delivery's status."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlmodel import Session, col, func, select

from models.calendar import WorkingCalendar
from models.enums import CaseStatus
from models.policy import Policy
from models.staff import mask_address
from models.tables import (
    AuditEntry,
    Case,
    NoticeDelivery,
    ServiceMark,
    StaffAddress,
    StaffCredential,
    Submission,
)
from models.worklist import board


@dataclass
class Numbers:
    open_cases: dict[str, int] = field(default_factory=dict)  # process -> open cases
    overdue: dict[tuple[str, int], int] = field(default_factory=dict)  # (process, rung) -> cases
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> deliveries
    retrying: int = 0  # pending after a failed attempt
    not_applied: int = 0  # records the flow could not apply
    last_sweep: datetime | None = None
    sweep_seconds: float | None = None  # how long the last sweep took
    stuck: int = 0  # cases the last repair found not moving (a run dead or never made)
    carried_on: int = 0  # of those, carried on by it
    by_channel: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, channel) ->
    sign_in_failures: int = 0  # failed sign-ins in a row, summed over accounts
    sign_ins_refused: int = 0  # refused in the last 24 hours (passwords and council accounts)


def numbers(session: Session, policy: Policy, calendar: WorkingCalendar, now: datetime) -> Numbers:
    """Return the record's state as of `now`."""
    found = Numbers()
    for process, count in session.exec(
        select(Case.process, func.count())
        .where(Case.status == CaseStatus.open)
        .group_by(col(Case.process))
    ).all():
        found.open_cases[process] = count
    for row in board(session=session, policy=policy, calendar=calendar, now=now, rag="red"):
        key = (row.process, row.rung)
        found.overdue[key] = found.overdue.get(key, 0) + 1
    for status, count in session.exec(
        select(NoticeDelivery.status, func.count()).group_by(col(NoticeDelivery.status))
    ).all():
        found.deliveries[status] = count
    retrying = (col(NoticeDelivery.status) == "pending") & (col(NoticeDelivery.attempts) > 0)
    found.retrying = session.exec(select(func.count()).where(retrying)).one()
    found.not_applied = session.exec(
        select(func.count()).where(col(Submission.failed_at).is_not(None))
    ).one()
    mark = session.get(ServiceMark, "sweep")
    if mark is not None:
        found.last_sweep = mark.at if mark.at.tzinfo else mark.at.replace(tzinfo=UTC)
        found.sweep_seconds = mark.seconds
    repair = session.get(ServiceMark, "repair")
    if repair is not None and repair.detail:
        found.stuck = int(repair.detail.get("stuck", 0))
        found.carried_on = int(repair.detail.get("carried_on", 0))
    found.by_channel = _by_channel(session)
    found.sign_in_failures = session.exec(
        select(func.coalesce(func.sum(StaffCredential.failed_attempts), 0))
    ).one()
    found.sign_ins_refused = session.exec(
        select(func.count()).where(
            AuditEntry.action == "staff.sign_in_refused",
            col(AuditEntry.at) >= now - timedelta(hours=24),
        )
    ).one()
    return found


def channel_of(masked: str) -> str:
    """The channel of a (masked) address: its scheme (mailto, slack, notify-email...)."""
    return masked.split("://", 1)[0] if "://" in masked else masked.split(":", 1)[0]


def _by_channel(session: Session) -> dict[tuple[str, str], int]:
    """Deliveries per channel: delivered by the channels that took them (a receipt's addresses);
    waiting and retrying by the channels of the person's addresses."""
    found: dict[tuple[str, str], int] = {}
    for (receipt,) in session.execute(
        select(NoticeDelivery.delivered_to).where(
            NoticeDelivery.status == "delivered", col(NoticeDelivery.delivered_to).is_not(None)
        )
    ).all():
        for channel in {channel_of(a.strip()) for a in (receipt or "").split(",") if a.strip()}:
            found[("delivered", channel)] = found.get(("delivered", channel), 0) + 1
    waiting = (
        select(NoticeDelivery.id, NoticeDelivery.attempts, StaffAddress.url)
        .join(StaffAddress, col(StaffAddress.staff_id) == NoticeDelivery.staff_id)
        .where(col(NoticeDelivery.status).in_(["pending", "sending"]))
    )
    seen: set[tuple[int, str, str]] = set()
    for delivery_id, attempts, url in session.execute(waiting).all():
        status = "retrying" if attempts else "pending"
        key = (delivery_id, status, channel_of(mask_address(url)))
        if key not in seen:
            seen.add(key)
            found[(status, key[2])] = found.get((status, key[2]), 0) + 1
    return found


def exposition(found: Numbers) -> bytes:
    """Return the numbers in Prometheus's text format."""
    registry = CollectorRegistry()

    def gauge(name: str, about: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, about, list(labels), registry=registry)

    cases = gauge("safeguard_open_cases", "Open cases", ("process",))
    for process, count in found.open_cases.items():
        cases.labels(process).set(count)
    overdue = gauge(
        "safeguard_cases_overdue",
        "Open cases whose most urgent step is past its due day, by the escalation rung reached",
        ("process", "rung"),
    )
    for (process, rung), count in found.overdue.items():
        overdue.labels(process, str(rung)).set(count)
    deliveries = gauge("safeguard_notice_deliveries", "Notices to people, by status", ("status",))
    for status, count in found.deliveries.items():
        deliveries.labels(status).set(count)
    gauge("safeguard_deliveries_retrying", "Deliveries pending after a failed attempt").set(found.retrying)  # fmt: skip
    gauge("safeguard_records_not_applied", "Records the flow could not apply").set(found.not_applied)  # fmt: skip
    swept = gauge("safeguard_last_sweep_timestamp_seconds", "When the last sweep ran")
    if found.last_sweep is not None:
        swept.set(found.last_sweep.timestamp())
    took = gauge("safeguard_last_sweep_duration_seconds", "How long the last sweep took")
    if found.sweep_seconds is not None:
        took.set(found.sweep_seconds)
    gauge("safeguard_runs_stuck", "Cases the last repair found not moving (a run dead, crashed or never made)").set(found.stuck)  # fmt: skip
    gauge("safeguard_runs_carried_on", "Of those, the cases the last repair carried on").set(found.carried_on)  # fmt: skip
    channels = gauge("safeguard_notice_deliveries_by_channel", "Notices to people by status and channel (delivered: the channels that took them; pending and retrying: the person's channels)", ("status", "channel"))  # fmt: skip
    for (status, channel), count in found.by_channel.items():
        channels.labels(status, channel).set(count)
    gauge("safeguard_sign_in_failures", "Failed sign-ins in a row, summed over accounts").set(found.sign_in_failures)  # fmt: skip
    gauge("safeguard_sign_ins_refused_24h", "Sign-ins refused in the last 24 hours").set(found.sign_ins_refused)  # fmt: skip
    return generate_latest(registry)

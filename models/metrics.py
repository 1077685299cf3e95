"""What /metrics gives Prometheus (its text format, `prometheus-client`): the state of the record
as numbers, read in a few set-based queries. No names, no references, no narrative: labels are a
process's code, a rung's number, a delivery's status."""

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlmodel import Session, col, func, select

from models.calendar import WorkingCalendar
from models.enums import CaseStatus
from models.policy import Policy
from models.tables import Case, NoticeDelivery, ServiceMark, StaffCredential, Submission
from models.worklist import board


def exposition(session: Session, policy: Policy, calendar: WorkingCalendar, now: datetime) -> bytes:
    """Return the metrics, as of `now`, in Prometheus's text format."""
    registry = CollectorRegistry()
    cases = Gauge("safeguard_open_cases", "Open cases", ["process"], registry=registry)
    for process, count in session.exec(
        select(Case.process, func.count())
        .where(Case.status == CaseStatus.open)
        .group_by(col(Case.process))
    ).all():
        cases.labels(process).set(count)
    overdue = Gauge(
        "safeguard_cases_overdue",
        "Open cases whose most urgent step is past its due day, by the escalation rung reached",
        ["process", "rung"],
        registry=registry,
    )
    counted: dict[tuple[str, str], int] = {}
    for row in board(session=session, policy=policy, calendar=calendar, now=now, rag="red"):
        key = (row.process, str(row.rung))
        counted[key] = counted.get(key, 0) + 1
    for (process, rung), count in counted.items():
        overdue.labels(process, rung).set(count)
    deliveries = Gauge(
        "safeguard_notice_deliveries",
        "Notices to people, by delivery status",
        ["status"],
        registry=registry,
    )
    for status, count in session.exec(
        select(NoticeDelivery.status, func.count()).group_by(col(NoticeDelivery.status))
    ).all():
        deliveries.labels(status).set(count)
    failing = Gauge(
        "safeguard_deliveries_retrying",
        "Deliveries that failed at least once and are still pending",
        registry=registry,
    )
    failing.set(
        session.exec(
            select(func.count()).where(
                NoticeDelivery.status == "pending", col(NoticeDelivery.attempts) > 0
            )
        ).one()
    )
    unapplied = Gauge(
        "safeguard_records_not_applied", "Records the flow could not apply", registry=registry
    )
    unapplied.set(
        session.exec(select(func.count()).where(col(Submission.failed_at).is_not(None))).one()
    )
    swept = Gauge(
        "safeguard_last_sweep_timestamp_seconds", "When the last sweep ran", registry=registry
    )
    mark = session.get(ServiceMark, "sweep")
    if mark is not None:
        swept.set((mark.at if mark.at.tzinfo else mark.at.replace(tzinfo=UTC)).timestamp())
    sign_ins = Gauge(
        "safeguard_sign_in_failures",
        "Failed sign-ins in a row, summed over accounts",
        registry=registry,
    )
    sign_ins.set(session.exec(select(func.coalesce(func.sum(StaffCredential.failed_attempts), 0))).one())  # fmt: skip
    return generate_latest(registry)

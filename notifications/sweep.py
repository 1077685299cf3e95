"""The sweep (DESIGN rules 6 and 7), as at a moment:
1. load the clocks that can be due (notifications/clocks.py);
2. ask `models.escalation.decide` which notices are due;
3. write those not written before (by key), each with its recipients (notifications/writing.py);
4. deliver what is pending (notifications/delivery.py).

`tell_at_once` does the same for one case's notices that must not wait for the next sweep.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from models.calendar import WorkingCalendar
from models.db import in_chunks, session_scope
from models.escalation import Clocks, Kind, decide
from models.health import mark
from models.policy import Policy
from models.tables import Notice
from models.wallclock import Clock, system_clock
from notifications.channels import Sender, send_with_apprise
from notifications.clocks import (
    done_steps,
    failed_records,
    load_clocks,
    new_cases,
    rationale_clocks,
    settled,
)
from notifications.delivery import DeliveryReport, deliver
from notifications.notify import Checked, NotifyChannel, check_statuses
from notifications.writing import Written, existing_keys, load_cases, load_directory, write_notices


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool
    clocks: dict[str, int]
    due: int = 0
    already_written: int = 0
    written: list[Written] = field(default_factory=list)
    settled_escalations: int = 0
    delivery: "DeliveryReport | None" = None
    notify: Checked | None = None  # what GOV.UK Notify said of the messages it took
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "clocks": self.clocks,
            "due": self.due,
            "already_written": self.already_written,
            "written": [w.__dict__ for w in self.written],
            "settled_escalations": self.settled_escalations,
            "delivery": self.delivery.__dict__ if self.delivery else None,
            "notify": self.notify.__dict__ if self.notify else None,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def sweep(
    engine: Engine,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    dry_run: bool = False,
    sender: Sender = send_with_apprise,
    web_url: str | None = None,
    deliver_limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Clock = system_clock,
    notify: NotifyChannel | None = None,
) -> SweepReport:
    """Run one sweep as at `now`: decide, write what is new, then deliver what is pending.

    `now` decides what is due (a sweep may run as at another moment); delivery itself always
    happens at `clock()`, the real time: claims, receipts and retries are real events.
    """
    started = time.perf_counter()
    with session_scope(engine) as session:
        clocks = load_clocks(session, policy, calendar, now)
        loaded = time.perf_counter()
        due = decide(clocks, policy, calendar, now)
        decided = time.perf_counter()
        report = SweepReport(
            at=now,
            dry_run=dry_run,
            clocks={
                "steps": len(clocks.steps),
                "actions": len(clocks.actions),
                "rationales": len(clocks.rationales),
                "acknowledgements": len(clocks.acks),
            },
            due=len(due),
        )
        done = settled(session, [n.matter for n in due if n.kind is Kind.unacknowledged])
        due = [n for n in due if not (n.kind is Kind.unacknowledged and n.matter in done)]
        old = existing_keys(session, [n.key for n in due])
        new = [n for n in due if n.key not in old]
        report.already_written = len(due) - len(new)
        if new:
            report.written = write_notices(
                session,
                new,
                policy=policy,
                calendar=calendar,
                directory=load_directory(session),
                cases=load_cases(session, (n.case_id for n in new)),
                now=now,
                web_url=web_url,
                dry_run=dry_run,
                clock=clock,
            )
        if not dry_run:
            # An escalation whose matter is resolved, or that has gone up a rung, waits no longer.
            finished = [n.clock.partition(":")[2] for n in due if n.kind is Kind.unacknowledged]
            stale = [a.notice_id for a in clocks.acks if a.matter in done]
            ids = [int(i) for i in finished] + stale
            for chunk in in_chunks(ids):
                session.execute(
                    sa.update(Notice).where(col(Notice.id).in_(chunk)).values(ack_due_at=None)
                )
            report.settled_escalations = len(stale)
        if dry_run:
            session.rollback()
    written = time.perf_counter()
    report.seconds = {
        "load": loaded - started,
        "decide": decided - loaded,
        "write": written - decided,
    }
    if not dry_run:
        if notify is not None:  # what became of what Notify took: a failure is sent again
            report.notify = check_statuses(engine, clock=clock, notify=notify)
        report.delivery = deliver(
            engine,
            clock=clock,
            sender=sender,
            limit=deliver_limit,
            progress=progress,
            notify=notify,
        )
        report.seconds["deliver"] = time.perf_counter() - written
        with session_scope(engine) as session:  # for /health: when the service last swept
            mark(session, "sweep", clock(), seconds=time.perf_counter() - started)
    return report


def tell_at_once(
    engine: Engine,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    case_id: int,
    now: datetime,
    sender: Sender = send_with_apprise,
    web_url: str | None = None,
    clock: Clock = system_clock,
    notify: NotifyChannel | None = None,
) -> list[Written]:
    """Write and deliver, now, what one case's people must hear at once: a decision recorded without
    its rationale (DESIGN rule 9), a record the flow could not apply. The next sweep would catch
    them; this does not wait for it. Idempotent: a notice written before is not written again."""
    with session_scope(engine) as session:
        clocks = Clocks(
            rationales=rationale_clocks(session, now, case_id),
            failures=failed_records(session, now, case_id),
            done=done_steps(session, policy, now, case_id),
            started=new_cases(session, policy, now, case_id),
        )
        at_once = (
            Kind.rationale_missing,
            Kind.submission_failed,
            Kind.recorded_late,
            Kind.information,
        )
        due = [n for n in decide(clocks, policy, calendar, now) if n.kind in at_once]
        old = existing_keys(session, [n.key for n in due])
        new = [n for n in due if n.key not in old]
        if not new:
            return []
        written = write_notices(
            session,
            new,
            policy=policy,
            calendar=calendar,
            directory=load_directory(session),
            cases=load_cases(session, [case_id]),
            now=now,
            web_url=web_url,
            clock=clock,
        )
    deliver(
        engine,
        clock=clock,
        sender=sender,
        notice_ids=[w.notice_id for w in written if w.notice_id],
        notify=notify,
    )
    return written

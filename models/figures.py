"""A process's own report (its declaration's `figures`): the record it reads over a period, read in a
few set-based queries, and the figures it returns. `safeguard report COMMAND` and the managers'
page show what this returns and decide nothing themselves."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import median
from typing import Any

from sqlmodel import Session, col, select

from models import registry
from models.calendar import WorkingCalendar
from models.cases import details_of
from models.enums import CaseStatus, Role, StepStatus
from models.errors import InputError
from models.escalation import Kind
from models.policy import Policy
from models.process import (
    CaseFacts,
    Figure,
    Listing,
    Measure,
    NoticeFigures,
    ProcessDecl,
    StepFacts,
)
from models.reports import timeliness
from models.tables import Action, Case, CaseEvent, Decision, Notice, NoticeDelivery, StaffRole, Step
from models.workbook import Sheet


def reporting(name: str) -> ProcessDecl[Any]:
    """Return the process whose report is called `name` (its command word, or its code), or raise
    InputError listing those there are."""
    found = [d for d in registry.processes() if d.figures and name in (d.report_name, d.code)]
    if found:
        return found[0]
    known = ", ".join(d.report_name for d in registry.processes() if d.figures) or "none"
    raise InputError(f"{name!r} is not a report; reports of a process's own figures: {known}")


@dataclass(frozen=True)
class Figures:
    process: str
    title: str
    start: date
    end: date
    figures: list[Figure]
    listing: Listing | None = None  # the rows behind them, as a return names its columns

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "title": self.title,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "figures": [f.as_dict() for f in self.figures],
            "listing": self.listing.as_dict() if self.listing else None,
        }

    def sheets(self) -> list[Sheet]:
        """As a spreadsheet's sheets: the figures, and the rows behind them where there are any."""
        rows = [[f.section, f.label, f.value] for f in self.figures]
        found = [Sheet("Figures", ["section", "figure", "value"], rows)]
        if self.listing is not None:
            found.append(Sheet(self.listing.title, self.listing.columns, self.listing.rows))
        return found


def figures(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    name: str,
    start: date,
    end: date,
    now: datetime,
) -> Figures:
    """Return the figures of the process whose report is `name`, over `start` to `end`."""
    decl = reporting(name)
    assert decl.figures is not None
    record = _Record(session, policy, calendar, decl.code, start, end, now)
    title = decl.figures_title or policy.process(decl.code).title
    listing = decl.listing(record) if decl.listing else None
    return Figures(decl.code, title, start, end, decl.figures(record), listing)


class _Record:
    """The FiguresContext the engine hands a process's `figures` (models/process.py)."""

    def __init__(
        self,
        session: Session,
        policy: Policy,
        calendar: WorkingCalendar,
        process: str,
        start: date,
        end: date,
        now: datetime,
    ) -> None:
        self.session, self.policy, self.calendar, self.process = session, policy, calendar, process
        self.start, self.end, self.now = start, end, now
        self.today = calendar.local_date(now)

    def working_days(self, first: date, last: date) -> int:
        return self.calendar.working_days_between(first, last)

    def cases(self) -> Sequence[CaseFacts]:
        day = self.calendar.local_date
        found = [
            case
            for case in self.session.exec(
                select(Case).where(Case.process == self.process).order_by(col(Case.id))
            ).all()
            if self.start <= day(case.opened_at) <= self.end
            or (case.status is CaseStatus.open and day(case.opened_at) < self.start)
        ]
        ids = [c.id for c in found]
        steps: dict[int, list[StepFacts]] = defaultdict(list)
        for step in self.session.exec(
            select(Step).where(col(Step.case_id).in_(ids)).order_by(col(Step.id))
        ).all():
            closed = day(step.closed_at) if step.closed_at else None
            steps[step.case_id].append(
                StepFacts(
                    step.name,
                    step.sequence,
                    step.status.value,
                    day(step.opened_at),
                    step.due_on,
                    closed,
                    None
                    if closed is None or step.status is not StepStatus.closed
                    else closed > step.due_on,
                )
            )
        decisions: dict[int, list[tuple[str, str, date]]] = defaultdict(list)
        for d in self.session.exec(
            select(Decision).where(col(Decision.case_id).in_(ids)).order_by(col(Decision.id))
        ).all():
            decisions[d.case_id].append((d.kind, d.value, day(d.decided_at)))
        events: dict[int, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
        for e in self.session.exec(
            select(CaseEvent)
            .where(col(CaseEvent.case_id).in_(ids))
            .order_by(col(CaseEvent.at), col(CaseEvent.sequence))
        ).all():
            events[e.case_id][e.name].append(day(e.at))
        actions: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for a in self.session.exec(
            select(Action).where(col(Action.case_id).in_(ids)).order_by(col(Action.id))
        ).all():
            actions[a.case_id].append((a.title, a.status.value))
        return [
            CaseFacts(
                case.reference,
                day(case.opened_at),
                day(case.closed_at) if case.closed_at else None,
                details_of(case),
                steps[case.id or 0],
                decisions[case.id or 0],
                dict(events[case.id or 0]),
                actions[case.id or 0],
            )
            for case in found
        ]

    def measures_of(self, process: str) -> Sequence[Measure]:
        return timeliness(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            process=process,
            start=self.start,
            end=self.end,
            now=self.now,
        ).measures

    def notices_to(self, role: Role) -> NoticeFigures:
        asking = [k.value for k in Kind if k.needs_acknowledgement]
        holders = select(StaffRole.staff_id).where(StaffRole.role == role)
        day = self.calendar.local_date
        received = acknowledged = 0
        took: list[int] = []
        for notice, delivery in self.session.exec(
            select(Notice, NoticeDelivery)
            .join(NoticeDelivery, col(NoticeDelivery.notice_id) == Notice.id)
            .where(
                col(Notice.kind).in_(asking),
                col(NoticeDelivery.staff_id).in_(holders),
                col(NoticeDelivery.delivered_at).is_not(None),
            )
        ).all():
            sent = delivery.delivered_at or notice.created_at
            if not self.start <= day(sent) <= self.end:
                continue
            received += 1
            if delivery.acknowledged_at is not None:
                acknowledged += 1
                took.append(self.working_days(day(sent), day(delivery.acknowledged_at)))
        return NoticeFigures(received, acknowledged, median(took) if took else None)

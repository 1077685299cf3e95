"""Reports across cases: how each step of a process stood against its timescale.

`timeliness` counts, per step, the steps closed in a period (by the day they were done): in time,
in time with an extension, in time with the clock stopped, late, and their median working days;
and the steps still open (overdue or not). A process adds its own measures through its
declaration's `measures` (e.g. a disruption: the endings where the IRO was told in time and a
meeting was held or its absence justified). Reads only our tables; no names, no narrative.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import registry
from models.calendar import WorkingCalendar, add_months
from models.cases.record import details_of
from models.durations import CalendarMonths, Duration
from models.enums import StepStatus
from models.policy import Policy
from models.process import Measure, RecordNotes
from models.tables import Case, ClockStop, Decision, Extension, Rationale, Step
from models.views import timeliness as step_timeliness

CLOSED = ("in time", "in time with extension", "in time (clock stopped)", "late")


@dataclass
class StepRow:
    step: str
    title: str
    counts: Counter[str] = field(default_factory=Counter)
    working_days: list[int] = field(default_factory=list)
    late_explained: int = 0  # done late, with the reason recorded (DESIGN rule 9)

    def as_dict(self) -> dict[str, Any]:
        done = sum(self.counts[c] for c in CLOSED)
        return {
            "step": self.step,
            "title": self.title,
            "done": done,
            **{c: self.counts[c] for c in CLOSED},
            "late_with_reason": self.late_explained,
            "open": self.counts["open"],
            "overdue": self.counts["overdue"] + self.counts["stopped"],
            "in_time_share": round((done - self.counts["late"]) / done, 3) if done else None,
            "median_working_days": statistics.median(self.working_days)
            if self.working_days
            else None,
        }


@dataclass
class Report:
    process: str
    start: date
    end: date
    steps: list[StepRow]
    measures: list[Measure]
    cases: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "cases": self.cases,
            "steps": [r.as_dict() for r in self.steps],
            "measures": [m.as_dict() for m in self.measures],
        }


def reporting_year(day: date) -> tuple[date, date]:
    """The reporting year a day falls in: 1 April to 31 March (the annual reports' and the
    children looked after return's year)."""
    first = day.year if day.month >= 4 else day.year - 1
    return date(first, 4, 1), date(first + 1, 3, 31)


def period(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """A report's first and last days: as given, and what is not given from the reporting year
    (1 April to 31 March) of the day that is, or of today."""
    year = reporting_year(start or end or today)
    return start or year[0], end or year[1]


def retention(
    *, session: Session, policy: Policy, today: date, due_only: bool = False
) -> list[dict[str, Any]]:
    """Closed cases with a retention date: when each is kept until, when it comes up for review
    (the process's `review_within` before), whether that is now, and what the case says may be
    said of it (its process's `record_notes`: in references or not; removed from the file)."""
    rows = []
    for case in session.exec(
        select(Case).where(col(Case.retain_until).is_not(None)).order_by(col(Case.retain_until))
    ):
        rule = policy.processes[case.process].retention if case.process in policy.processes else None  # fmt: skip
        notes = _notes(case)
        assert case.retain_until is not None
        review_from = (
            _back(case.retain_until, rule.review_within) if rule is not None else case.retain_until
        )
        due = review_from <= today
        if due_only and not due:
            continue
        rows.append(
            {
                "reference": case.reference,
                "process": case.process,
                "closed_on": case.closed_at.date().isoformat() if case.closed_at else None,
                "retain_until": case.retain_until.isoformat(),
                "review_from": review_from.isoformat(),
                "due_for_review": due,
                "in_references": notes.in_references,
                "remove_from_file": notes.remove_from_file,
            }
        )
    return rows


def _notes(case: Case) -> RecordNotes:
    """What the case's process says may be said of its record (nothing, if it says nothing)."""
    decl = registry.get(case.process)
    return decl.record_notes(details_of(case)) if decl.record_notes else RecordNotes()


def _back(day: date, span: Duration) -> date:
    """Return `day` less a span given in calendar months or days (working days count as days)."""
    if isinstance(span, CalendarMonths):
        return add_months(day, -span.n)
    return day - timedelta(days=span.n)


def timeliness(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    process: str,
    start: date,
    end: date,
    now: datetime,
) -> Report:
    """Return the process's timeliness for steps done from `start` to `end` (local days, inclusive),
    and the steps still open now. A repeating step counts each time it is done."""
    decl = registry.get(process)
    rules = policy.process(process)
    today = calendar.local_date(now)
    # A person's own window (e.g. the complainant's to ask for a review panel) is not the
    # authority's timeliness: it is left out.
    windows = {name for name, rule in rules.steps.items() if rule.window or rule.unscheduled}
    rows = {
        name: StepRow(name, rule.title) for name, rule in rules.steps.items() if name not in windows
    }
    found = session.exec(
        select(Step, Case.id)
        .join(Case, col(Case.id) == Step.case_id)
        .where(Case.process == process)
        .order_by(col(Step.case_id), col(Step.id))
    ).all()
    step_ids = [s.id for s, _ in found]
    extensions: dict[int, list[Extension]] = defaultdict(list)
    for e in session.exec(select(Extension).where(col(Extension.step_id).in_(step_ids))).all():
        extensions[e.step_id].append(e)
    stops: dict[int, list[ClockStop]] = defaultdict(list)
    for c in session.exec(select(ClockStop).where(col(ClockStop.step_id).in_(step_ids))).all():
        stops[c.step_id].append(c)
    explained = set(
        session.exec(
            select(Decision.step_id)
            .join(Rationale, col(Rationale.decision_id) == Decision.id)
            .where(Decision.kind == "late", col(Decision.step_id).in_(step_ids))
        ).all()
    )
    per_case: dict[int, dict[str, str]] = defaultdict(dict)
    # Steps with targets (an allegation's outcome: 1, 3, 12 months from the referral, L10): for
    # each done in the period, the first target it met (None: beyond them all).
    within: dict[str, list[int | None]] = defaultdict(list)
    for step, found_id in found:
        if step.name in windows or step.status is StepStatus.ended:  # not the authority's timing
            continue
        case_id = found_id or 0
        how = step_timeliness(step, extensions[step.id or 0], stops[step.id or 0], calendar, today)
        row = rows.setdefault(step.name, StepRow(step.name, step.name))
        if step.closed_at is None:
            row.counts[how] += 1
            per_case[case_id][step.name] = how
            continue
        done_on = calendar.local_date(step.closed_at)
        if not start <= done_on <= end:
            continue
        row.counts[how] += 1
        if how == "late" and step.id in explained:
            row.late_explained += 1
        opened_on = calendar.local_date(step.opened_at)
        row.working_days.append(calendar.working_days_between(opened_on, max(done_on, opened_on)))
        per_case[case_id][step.name] = how
        rule = rules.steps.get(step.name)
        if rule is not None and rule.targets:
            closed_at = step.closed_at
            within[step.name].append(
                next(
                    (
                        n
                        for n, target in enumerate(rule.targets)
                        if closed_at < calendar.due(step.opened_at, target).deadline
                    ),
                    None,
                )
            )
    cases = len({case_id for _, case_id in found})
    measures = [
        Measure(
            f"{rules.step(name).title}: within {target}",
            sum(1 for met in done if met is not None and met <= n),
            len(done),
        )
        for name, done in within.items()
        for n, target in enumerate(rules.step(name).targets)
    ]
    measures += decl.measures(list(per_case.values())) if decl.measures else []
    return Report(
        process,
        start,
        end,
        [r for r in rows.values() if sum(r.counts.values())],
        measures,
        cases,
    )

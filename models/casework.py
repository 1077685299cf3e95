"""One unit of work (DESIGN rules 3 and 10; cosmicpython's): a session on our record, the policy in
force, its working-day calendar and the one clock, carried together, so the CLI, the web and the
flow's tasks do casework the same way instead of each wiring them up afresh.

    with casework(settings) as cx:       # safeguard/wiring.py (unit_of_work(engine, rules) here)
        recorded = cx.submit("ALG-2026-0001", "initial_consideration", "lado-1", payload)

Its methods are the service layer: each checks and writes through models/ in the unit's one
transaction, committed when the block ends and rolled back (nothing changed) when anything in it
is refused. A refusal names the field it is about, never a command-line option or a form's id:
each interface says it in its own words.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import cases, departures, figures, followup, reports, steps, views, worklist
from models.calendar import WorkingCalendar
from models.db import session_scope
from models.policy import Policy
from models.steps import Progress, Recorded
from models.tables import Action, Case, ClockStop, Extension, Rationale, Step
from models.wallclock import Clock, system_clock


@dataclass(frozen=True)
class Rules:
    """What every piece of casework is done under: the policy in force, its working-day calendar,
    and the one clock (DESIGN rule 10: tests and `--at` run it as at another moment)."""

    policy: Policy
    calendar: WorkingCalendar
    clock: Clock = system_clock


@contextmanager
def unit_of_work(engine: Engine, rules: Rules) -> Iterator["Casework"]:
    """Yield a unit of work on the record `engine` holds: committed at the end, or rolled back
    (nothing changed) if anything in it raises."""
    with session_scope(engine) as session:
        yield Casework(session, rules.policy, rules.calendar, rules.clock)


@dataclass
class Casework:
    """A session on our record, with the rules it is done under."""

    session: Session
    policy: Policy
    calendar: WorkingCalendar
    clock: Clock

    def now(self) -> datetime:
        """Return the moment, by the one clock."""
        return self.clock()

    def today(self) -> date:
        """Return the local day (the calendar's zone) it is now."""
        return self.calendar.local_date(self.clock())

    # --- cases ---------------------------------------------------------------------------------

    def start(self, process: str, author: str, payload: Any) -> Case:
        """Check and store a new case of `process` (no flow run yet: the caller's orchestration)."""
        return cases.start_case(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            process=process,
            author_id=author,
            payload=payload,
            now=self.now(),
        )

    def case(self, reference: str) -> Case:
        """Return a case by its reference, or raise InputError."""
        return cases.get_case(self.session, reference)

    def view(self, reference: str) -> dict[str, Any]:
        """Return the case's timeline (`case show`, the case page)."""
        return views.case_view(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            now=self.now(),
        )

    def record_event(
        self, reference: str, name: str, on: date, author: str
    ) -> list[tuple[str, date]]:
        """Record an event of the case as it comes (e.g. the carer's resignation)."""
        return cases.record_case_event(
            session=self.session,
            calendar=self.calendar,
            reference=reference,
            name=name,
            on=on,
            author_id=author,
            now=self.now(),
        )

    def close(self, case_id: int) -> None:
        """Close the case (idempotent), with the day its record is kept until."""
        cases.close_case(
            session=self.session,
            case_id=case_id,
            now=self.now(),
            policy=self.policy,
            calendar=self.calendar,
        )

    # --- steps ---------------------------------------------------------------------------------

    def submit(
        self,
        reference: str,
        step: str,
        author: str,
        payload: Any,
        *,
        at: datetime | None = None,
        key: str | None = None,
        late_reason: str | None = None,
    ) -> Recorded:
        """Check and store what a person recorded for an open step (DESIGN rule 3); return the
        submission with its step and case."""
        return steps.submit(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            step_name=step,
            author_id=author,
            payload=payload,
            at=at,
            key=key,
            now=self.now(),
            late_reason=late_reason,
        )

    def advance(self, case_id: int, names: Sequence[str], sequence: int, key: str) -> Progress:
        """Open the steps (once), apply each that is recorded (once); say what is still awaited."""
        return steps.advance(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            case_id=case_id,
            names=names,
            sequence=sequence,
            key=key,
            now=self.now(),
        )

    def open_alongside(self, case_id: int, names: Sequence[str]) -> list[Step]:
        """Open steps that run alongside the flow (applied whenever recorded)."""
        return steps.open_alongside(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            case_id=case_id,
            names=names,
            now=self.now(),
        )

    # --- follow-up ------------------------------------------------------------------------------

    def update_action(
        self,
        action_id: int,
        status: str,
        author: str,
        *,
        reason: str | None = None,
        new_due: date | None = None,
        to_case: str | None = None,
    ) -> Action:
        """Change an action between meetings (its owner, their managers or the overseer);
        transferred, it carries on in `to_case`."""
        return followup.update_action(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            action_id=action_id,
            status=status,
            reason=reason,
            new_due=new_due,
            author_id=author,
            now=self.now(),
            to_case=to_case,
        )

    def add_rationale(self, decision_id: int, text: str, author: str) -> Rationale:
        """Add the reasons for a decision (append-only)."""
        return followup.add_rationale(
            session=self.session,
            decision_id=decision_id,
            text=text,
            author_id=author,
            now=self.now(),
        )

    # --- departures from a step's timescale (DESIGN rule 9) ---------------------------------------

    def stop_clock(
        self,
        reference: str,
        step: str,
        *,
        reason: str,
        approver: str,
        recorded_by: str,
        at: datetime | None = None,
    ) -> ClockStop:
        """Stop a step's clock from `at` (default now), with its reason and approver."""
        return departures.stop(
            self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            step_name=step,
            reason=reason,
            approver_id=approver,
            recorded_by=recorded_by,
            now=at or self.now(),
            recorded_at=self.now(),
        )

    def resume_clock(
        self, reference: str, step: str, *, recorded_by: str, at: datetime | None = None
    ) -> ClockStop:
        """Restart a stopped clock from `at` (default now)."""
        return departures.resume(
            self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            step_name=step,
            recorded_by=recorded_by,
            now=at or self.now(),
            recorded_at=self.now(),
        )

    def extend_clock(
        self,
        reference: str,
        step: str,
        *,
        to: str,
        reason: str,
        approver: str,
        recorded_by: str,
        told_on: date | None = None,
        at: datetime | None = None,
    ) -> Extension:
        """Extend a step's timescale as at `at` (default now), up to the policy's legal maximum."""
        return departures.extend(
            self.session,
            policy=self.policy,
            calendar=self.calendar,
            reference=reference,
            step_name=step,
            to=to,
            reason=reason,
            approver_id=approver,
            recorded_by=recorded_by,
            now=at or self.now(),
            recorded_at=self.now(),
            told_on=told_on,
        )

    # --- what people read ---------------------------------------------------------------------

    def board(self, **filters: str | None) -> list[worklist.Row]:
        """Every open case, worst first (filters: process, person, team, rag)."""
        return worklist.board(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            now=self.now(),
            **filters,
        )

    def my_steps(self, staff_id: str) -> list[worklist.Row]:
        """The open steps a person may record."""
        return worklist.my_steps(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            now=self.now(),
            staff_id=staff_id,
        )

    def my_actions(self, staff_id: str) -> list[dict[str, Any]]:
        """The open actions a person owns."""
        return worklist.my_actions(
            session=self.session, calendar=self.calendar, now=self.now(), staff_id=staff_id
        )

    def status_rows(self, process: str | None = None) -> list[dict[str, Any]]:
        """One row per open case: where it is and when that is due."""
        return views.status_rows(
            session=self.session, calendar=self.calendar, now=self.now(), process=process
        )

    def timeliness(self, process: str, start: date, end: date) -> reports.Report:
        """How each step of the process was done from `start` to `end`, and what is open now."""
        return reports.timeliness(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            process=process,
            start=start,
            end=end,
            now=self.now(),
        )

    def figures(self, name: str, start: date, end: date) -> figures.Figures:
        """A process's own report (its declaration's `figures`) from `start` to `end`."""
        return figures.figures(
            session=self.session,
            policy=self.policy,
            calendar=self.calendar,
            name=name,
            start=start,
            end=end,
            now=self.now(),
        )

    def retention(self, due_only: bool = False) -> list[dict[str, Any]]:
        """Closed cases' records: kept until when, due for review from when."""
        return reports.retention(
            session=self.session, policy=self.policy, today=self.today(), due_only=due_only
        )

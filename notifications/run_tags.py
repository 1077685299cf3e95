"""What a manager filters case runs by in the Prefect UI (issue 20, item 13): each open case's flow
run carries, beside its process and reference, `late` (a step past its due day and not stopped, or
an action overdue), `rung-N` (the highest escalation rung its unresolved clocks have reached) and
`clock-stopped` (a step's clock stands still). The sweep works them out from the record and puts
them on the runs whose tags differ (safeguard/orchestration.py `retag`, which leaves a run's other
tags as they are).
"""

from datetime import datetime

from sqlmodel import Session, col, select

from models.calendar import WorkingCalendar
from models.db import in_chunks
from models.enums import ActionStatus, CaseStatus, StepStatus
from models.escalation import Kind
from models.policy import Policy
from models.tables import Action, Case, Notice, Step
from notifications.clocks import settled

LADDERS = (Kind.lapsed.value, Kind.action_overdue.value, Kind.rationale_lapsed.value)


def case_tags(
    session: Session, policy: Policy, calendar: WorkingCalendar, now: datetime
) -> dict[str, list[str]]:
    """Return, for each open case with a flow run (by the run's id), the tags the sweep keeps."""
    runs = dict(
        session.exec(
            select(Case.id, Case.flow_run_id).where(
                Case.status == CaseStatus.open, col(Case.flow_run_id).is_not(None)
            )
        ).all()
    )
    if not runs:
        return {}
    late: set[int] = set()
    stopped: set[int] = set()
    rung: dict[int, int] = {}
    today = calendar.local_date(now)
    for chunk in in_chunks(sorted(c for c in runs if c is not None)):
        for step, process in session.exec(
            select(Step, Case.process)
            .join(Case, col(Case.id) == Step.case_id)
            .where(col(Step.case_id).in_(chunk))
            .where(col(Step.status).in_([StepStatus.open, StepStatus.stopped]))
        ).all():
            if step.status is StepStatus.stopped:
                stopped.add(step.case_id)
            elif step.deadline_at <= now and _a_deadline(policy, process, step.name):
                late.add(step.case_id)
        late.update(
            session.exec(
                select(Action.case_id).where(
                    col(Action.case_id).in_(chunk),
                    Action.status == ActionStatus.open,
                    col(Action.due_on) < today,
                )
            ).all()
        )
        climbed = session.exec(
            select(Notice.case_id, Notice.matter, Notice.rung).where(
                col(Notice.case_id).in_(chunk), col(Notice.kind).in_(LADDERS)
            )
        ).all()
        resolved = settled(session, (m for _, m, _ in climbed))
        for case_id, matter, number in climbed:
            if matter not in resolved and case_id is not None:
                rung[case_id] = max(rung.get(case_id, 0), number)
    return {
        str(run_id): _tags(case_id in late, rung.get(case_id or 0, 0), case_id in stopped)
        for case_id, run_id in runs.items()
    }


def _a_deadline(policy: Policy, process: str, step: str) -> bool:
    """A staff deadline (not a person's own window, nor a step measured only or recorded only if
    it happens): late when it passes."""
    rule = policy.processes.get(process)
    found = rule.steps.get(step) if rule else None
    return found is not None and not (found.window or found.unscheduled or found.measured_only)


def _tags(late: bool, rung: int, stopped: bool) -> list[str]:
    return [*(["late"] if late else []), *([f"rung-{rung}"] if rung else []), *(["clock-stopped"] if stopped else [])]  # fmt: skip

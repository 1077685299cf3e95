"""Read views of cases: one case's timeline, each step's timeliness, and one row per open case.

The engine's view is the same for every process; a process adds the lines only it knows through
its declaration's `view` and `headline` hooks (e.g. an allegation's referral and time to outcome).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from models import registry, restriction
from models.accounts import needs_reason
from models.calendar import WorkingCalendar
from models.cases import details_of, get_case, links_of
from models.enums import ActionStatus, CaseStatus, StepStatus
from models.flags import flags_for
from models.policy import Policy
from models.process import ViewFacts
from models.staff import roles_of
from models.steps.queries import open_steps_of
from models.tables import (
    Action,
    ActionUpdate,
    Case,
    CaseChild,
    CaseEvent,
    CaseParty,
    ClockStop,
    Decision,
    Extension,
    Rationale,
    Step,
    Submission,
)


def case_view(
    *, session: Session, policy: Policy, calendar: WorkingCalendar, reference: str, now: datetime
) -> dict[str, Any]:
    """Return the case's timeline: steps, decisions with rationale, actions and their history,
    with the lines its process adds (the declaration's `view`) and its `headline`."""
    case = get_case(session, reference)
    decl = registry.get(case.process)
    today = calendar.local_date(now)
    rules = policy.process(case.process).steps
    unscheduled = {name for name, rule in rules.items() if rule.unscheduled}
    steps = list(
        session.exec(
            select(Step).where(Step.case_id == case.id).order_by(col(Step.opened_at), col(Step.id))
        )
    )
    decisions = list(
        session.exec(select(Decision).where(Decision.case_id == case.id).order_by(col(Decision.id)))
    )
    rationales: dict[int, list[Rationale]] = {}
    for r in session.exec(
        select(Rationale)
        .where(col(Rationale.decision_id).in_([d.id for d in decisions]))
        .order_by(col(Rationale.id))
    ):
        rationales.setdefault(r.decision_id, []).append(r)
    actions = list(
        session.exec(select(Action).where(Action.case_id == case.id).order_by(col(Action.id)))
    )
    updates: dict[int, list[ActionUpdate]] = {}
    for u in session.exec(
        select(ActionUpdate)
        .where(col(ActionUpdate.action_id).in_([a.id for a in actions]))
        .order_by(col(ActionUpdate.id))
    ):
        updates.setdefault(u.action_id, []).append(u)
    children = list(session.exec(select(CaseChild).where(CaseChild.case_id == case.id)))
    parties = list(
        session.exec(
            select(CaseParty).where(CaseParty.case_id == case.id).order_by(col(CaseParty.id))
        )
    )
    extended: dict[int, list[Extension]] = {}
    for e in session.exec(
        select(Extension).where(Extension.case_id == case.id).order_by(col(Extension.id))
    ):
        extended.setdefault(e.step_id, []).append(e)
    stopped: dict[int, list[ClockStop]] = {}
    for c in session.exec(
        select(ClockStop).where(ClockStop.case_id == case.id).order_by(col(ClockStop.id))
    ):
        stopped.setdefault(c.step_id, []).append(c)
    failed = session.exec(
        select(Submission)
        .where(Submission.case_id == case.id, col(Submission.failed_at).is_not(None))
        .order_by(col(Submission.id))
    ).all()
    done_by = dict(
        session.exec(
            select(Submission.step_id, Submission.author_id).where(
                Submission.case_id == case.id, col(Submission.applied_at).is_not(None)
            )
        ).all()
    )
    events = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.at))
    ).all()
    view: dict[str, Any] = {
        "reference": case.reference,
        "process": case.process,
        "status": case.status.value,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "retain_until": case.retain_until.isoformat() if case.retain_until else None,
        "lead": case.lead_id,
        "opened_by": case.opened_by,
        "flow_run_id": case.flow_run_id,
        "parties": [{"role": p.role.value, "staff": p.staff_id} for p in parties],
        "links": _held_for(session, policy, case, links_of(session, case.id or 0)),
        "flags": flags_for(session, [case.id or 0])[case.id or 0],
        "restricted": case.restricted,
        "restrictions": [d.as_dict() for d in restriction.decisions(session, case.id or 0)],
        "not_applied": [
            {
                "submission": f.id,
                "step": f.kind,
                "by": f.author_id,
                "failed_at": f.failed_at.isoformat() if f.failed_at else None,
                "reason": f.failure,
            }
            for f in failed
        ],
        "children": [
            {
                "child": c.child_ref,
                "iro": c.iro_id,
                "social_worker": c.social_worker_id,
                "placed_by": c.placed_by,
                "contact": c.contact,
            }
            for c in children
        ],
        "steps": [
            _step_view(
                s,
                calendar,
                today,
                extended.get(s.id or 0, []),
                stopped.get(s.id or 0, []),
                unscheduled=s.name in unscheduled,
                by=done_by.get(s.id),
            )
            for s in steps
        ],
        "events": [
            {"event": e.name, "sequence": e.sequence, "at": e.at.isoformat()} for e in events
        ],
        "decisions": [
            {
                "id": d.id,
                "kind": d.kind,
                "value": d.value,
                "author": d.author_id,
                "role": d.author_role.value,
                "decided_at": d.decided_at.isoformat(),
                "rationale": [
                    {
                        "text": r.text,
                        "author": r.author_id,
                        "recorded_at": r.recorded_at.isoformat(),
                    }
                    for r in rationales.get(d.id or 0, [])
                ],
                "rationale_due": None
                if rationales.get(d.id or 0) or d.rationale_due_at is None
                else d.rationale_due_at.isoformat(),
                "rationale_due_day": None
                if rationales.get(d.id or 0) or d.rationale_due_at is None
                else calendar.day_ending_at(d.rationale_due_at).isoformat(),
            }
            for d in decisions
        ],
        "actions": [
            {
                "id": a.id,
                "title": a.title,
                "owner": a.owner_id,
                "due": a.due_on.isoformat(),
                "status": a.status.value,
                "overdue": a.status is ActionStatus.open and a.due_on < today,
                "history": [
                    {
                        "status": u.status.value,
                        "reason": u.reason,
                        "new_due": u.new_due_on.isoformat() if u.new_due_on else None,
                        "by": u.author_id,
                        "at": u.recorded_at.isoformat(),
                    }
                    for u in updates.get(a.id or 0, [])
                ],
            }
            for a in actions
        ],
    }
    if decl.view is not None:
        view.update(
            decl.view(
                ViewFacts(
                    details=details_of(case),
                    view=view,
                    policy=policy.process(case.process),
                    calendar=calendar,
                    now=now,
                )
            )
        )
    view["headline"] = decl.headline(view) if decl.headline else f"lead {case.lead_id}"
    return view


def timeliness(
    step: Step,
    extensions: Sequence[Extension],
    stops: Sequence[ClockStop],
    calendar: WorkingCalendar,
    today: date,
) -> str:
    """Return how a step stands against its timescale, for reports.

    Closed: "in time" (by its first due day), "in time with extension" or "in time (clock stopped)"
    (by the due day an extension or a stop moved it to), or "late". Not closed: "open", "stopped"
    or "overdue". A person's own window that closed unused: "window closed".

    An extension counts only if it was decided by the due day it moved: one recorded after that
    day had passed (before the service refused them) leaves the step late from that day.
    """
    if step.status is StepStatus.lapsed:
        return "window closed"
    if step.status is StepStatus.ended:
        return "not needed: the case ended"
    original = min(
        [e.due_on_before for e in extensions] + [s.due_on_before for s in stops],
        default=step.due_on,
    )
    in_time = [e for e in extensions if calendar.local_date(e.recorded_at) <= e.due_on_before]
    too_late = [e.due_on_before for e in extensions if e not in in_time]
    due_on = min(too_late) if too_late else step.due_on
    if step.closed_at is None:
        if step.status is StepStatus.stopped:
            return "stopped"
        return "overdue" if today > due_on else "open"
    closed_day = calendar.local_date(step.closed_at)
    if closed_day <= original:
        return "in time"
    if closed_day <= due_on:
        return "in time with extension" if in_time else "in time (clock stopped)"
    return "late"


def _step_view(
    step: Step,
    calendar: WorkingCalendar,
    today: date,
    extensions: Sequence[Extension] = (),
    stops: Sequence[ClockStop] = (),
    unscheduled: bool = False,
    by: str | None = None,
) -> dict[str, Any]:
    if unscheduled:  # recorded if it happens: no due day, never late
        return {
            **_step_view(step, calendar, today, by=by),
            "due": None,
            "late": False,
            "working_days_left": None,
            "timeliness": "recorded" if step.status is StepStatus.closed else step.status.value,
        }
    late = (step.closed_at >= step.deadline_at) if step.closed_at else (today > step.due_on)
    left = (
        calendar.working_days_between(today, step.due_on)
        if step.status is StepStatus.open
        else None
    )
    return {
        "step": step.name,
        "sequence": step.sequence,
        "status": step.status.value,
        "owner": step.owner_id,
        "opened": step.opened_at.isoformat(),
        "due": step.due_on.isoformat(),
        "closed": step.closed_at.isoformat() if step.closed_at else None,
        "by": by,  # who recorded it (None: nobody; it closed by itself)
        "late": late,
        "timeliness": timeliness(step, extensions, stops, calendar, today),
        "extensions": [
            {
                "to": e.extended_to,
                "from_due": e.due_on_before.isoformat(),
                "to_due": e.due_on_after.isoformat(),
                "reason": e.reason,
                "approver": e.approver_id,
                "recorded_by": e.recorded_by,
                "recorded_at": e.recorded_at.isoformat(),
            }
            for e in extensions
        ],
        "stops": [
            {
                "stopped_at": c.stopped_at.isoformat(),
                "reason": c.reason,
                "approver": c.approver_id,
                "recorded_by": c.recorded_by,
                "resumed_at": c.resumed_at.isoformat() if c.resumed_at else None,
                "resumed_by": c.resumed_by,
                "working_days_stopped": c.working_days_stopped,
            }
            for c in stops
        ],
        "working_days_left": left,
    }


def status_rows(
    *, session: Session, calendar: WorkingCalendar, now: datetime, process: str | None = None
) -> list[dict[str, Any]]:
    """Return one row per open case: where it is, when that is due, what is overdue or missing."""
    today = calendar.local_date(now)
    query = select(Case).where(Case.status == CaseStatus.open).order_by(col(Case.id))
    if process is not None:
        query = query.where(Case.process == process)
    rows = []
    for case in session.exec(query):
        steps = open_steps_of(session, case.id or 0)
        current = steps[0] if steps else None
        overdue_actions = session.exec(
            select(func.count())
            .select_from(Action)
            .where(
                Action.case_id == case.id,
                Action.status == ActionStatus.open,
                col(Action.due_on) < today,
            )
        ).one()
        with_rationale = select(Rationale.decision_id)
        missing = session.exec(
            select(func.count())
            .select_from(Decision)
            .where(
                Decision.case_id == case.id,
                col(Decision.rationale_due_at).is_not(None),
                col(Decision.id).not_in(with_rationale),
            )
        ).one()
        left = calendar.working_days_between(today, current.due_on) if current else None
        rows.append(
            {
                "reference": case.reference,
                "process": case.process,
                "step": ", ".join(
                    s.name if s.sequence == 1 else f"{s.name} {s.sequence}" for s in steps
                )
                or "-",
                "due": current.due_on.isoformat() if current else None,
                "working_days_left": left,
                "overdue": bool(current and today > current.due_on),
                "actions_overdue": overdue_actions,
                "rationale_missing": missing,
                "flow_run_id": case.flow_run_id,
            }
        )
    return rows


SEARCH_MAX = 64  # a reference is at most this long (models.inputs.Ref)


def find_cases(session: Session, policy: Policy, query: str, staff_id: str) -> list[dict[str, Any]]:
    """Return the cases a case reference, a child's reference or a carer's reference finds (any
    letter case, exactly), newest first: each with how it matched and whether opening it asks the
    person why first. A case its process keeps off the carer's file (an allegation found false or
    malicious, KCSIE) is found by the carer's reference only for those who lead or oversee the
    process's cases (its lead role, or a reader of its access log). A restricted case the person
    may not open is found by its own reference only, shown as restricted (never by a child's or
    the carer's reference: that would tell them who it is about)."""
    wanted = query.strip().casefold()
    if not wanted or len(wanted) > SEARCH_MAX:
        return []
    found: dict[int, tuple[Case, str]] = {}
    for case in session.exec(select(Case).where(func.lower(Case.reference) == wanted)):
        found[case.id or 0] = (case, "case reference")
    by_child = select(Case).join(CaseChild, col(CaseChild.case_id) == Case.id)
    for case in session.exec(by_child.where(func.lower(CaseChild.child_ref) == wanted)):
        found.setdefault(case.id or 0, (case, "child's reference"))
    held = roles_of(session, staff_id)
    carers = [decl.code for decl in registry.processes() if decl.carer_of is not None]
    for case in session.exec(select(Case).where(col(Case.process).in_(carers))):
        carer = _carer_of(case)
        if carer is None or carer.casefold() != wanted or (case.id or 0) in found:
            continue
        decl = registry.get(case.process)
        if _off_file(case) and not held & ({decl.lead_role} | decl.access_log_readers):
            continue
        found[case.id or 0] = (case, "carer's reference")
    open_to = restriction.allowed(session, [case for case, _ in found.values()])
    closed = {i for i, people in open_to.items() if staff_id not in people}
    return [
        {
            "reference": case.reference,
            "process": policy.process(case.process).title,
            "status": case.status.value,
            "opened_at": case.opened_at.isoformat(),
            "matched": matched,
            "asks_why": needs_reason(session, case, staff_id) and (case.id or 0) not in closed,
            "restricted": (case.id or 0) in closed,
        }
        for case, matched in sorted(
            found.values(), key=lambda pair: pair[0].opened_at, reverse=True
        )
        if (case.id or 0) not in closed or matched == "case reference"
    ]


def _carer_of(case: Case) -> str | None:
    """The carer the case is about, as its process says (None for a process about no carer)."""
    decl = registry.get(case.process)
    return decl.carer_of(details_of(case)) if decl.carer_of else None


def _held_for(
    session: Session, policy: Policy, case: Case, links: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each linked case, with the title of any of its clocks held until this case moves on (its
    stop's reason names this case): shown on both cases."""
    shown = []
    for link in links:
        other = session.exec(select(Case).where(Case.reference == link["reference"])).one()
        held = session.exec(
            select(Step.name)
            .join(ClockStop, col(ClockStop.step_id) == Step.id)
            .where(Step.case_id == other.id, Step.status == StepStatus.stopped)
            .where(col(ClockStop.resumed_at).is_(None))
            .where(col(ClockStop.reason).contains(case.reference))
        ).all()
        rules = policy.process(other.process).steps
        titles = [rules[name].title for name in held if name in rules]
        shown.append({**link, "holds_for_this": titles})
    return shown


def _off_file(case: Case) -> bool:
    """True if the case's process says it leaves the file of the person it is about."""
    decl = registry.get(case.process)
    if decl.record_notes is None:
        return False
    return bool(decl.record_notes(details_of(case)).remove_from_file)


def record_of(
    session: Session,
    *,
    child: str | None = None,
    carer: str | None = None,
    lado_record: bool = False,
) -> dict[str, Any]:
    """Return a child's or a carer's record across processes: every case they are in, and the
    reports filed on their record (decisions their processes file there, e.g. a meeting's report,
    with its summary).

    A case its process says leaves the carer's file (an allegation found false or malicious, the
    carer not consenting to its being kept: KCSIE) is not on the carer's record; the LADO's own
    record (`lado_record`) keeps it, marked."""
    if (child is None) == (carer is None):
        raise ValueError("give a child or a carer")
    removed: set[int] = set()
    if child is not None:
        ids = set(session.exec(select(CaseChild.case_id).where(CaseChild.child_ref == child)).all())
    else:
        ids = {c.id or 0 for c in session.exec(select(Case)).all() if _carer_of(c) == carer}
        removed = {c.id or 0 for c in session.exec(select(Case).where(col(Case.id).in_(ids))) if _off_file(c)}  # fmt: skip
        if not lado_record:
            ids -= removed
    found = session.exec(select(Case).where(col(Case.id).in_(ids)).order_by(col(Case.id))).all()
    refs = {c.id: c.reference for c in found}
    filed = {(decl.code, kind) for decl in registry.processes() for kind in decl.filed_on_record}
    reports = [
        d
        for d, process in session.exec(
            select(Decision, Case.process)
            .join(Case, col(Case.id) == Decision.case_id)
            .where(col(Decision.case_id).in_(ids))
            .where(col(Decision.kind).in_({kind for _, kind in filed}))
            .order_by(col(Decision.id))
        ).all()
        if (process, d.kind) in filed
    ]
    texts = {
        r.decision_id: r.text
        for r in session.exec(
            select(Rationale).where(col(Rationale.decision_id).in_([d.id for d in reports]))
        ).all()
    }
    return {
        "child" if child is not None else "carer": child if child is not None else carer,
        "cases": [
            {
                "reference": c.reference,
                "process": c.process,
                "status": c.status.value,
                "opened_at": c.opened_at.isoformat(),
                **({"removed_from_carer_file": True} if c.id in removed else {}),
            }
            for c in found
        ],
        "reports": [
            {
                "case": refs[d.case_id],
                "filed_at": d.decided_at.isoformat(),
                "what": d.value,
                "summary": texts.get(d.id or 0),
            }
            for d in reports
        ],
    }

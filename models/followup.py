"""Follow-up: actions agreed at meetings and the rationale of decisions (DESIGN rule 9).

An action's status changes by one rule (`change_action`), whether a review accounts for it or its
owner updates it between meetings: done or not needed closes it (not needed with a reason);
carried forward keeps it open with a reason and a new due day, which starts a fresh escalation
ladder. A review must account for every open action of the case (`require_accounted`).
"""

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models import audit, registry
from models.calendar import WorkingCalendar
from models.durations import WorkingDays
from models.enums import ActionStatus, CaseStatus, Role
from models.errors import InputError, refusal
from models.inputs import ActionAccount, NewAction, free_text, unaccounted
from models.permissions import acting_roles, acts_for, role_acting
from models.policy import Policy
from models.tables import Action, ActionUpdate, Case, Decision, Rationale


def due_day(calendar: WorkingCalendar, base: date, due: date | int) -> date:
    """Return a due day given as a date, or as working days after `base`."""
    return due if isinstance(due, date) else calendar.due(base, WorkingDays(due)).due


def add_actions(
    session: Session,
    calendar: WorkingCalendar,
    *,
    case_id: int,
    step_id: int | None,
    actions: Sequence[NewAction],
    agreed_on: date,
    author_id: str,
    recorded_at: datetime,
) -> None:
    """Record actions agreed on `agreed_on`, each with its owner and due day."""
    session.add_all(
        Action(
            case_id=case_id,
            step_id=step_id,
            title=new.title,
            owner_id=new.owner,
            due_on=due_day(calendar, agreed_on, new.due),
            created_at=recorded_at,
            created_by=author_id,
        )
        for new in actions
    )


def change_action(
    session: Session,
    calendar: WorkingCalendar,
    action: Action,
    account: ActionAccount,
    *,
    base: date,
    author_id: str,
    author_role: Role,
    recorded_at: datetime,
    submission_id: int | None = None,
) -> None:
    """Apply one account of an action (the one rule for its status); `base` is the day a
    carried-forward due given in working days counts from."""
    assert action.id is not None
    new_due = None
    if account.status == "carried_forward":
        assert account.new_due is not None
        new_due = action.due_on = due_day(calendar, base, account.new_due)
    else:
        action.status = ActionStatus(account.status)
    reason = account.reason
    if account.to_case:
        reason = f"to {account.to_case}: {reason}"
        _carried_on(session, action, account.to_case, author_id, author_role, recorded_at, account.reason)  # fmt: skip
    session.add(action)
    session.add(
        ActionUpdate(
            action_id=action.id,
            status=action.status,
            reason=reason,
            new_due_on=new_due,
            author_id=author_id,
            author_role=author_role,
            recorded_at=recorded_at,
            submission_id=submission_id,
        )
    )


def _about(message: str) -> str:
    """The field a rule across an account's fields is about, by what it asks for."""
    for field, asked in (
        ("to_case", "carries it on"),
        ("new_due", "new_due"),
        ("reason", "reason"),
    ):
        if asked in message:
            return field
    return "status"


def transfer_target(session: Session, action: Action, to_case: str) -> Case:
    """Return the open case an action is transferred to, or raise (on `to_case`) saying why it
    cannot carry it on: not a case here, the action's own, or closed."""
    target = session.exec(select(Case).where(Case.reference == to_case)).first()
    if target is None:
        raise refusal("to_case", f"{to_case} is not a case here: give the reference of the case that carries it on", sep=": ")  # fmt: skip
    if target.id == action.case_id:
        raise refusal("to_case", f"{to_case} is the action's own case: give the case that carries it on", sep=": ")  # fmt: skip
    if target.status is not CaseStatus.open:
        raise refusal("to_case", f"{to_case} is closed: an action carries on only in an open case", sep=": ")  # fmt: skip
    return target


def _carried_on(
    session: Session,
    action: Action,
    to_case: str,
    author_id: str,
    author_role: Role,
    recorded_at: datetime,
    reason: str | None,
) -> None:
    """A transferred action carries on, open, in the case it went to: the same title, owner and
    due day, its first update saying where it came from (nothing is lost between cases)."""
    target = transfer_target(session, action, to_case)
    source = session.get(Case, action.case_id)
    moved = Action(
        case_id=target.id or 0,
        step_id=None,
        title=action.title,
        owner_id=action.owner_id,
        due_on=action.due_on,
        created_at=recorded_at,
        created_by=author_id,
    )
    session.add(moved)
    session.flush()
    session.add(
        ActionUpdate(
            action_id=moved.id or 0,
            status=ActionStatus.open,
            reason=f"transferred from {source.reference if source else 'another case'}: {reason}",
            author_id=author_id,
            author_role=author_role,
            recorded_at=recorded_at,
        )
    )


def open_actions(session: Session, case_id: int) -> dict[int, str]:
    """Return the case's open actions: id -> title."""
    return {
        a.id or 0: a.title
        for a in session.exec(
            select(Action)
            .where(Action.case_id == case_id, Action.status == ActionStatus.open)
            .order_by(col(Action.id))
        )
    }


def require_accounted(
    session: Session, case: Case, accounted: Sequence[ActionAccount], held_on: date
) -> None:
    """Raise InputError unless `accounted` names every open action of the case, and only those."""
    still_open = open_actions(session, case.id or 0)
    missing = unaccounted(list(still_open), tuple(accounted))
    if missing:
        named = "; ".join(f"{i} ({still_open[i]})" for i in missing)
        raise InputError(
            f"the review leaves open actions unaccounted for: {named}; say of each whether it is "
            "done, carried forward (with the reason and a new due day) or no longer needed (with "
            "the reason)"
        )
    unknown = sorted({a.action_id for a in accounted} - set(still_open))
    if unknown:
        raise InputError(f"not an open action of {case.reference}: {', '.join(map(str, unknown))}")
    for account in accounted:
        if account.to_case:
            action = session.get(Action, account.action_id)
            assert action is not None
            transfer_target(session, action, account.to_case)
        if isinstance(account.new_due, date) and account.new_due < held_on:
            raise InputError(
                f"action {account.action_id}: new_due {account.new_due} is before the review"
            )


def account_for(
    session: Session,
    calendar: WorkingCalendar,
    accounted: Sequence[ActionAccount],
    *,
    held_on: date,
    author_id: str,
    author_role: Role,
    recorded_at: datetime,
    submission_id: int | None,
) -> None:
    """Record what a meeting held on `held_on` said of each earlier action."""
    for account in accounted:
        action = session.get(Action, account.action_id)
        assert action is not None
        change_action(
            session,
            calendar,
            action,
            account,
            base=held_on,
            author_id=author_id,
            author_role=author_role,
            recorded_at=recorded_at,
            submission_id=submission_id,
        )


def update_action(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    action_id: int,
    status: str,
    reason: str | None,
    new_due: date | None,
    author_id: str,
    now: datetime,
    to_case: str | None = None,
) -> Action:
    """Change an action between meetings: its owner, their line managers or the process's overseer
    (a LADO manager for an allegation) may. Transferred, it carries on open in `to_case`."""
    action = session.get(Action, action_id)
    if action is None:
        raise InputError(f"no action {action_id}; 'safeguard case show CASE' lists the actions")
    if action.status is not ActionStatus.open:
        raise InputError(
            f"action {action_id} is already {action.status.value}; a review can record more"
        )
    case = session.get(Case, action.case_id)
    assert case is not None
    overseer = registry.get(case.process).overseer
    held = acting_roles(session, author_id)
    if not acts_for(session, author_id, action.owner_id, overseer):
        raise InputError(
            f"only the action's owner ({action.owner_id}), their line managers or a "
            f"{overseer.label} may update it"
        )
    today = calendar.local_date(now)
    if status == "carried_forward" and (new_due is None or new_due <= today):
        raise refusal("new_due", "is needed for an action carried forward: a date after today")
    latest = calendar.due(today, policy.actions.due_within).due
    if new_due is not None and new_due > latest:
        raise refusal(
            "new_due",
            f"{new_due} is later than the policy allows ({latest}, "
            f"{policy.actions.due_within} from today): give a nearer date",
        )
    try:
        account = ActionAccount(
            action_id=action_id,
            status=status,
            reason=reason or None,
            new_due=new_due,
            to_case=to_case or None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else _about(message)
        if error["type"] == "literal_error":  # not one of the statuses
            message = "choose done, not needed, carried forward or transferred"
        raise refusal(field, message, sep=": ") from None
    change_action(
        session,
        calendar,
        action,
        account,
        base=today,
        author_id=author_id,
        author_role=role_acting(held),
        recorded_at=now,
    )
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="action.update",
        case_id=action.case_id,
        entity="action",
        entity_id=str(action_id),
        detail={"status": status},
    )
    session.flush()
    return action


def add_rationale(
    *, session: Session, decision_id: int, text: str, author_id: str, now: datetime
) -> Rationale:
    """Add the reasons for a decision (append-only); its author or their line managers may."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise InputError(
            f"no decision {decision_id}; 'safeguard case show CASE' lists each decision's id"
        )
    text = free_text(text, "text")
    held = acting_roles(session, author_id)
    if not acts_for(session, author_id, decision.author_id, overseer=None):
        raise InputError(
            f"only {decision.author_id} (who decided) or their line managers may give its rationale"
        )
    rationale = Rationale(
        decision_id=decision_id,
        text=text,
        author_id=author_id,
        author_role=role_acting(held, decision.author_role),
        recorded_at=now,
    )
    session.add(rationale)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_id=author_id,
        action="rationale.add",
        case_id=decision.case_id,
        entity="decision",
        entity_id=str(decision_id),
    )
    return rationale


def times_carried_forward(session: Session, action_id: int) -> int:
    """Return how many times the action has been carried forward (each with a new due day)."""
    return len(
        session.exec(
            select(ActionUpdate.id).where(
                ActionUpdate.action_id == action_id,
                ActionUpdate.status == ActionStatus.open,
                col(ActionUpdate.new_due_on).is_not(None),
            )
        ).all()
    )

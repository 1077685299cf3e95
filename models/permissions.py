"""Who may do what: every permission check of the engine, once (DESIGN rule 3).

Each function reads the staff directory and raises InputError saying who may do it instead.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from models.calendar import WorkingCalendar
from models.durations import Duration, WorkingDays
from models.enums import Role
from models.errors import InputError
from models.inputs import InDirectory, InputContext
from models.process import ProcessDecl, StepDecl
from models.staff import StaffView, management_chain, roles_of
from models.tables import Staff

# Managers see every open case (the board), timeliness and the staff directory.
MANAGERS = frozenset(
    {
        Role.team_manager,
        Role.service_manager,
        Role.head_of_service,
        Role.director,
        Role.lado_manager,
        Role.iro_manager,
        Role.complaints_manager,
    }
)


def is_manager(roles: Iterable[Role]) -> bool:
    """True if any of the roles is a manager's."""
    return bool(MANAGERS & set(roles))


# Who reads a carer's chronology (models/chronology.py): the managers, the LADO, the carer's
# supervising social workers and the agency decision maker who decides their approval.
CHRONOLOGY_READERS = frozenset(
    {Role.lado, Role.supervising_social_worker, Role.agency_decision_maker}
)


def may_read_chronology(roles: Iterable[Role]) -> bool:
    """True if someone holding these roles may read a carer's chronology."""
    return is_manager(roles) or bool(CHRONOLOGY_READERS & set(roles))


def may_record(step: StepDecl[Any, Any], roles: Iterable[Role]) -> bool:
    """True if someone holding these roles may record the step (its chair rule aside)."""
    return bool(step.may_record & set(roles))


def may_start(process: ProcessDecl[Any], roles: Iterable[Role]) -> bool:
    """True if someone holding these roles may start a case of the process."""
    return bool(process.may_start & set(roles))


def roles_needed(allowed: Iterable[Role]) -> str:
    """Return the roles that may do a thing, as people read them ("LADO or LADO manager")."""
    return " or ".join(sorted(r.label for r in allowed))


def acting_roles(session: Session, staff_id: str) -> set[Role]:
    """Return the roles of a person who may act; raise InputError for someone unknown or who has
    left (a person who has left can do nothing: start, record, approve, acknowledge, be named)."""
    held = roles_of(session, staff_id)
    person = session.get(Staff, staff_id)
    if person is not None and not person.active:
        when = f" on {person.left_on:%d %B %Y}" if person.left_on else ""
        raise InputError(
            f"{staff_id} left{when}: someone who has left can do nothing here; "
            "their work passed to the person named when they left ('safeguard staff show')"
        )
    return held


def require_staff(session: Session, staff_id: str) -> set[Role]:
    """Return a person's roles; raise InputError if they are not in the directory, hold none, or
    have left."""
    held = acting_roles(session, staff_id)
    if not held:
        raise InputError(f"{staff_id} is not in the staff directory (or holds no role)")
    return held


def require_role(session: Session, staff_id: str, allowed: Iterable[Role], doing: str) -> Role:
    """Return the first of `allowed` the person holds, or raise InputError naming what is needed."""
    allowed = frozenset(allowed)
    held = acting_roles(session, staff_id)
    matching = [r for r in Role if r in held and r in allowed]
    if not matching:
        raise InputError(
            f"{staff_id} may not {doing}: that needs the role "
            f"{' or '.join(sorted(r.label for r in allowed))} "
            f"({staff_id} has {', '.join(sorted(r.label for r in held)) or 'no role'})"
        )
    return matching[0]


def require_senior(session: Session, approver_id: str, needed: Role, doing: str) -> Role:
    """Return the approver's most senior role if it is at least `needed`'s rank (DESIGN rule 9)."""
    held = require_staff(session, approver_id)
    best = max(held, key=lambda r: r.seniority)
    if best.seniority < needed.seniority:
        raise InputError(
            f"{approver_id} ({', '.join(sorted(r.label for r in held))}) is too junior to "
            f"approve {doing}: the policy needs {needed.label} or more senior"
        )
    return best


def acts_for(session: Session, actor_id: str, owner_id: str, overseer: Role | None) -> bool:
    """True if the actor is the owner, one of the owner's line managers, or holds `overseer`
    (an actor who has left is refused outright)."""
    held = acting_roles(session, actor_id)
    return (
        actor_id == owner_id
        or actor_id in management_chain(session, owner_id)
        or (overseer is not None and overseer in held)
    )


def require_chair(
    session: Session, actor_id: str, chair_id: str | None, overseer: Role, doing: str
) -> None:
    """Raise InputError unless the actor chairs the step (owns it) or holds the overseer role."""
    if actor_id != chair_id and overseer not in acting_roles(session, actor_id):
        raise InputError(f"only the chair ({chair_id}) or a {overseer.label} may {doing}")


def role_acting(held: set[Role], preferred: Role | None = None) -> Role:
    """Return the role a person acts in: `preferred` if they hold it, else their first by name."""
    return preferred if preferred is not None and preferred in held else sorted(held)[0]


class DirectoryContext(InputContext):
    """The engine's InputContext: the step's window, the moment, and the staff directory."""

    def __init__(
        self,
        session: Session,
        calendar: WorkingCalendar,
        action_limit: Duration,
        *,
        now: datetime,
        effective: datetime,
        opened: date | None = None,
        approver_role: Role | None = None,
        approver_roles: tuple[Role, ...] = (),
        author: str | None = None,
    ) -> None:
        self.session, self.calendar, self.action_limit = session, calendar, action_limit
        self.approver_role, self.approver_roles, self.author = approver_role, approver_roles, author
        self.tz, self.now, self.opened = calendar.tz, now, opened
        self.today = effective.astimezone(self.tz).date()

    def local(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.tz)

    def latest_action_due(self, agreed_on: date) -> date:
        return self.calendar.due(agreed_on, self.action_limit).due

    def check_independent(self, staff_id: str) -> None:
        acting_roles(self.session, staff_id)
        person = self.session.get(Staff, staff_id)
        if person is None or not person.independent:
            raise ValueError(
                f"{staff_id} is not recorded as independent of the authority: an independent "
                "person may not be a member or officer of it, nor the spouse or civil partner of "
                "one (RPR 2006 reg 2); an external person is added to the staff directory as independent"
            )

    def check_approver(self, staff_id: str) -> None:
        """An approver holds one of the roles the policy names for the step, else is at least as
        senior as its `approver`; and is someone else than who records it."""
        if self.approver_roles:
            held = acting_roles(self.session, staff_id)
            needed = roles_needed(self.approver_roles)
            lowest = min(r.seniority for r in self.approver_roles)
            if max(r.seniority for r in held) < lowest:
                raise ValueError(
                    f"{staff_id} ({', '.join(sorted(r.label for r in held))}) is too junior to "
                    "approve it: the "
                    f"policy needs {needed}"
                )
            if not held & set(self.approver_roles):
                raise ValueError(
                    f"{staff_id} may not approve it: the policy needs {needed} ({staff_id} has "
                    f"{', '.join(sorted(r.label for r in held)) or 'no role'})"
                )
        elif self.approver_role is None:
            raise ValueError("this step's policy names no approver: it cannot take an approval")
        else:
            require_senior(self.session, staff_id, self.approver_role, "it")
        if staff_id == self.author:
            raise ValueError(
                f"{staff_id} is recording this: an approval is another person's (name who approved)"
            )

    def action_due(self, agreed_on: date, due: date | int) -> date:
        return due if isinstance(due, date) else self.calendar.due(agreed_on, WorkingDays(due)).due

    def check_staff(self, staff_id: str, roles: frozenset[Role]) -> None:
        held = acting_roles(self.session, staff_id)  # unknown or left: InputError, a ValueError
        if roles and not held & roles:
            raise ValueError(
                f"{staff_id} does not hold the role {' or '.join(sorted(r.label for r in roles))} "
                f"({staff_id} is {', '.join(sorted(r.label for r in held)) or 'in no role'})"
            )


def eligible(ctx: InputContext, who: InDirectory, people: Sequence[StaffView]) -> list[StaffView]:
    """Return the people a field naming a member of staff accepts, as its own check decides (one
    rule for the form's list and the record's check): in post, holding the roles it names, an
    approver the step's policy accepts, or someone independent of the authority."""
    found = []
    for p in people:
        if not p.active or (who.roles and not who.roles & set(p.roles)):
            continue
        if who.independent and not p.independent:
            continue
        try:
            if who.independent:
                ctx.check_independent(p.id)
            elif who.approver:
                ctx.check_approver(p.id)
            else:
                ctx.check_staff(p.id, who.roles)
        except (ValueError, InputError):
            continue
        found.append(p)
    return found

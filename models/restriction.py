"""Restricted records: a case about one of the council's own staff (the carer or a child is a
member of staff, or related to one) that only the people working on it may open.

Restricting a case, and lifting its restriction, are decisions: by someone in a role its process
names (`restricted_by`: a LADO manager unless the process says otherwise), with a ground and a
reason, kept (append-only, case_restrictions) and in the audit log. While a case is restricted,
only its lead, its named parties (a child's IRO and social worker among them), the owners of its
steps and actions, the managers above any of them, and whoever restricted it may open it; anyone
else is refused (Restricted), the attempt kept in its access log for those who read it. The board
and search show such a case as restricted, without its children or its summary.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import audit, registry
from models.cases import parties_of
from models.errors import FieldErrors, InputError
from models.inputs import free_text
from models.permissions import acting_roles
from models.staff import management_chain
from models.tables import Action, Case, CaseRestriction, CaseView, Step

GROUNDS = {
    "staff": "The carer or a child is a member of staff",
    "related": "The carer or a child is related to a member of staff",
}
CLOSED_TO_YOU = (
    "{reference} is restricted: only the people working on it and their managers can open it. "
    "Your attempt has been recorded. If you need to see it, ask your manager."
)


class Restricted(InputError):
    """A restricted case, and the person may not open it (the attempt is to be logged)."""

    def __init__(self, case: Case, staff_id: str) -> None:
        super().__init__(CLOSED_TO_YOU.format(reference=case.reference))
        self.case_id = case.id or 0
        self.staff_id = staff_id


@dataclass(frozen=True)
class Decision:
    """One decision on a case's restriction, as the case page and `case show` list it."""

    restricted: bool
    ground: str | None  # in words (None: lifted)
    reason: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "restricted": self.restricted,
            "ground": self.ground,
            "reason": self.reason,
            "by": self.by,
            "at": self.at.isoformat(),
        }


def may_decide(session: Session, case: Case, staff_id: str) -> bool:
    """True if the person holds a role the case's process lets restrict and lift it."""
    return bool(acting_roles(session, staff_id) & registry.get(case.process).restricted_by)


def restrict(
    session: Session, *, case: Case, by: str, ground: str, reason: str, now: datetime
) -> None:
    """Restrict the case: a decision by someone its process lets, with a ground and a reason."""
    _check_decider(session, case, by, "restrict")
    errors = []
    if ground not in GROUNDS:
        errors.append(("ground", "Choose why the case is restricted"))
    if not (reason or "").strip():
        errors.append(("reason", "Enter the reason for restricting the case"))
    if errors:
        raise FieldErrors(errors[0][1], errors, sep="")
    if case.restricted:
        raise InputError(f"{case.reference} is already restricted")
    _decide(session, case, True, ground, free_text(reason, "reason"), by, now)


def lift(session: Session, *, case: Case, by: str, reason: str, now: datetime) -> None:
    """Lift the case's restriction: a decision, with a reason."""
    _check_decider(session, case, by, "lift the restriction of")
    if not (reason or "").strip():
        said = "Enter the reason for lifting the restriction"
        raise FieldErrors(said, [("reason", said)], sep="")
    if not case.restricted:
        raise InputError(f"{case.reference} is not restricted")
    _decide(session, case, False, None, free_text(reason, "reason"), by, now)


def decisions(session: Session, case_id: int) -> list[Decision]:
    """The case's restriction decisions, oldest first."""
    rows = session.exec(
        select(CaseRestriction)
        .where(CaseRestriction.case_id == case_id)
        .order_by(col(CaseRestriction.id))
    ).all()
    return [
        Decision(r.restricted, GROUNDS.get(r.ground or ""), r.reason, r.decided_by, r.decided_at)
        for r in rows
    ]


def may_open(session: Session, case: Case, staff_id: str) -> bool:
    """True unless the case is restricted and the person is none of those who may open it."""
    return not case.restricted or staff_id in allowed(session, [case])[case.id or 0]


def allowed(session: Session, cases: Iterable[Case]) -> dict[int, set[str]]:
    """For each restricted case, who may open it: its lead, parties, the owners of its steps
    and actions, whoever restricted it, and the managers above any of them."""
    ids = [c.id or 0 for c in cases if c.restricted]
    if not ids:
        return {}
    people: dict[int, set[str]] = {i: set() for i in ids}
    for case_id, parties in parties_of(session, ids).items():
        people[case_id] |= {parties.lead, *parties.iros, *parties.social_workers}
        people[case_id] |= {p for named in parties.named.values() for p in named}
    owners: Iterable[tuple[int, str | None]] = [
        *session.exec(select(Step.case_id, Step.owner_id).where(col(Step.case_id).in_(ids))),
        *session.exec(select(Action.case_id, Action.owner_id).where(col(Action.case_id).in_(ids))),
        *session.exec(
            select(CaseRestriction.case_id, CaseRestriction.decided_by).where(
                col(CaseRestriction.case_id).in_(ids)
            )
        ),
    ]
    for case_id, owner in owners:
        if owner:
            people[case_id].add(owner)
    chains: dict[str, list[str]] = {}
    for found in people.values():
        for person in list(found):
            if person not in chains:
                chains[person] = management_chain(session, person)
            found |= set(chains[person])
    return people


def check(session: Session, case: Case, staff_id: str) -> None:
    """Raise Restricted if the person may not open the case (nothing is written: the caller
    keeps the attempt with `refused`, in a transaction of its own)."""
    if not may_open(session, case, staff_id):
        raise Restricted(case, staff_id)


def refused(session: Session, *, case_id: int, staff_id: str, now: datetime, via: str) -> None:
    """Keep a refused attempt to open a restricted case in its access log."""
    session.add(CaseView(case_id=case_id, staff_id=staff_id, at=now, via=via, refused=True))


def _check_decider(session: Session, case: Case, by: str, what: str) -> None:
    if not may_decide(session, case, by):
        roles = registry.get(case.process).restricted_by
        who = " or ".join(sorted(r.label for r in roles)) or "nobody"
        raise InputError(f"only a {who} may {what} a case ({by} is not one)")


def _decide(
    session: Session,
    case: Case,
    restricted: bool,
    ground: str | None,
    reason: str,
    by: str,
    now: datetime,
) -> None:
    session.add(
        CaseRestriction(
            case_id=case.id or 0,
            restricted=restricted,
            ground=ground,
            reason=reason,
            decided_by=by,
            decided_at=now,
        )
    )
    case.restricted = restricted
    session.add(case)
    audit.record(
        session,
        at=now,
        actor_id=by,
        action="case.restricted" if restricted else "case.restriction_lifted",
        entity="case",
        entity_id=case.reference,
        case_id=case.id,
        detail={"ground": ground} if restricted else {},
    )

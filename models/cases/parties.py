"""Who is who in a case: its lead, each child's IRO and social worker (or, for a child placed by
another authority, who placed them), and the people named in it by role. `CaseParties` is pure
(the escalation engine and the declarations read it); `parties_of` and `child_of` read it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from models.enums import Role
from models.tables import Case, CaseChild, CaseParty


@dataclass(frozen=True)
class CaseParties:
    """Who is who in one case: its lead, each child's IRO and social worker, and the people named
    in it by role (the lead under the process's lead role, e.g. the LADO)."""

    lead: str
    iros: tuple[str, ...] = ()
    social_workers: tuple[str, ...] = ()
    named: Mapping[Role, tuple[str, ...]] = field(default_factory=dict)
    # children whose IRO is not in our directory: (placed by, contact); their IRO's notices go to
    # the case lead, with the contact
    placed_elsewhere: tuple[tuple[str, str], ...] = ()

    def holding(self, role: Role) -> tuple[str, ...]:
        """Return the people of the case in `role`: the children's IROs or social workers, or the
        people named in that role."""
        if role is Role.iro:
            return self.iros
        if role is Role.social_worker:
            return self.social_workers
        return self.named.get(role, ())

    def includes(self, staff_id: str) -> bool:
        """True if the person is in the case: its lead, a child's IRO or social worker, or named."""
        return (
            staff_id == self.lead
            or staff_id in self.iros
            or staff_id in self.social_workers
            or any(staff_id in people for people in self.named.values())
        )

    def only(self, role: Role) -> str | None:
        """Return the one person of the case in `role`, or None when there are none or several."""
        people = self.holding(role)
        return people[0] if len(people) == 1 else None


def parties_of(session: Session, case_ids: Iterable[int]) -> dict[int, CaseParties]:
    """Return who is who in each case: its lead, each child's IRO and social worker, named parties."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    children: dict[int, list[CaseChild]] = {}
    for child in session.exec(select(CaseChild).where(col(CaseChild.case_id).in_(ids))).all():
        children.setdefault(child.case_id, []).append(child)
    named: dict[int, dict[Role, list[str]]] = {}
    for party in session.exec(
        select(CaseParty).where(col(CaseParty.case_id).in_(ids)).order_by(col(CaseParty.id))
    ).all():
        named.setdefault(party.case_id, {}).setdefault(Role(party.role), []).append(party.staff_id)
    result: dict[int, CaseParties] = {}
    for case_id, lead in session.exec(
        select(Case.id, Case.lead_id).where(col(Case.id).in_(ids))
    ).all():
        kids = children.get(case_id or 0, [])
        result[case_id or 0] = CaseParties(
            lead=lead,
            iros=tuple(dict.fromkeys(c.iro_id for c in kids if c.iro_id)),
            social_workers=tuple(
                dict.fromkeys(c.social_worker_id for c in kids if c.social_worker_id)
            ),
            placed_elsewhere=tuple(
                dict.fromkeys((c.placed_by or "", c.contact or "") for c in kids if not c.iro_id)
            ),
            named={r: tuple(p) for r, p in named.get(case_id or 0, {}).items()},
        )
    return result


def child_of(session: Session, case_id: int, ref: str) -> dict[str, str] | None:
    """Return a child of the case as a start input names one (child, iro, social_worker, or
    placed_by and contact), or None if the case has no such child."""
    found = session.exec(
        select(CaseChild).where(CaseChild.case_id == case_id, CaseChild.child_ref == ref)
    ).first()
    if found is None:
        return None
    named = {
        "child": found.child_ref,
        "iro": found.iro_id,
        "social_worker": found.social_worker_id,
        "placed_by": found.placed_by,
        "contact": found.contact,
    }
    return {k: v for k, v in named.items() if v is not None}

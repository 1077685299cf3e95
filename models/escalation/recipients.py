"""Who receives a notice due: the people of its case the policy names (by role, or the step's
owner), their line managers up the ladder, the first active person of a chain, and which named
recipients resolved to nobody (reported to the head of service)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.cases.parties import CaseParties
from models.enums import Role
from models.escalation.clocks import DueNotice
from models.policy import IN_CASE
from models.staff import walk_up


@dataclass(frozen=True)
class Directory:
    """The staff directory as the sweep sees it: who is active, their roles and line managers."""

    managers: Mapping[str, str | None]  # every member of staff → line manager
    roles: Mapping[str, frozenset[Role]]  # active staff only
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def active(self, staff_id: str) -> bool:
        return staff_id in self.roles

    def manager_of(self, staff_id: str) -> str | None:
        return self.managers.get(staff_id)

    def chain(self, staff_id: str) -> list[str]:
        """Return the line managers above `staff_id`, nearest first."""
        return walk_up(staff_id, self.managers.get)

    def holders(self, role: Role) -> list[str]:
        return sorted(s for s, held in self.roles.items() if role in held)


@dataclass(frozen=True)
class Recipients:
    people: dict[str, list[str]]  # staff id → why they are told
    unfilled: tuple[str, ...]  # recipients that resolved to nobody (reported to head of service)


def resolve(notice: DueNotice, parties: CaseParties, directory: Directory) -> Recipients:
    """Return who receives `notice` in its case, and which recipients resolved to nobody.

    A role is the case's own people in it when it names any (the LADO of the case, each child's
    IRO), else looked for in the line-management chains of the people in the case (so the LADO's
    own manager, the child's IRO's own manager), then among everyone who holds it. An owner is
    never "everyone who holds the role": it is the step's assignee, else the case's own person in
    the role, else a holder in the line-management chains of the case's people. Nobody inactive is
    told. A recipient that resolves to nobody is reported: the case lead's manager receives the
    notice in place of a missing owner, the head of service in place of anyone else.
    """
    base = [
        parties.lead,
        *parties.iros,
        *parties.social_workers,
        *(p for people in parties.named.values() for p in people),
    ]
    owners = [o for o in notice.owners if o] or _owner_by_role(
        notice.owner_role, parties, directory, base
    )
    in_case = [*owners, *base]
    people: dict[str, list[str]] = {}
    unfilled: list[str] = []

    def tell(who: Iterable[str], because: str) -> bool:
        found = False
        for person in who:
            if person and directory.active(person) and person not in notice.exclude:
                reasons = people.setdefault(person, [])
                if because not in reasons:
                    reasons.append(because)
                found = True
        return found

    for token in notice.notify:
        if token == "owner":
            found = tell(owners, "owner")
        elif token == "owner_manager":
            found = tell((_first_active(directory.chain(o), directory, 0) for o in owners), token)
        elif token == "owner_senior_manager":
            found = tell((_first_active(directory.chain(o), directory, 1) for o in owners), token)
        elif token == "case_lead":
            found = tell([parties.lead], token)
        elif token.startswith(IN_CASE):  # the case's own, if it names any; else nobody, as meant
            named = Role(token.removeprefix(IN_CASE))
            found = tell(parties.holding(named), f"the case's {named.label}") or True
        elif token in ("child_iro", "child_social_worker"):
            children = parties.iros if token == "child_iro" else parties.social_workers
            found = tell(children, token) or not children  # no child in the case: nothing to tell
            for placed_by, contact in parties.placed_elsewhere:  # their IRO is not ours to reach
                who = "IRO" if token == "child_iro" else "social worker"
                found = tell([parties.lead], f"for the {who} of a child placed by {placed_by}: pass it on ({contact})") or found  # fmt: skip
        else:
            found = tell(_by_role(token, parties, directory, in_case), token)
        if not found:
            unfilled.append(token)
    gap = [] if owners else [t for t in unfilled if t.startswith("owner")]
    others = [t for t in unfilled if t not in gap]
    if gap:  # nobody in the case owns the step
        role = (notice.owner_role or "owner").replace("_", " ")
        lead_manager = _first_active(directory.chain(parties.lead), directory, 0)
        if not tell([lead_manager], f"instead of the owner (nobody in the case is its {role})"):
            others = unfilled  # nobody above the case lead either: the head of service
    if others:
        # A stand-in is never below the people the notice is about: a director's unacknowledged
        # notice, with nobody above them, stops there: escalation only goes up.
        stand_in = f"instead of {', '.join(others)} (nobody holds it)"
        tell(_not_below(directory.holders(Role.head_of_service), owners, directory), stand_in)
    return Recipients(people, tuple(unfilled))


def _rank(staff_id: str, directory: Directory) -> int:
    return max((r.seniority for r in directory.roles.get(staff_id, ())), default=0)


def _not_below(people: Sequence[str], owners: Sequence[str], directory: Directory) -> list[str]:
    """Return those of `people` at least as senior as every one of `owners`."""
    top = max((_rank(o, directory) for o in owners), default=0)
    return [p for p in people if _rank(p, directory) >= top]


def _first_active(chain: Sequence[str], directory: Directory, skip: int) -> str:
    """Return the (skip+1)-th active manager up the chain, or "" when the chain runs out."""
    active = [m for m in chain if directory.active(m)]
    return active[skip] if len(active) > skip else ""


def _owner_by_role(
    role_name: str | None, parties: CaseParties, directory: Directory, in_case: Sequence[str]
) -> list[str]:
    """The owner by role: the case's own person, else a holder near the case; never everyone."""
    if role_name is None:
        return []
    role = Role(role_name)
    if role in (Role.iro, Role.social_worker) or parties.holding(role):
        return list(parties.holding(role))
    nearby = {m for person in in_case for m in (person, *directory.chain(person))}
    return [h for h in directory.holders(role) if h in nearby]


def _by_role(
    role_name: str | None, parties: CaseParties, directory: Directory, in_case: Sequence[str]
) -> list[str]:
    if role_name is None:
        return []
    role = Role(role_name)
    if role in (Role.iro, Role.social_worker) or parties.holding(role):
        return list(parties.holding(role))  # the case's own (a child's IRO, the case's LADO)
    nearby = {m for person in in_case for m in (person, *directory.chain(person))}
    holders = directory.holders(role)
    return [h for h in holders if h in nearby] or holders

"""The domain's closed vocabularies: roles, and the states of cases, steps and actions.

Processes are not among them: each is a declaration found through models/registry.py.
"""

from enum import StrEnum


class Role(StrEnum):
    """What a member of staff may do. A person can hold several roles."""

    lado = "lado"
    lado_manager = "lado_manager"
    iro = "iro"
    iro_manager = "iro_manager"
    social_worker = "social_worker"
    supervising_social_worker = "supervising_social_worker"
    team_manager = "team_manager"
    service_manager = "service_manager"
    head_of_service = "head_of_service"
    director = "director"
    complaints_manager = "complaints_manager"
    investigating_officer = "investigating_officer"
    independent_person = "independent_person"
    advocate = "advocate"  # supports a child or young person making representations (s26A)
    # the fostering service's agency decision maker: decides a carer's approval (FSR 2011 reg 28)
    agency_decision_maker = "agency_decision_maker"

    @property
    def seniority(self) -> int:
        """Return the role's rank for approvals: a departure needs an approver at or above a rank."""
        return _SENIORITY[self]

    @property
    def label(self) -> str:
        """Return the role as people write it, e.g. "LADO manager", "IRO"."""
        return self.value.replace("_", " ").replace("lado", "LADO").replace("iro", "IRO")

    @property
    def plural(self) -> str:
        """Return the role of several people, e.g. "LADO managers", "heads of service"."""
        head, of, rest = self.label.partition(" of ")
        return f"{head}s{of}{rest}" if of else f"{self.label}s"


_SENIORITY: dict[Role, int] = {
    Role.social_worker: 1,
    Role.supervising_social_worker: 1,
    Role.investigating_officer: 1,
    Role.independent_person: 1,
    Role.advocate: 1,
    Role.agency_decision_maker: 3,
    Role.lado: 1,
    Role.iro: 1,
    Role.team_manager: 2,
    Role.lado_manager: 2,
    Role.iro_manager: 2,
    Role.complaints_manager: 2,
    Role.service_manager: 3,
    Role.head_of_service: 4,
    Role.director: 5,
}


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class StepStatus(StrEnum):
    """Where a step's clock is: running, stopped (e.g. police investigation), or ended."""

    open = "open"
    stopped = "stopped"
    closed = "closed"
    skipped = "skipped"
    lapsed = "lapsed"  # a person's own window (e.g. to ask for a review panel) closed unused
    ended = "ended"  # not needed any more: the case ended before it (e.g. a complaint withdrawn)


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    not_needed = "not_needed"
    transferred = "transferred"  # carried on in another case (named in its update's reason)


def role_list() -> str:
    """Return the known roles as one comma-separated line, for error messages."""
    return ", ".join(r.value for r in Role)

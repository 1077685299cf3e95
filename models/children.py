"""A child's whole picture across processes, as their IRO sees it: each child the IRO is named for,
with every open case, the steps late or due soon, the notices nobody has acknowledged and the flags
that follow the child (models/flags.py), worst first.

Read in a few set-based queries, whatever the number of children; pages show what these return.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import registry
from models.calendar import WorkingCalendar
from models.enums import CaseStatus
from models.escalation import Kind
from models.policy import Policy
from models.tables import Case, CaseChild, Notice
from models.worklist import RAG_ORDER, Row, open_rows


@dataclass
class ChildCase:
    """One open case of a child, as the IRO's picture shows it."""

    reference: str
    process: str
    steps: list[Row]  # its open steps with a timescale, worst first
    unacknowledged: int  # notices about it that nobody they went to has acknowledged


@dataclass
class ChildPicture:
    """A child the IRO is named for: every open case, worst first."""

    child: str
    iro: str
    cases: list[ChildCase] = field(default_factory=list)

    @property
    def late(self) -> int:
        return sum(1 for c in self.cases for s in c.steps if s.rag == "red")

    @property
    def due_soon(self) -> int:
        return sum(1 for c in self.cases for s in c.steps if s.rag == "amber")

    @property
    def unacknowledged(self) -> int:
        return sum(c.unacknowledged for c in self.cases)

    @property
    def flags(self) -> list[ChildCase]:
        """Its open cases of a process that flags its children (e.g. a challenge open)."""
        flagging = registry.child_flags()
        return [c for c in self.cases if c.process in flagging]

    def as_dict(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "iro": self.iro,
            "late": self.late,
            "due_soon": self.due_soon,
            "unacknowledged": self.unacknowledged,
            "cases": [
                {
                    "reference": c.reference,
                    "process": c.process,
                    "unacknowledged": c.unacknowledged,
                    "steps": [s.as_dict() for s in c.steps],
                }
                for c in self.cases
            ],
        }


def pictures(
    *,
    session: Session,
    policy: Policy,
    calendar: WorkingCalendar,
    now: datetime,
    iros: Sequence[str],
) -> list[ChildPicture]:
    """Return each child of these IROs with an open case, worst first: the most steps late, then
    the most notices unacknowledged, then the most due soon."""
    named = session.execute(
        sa.select(
            col(CaseChild.child_ref),
            col(CaseChild.iro_id),
            col(Case.id),
            col(Case.reference),
            col(Case.process),
        )
        .join(Case, col(Case.id) == CaseChild.case_id)
        .where(col(CaseChild.iro_id).in_(list(iros)), col(Case.status) == CaseStatus.open)
        .order_by(col(Case.id))
    ).all()
    case_ids = sorted({case_id or 0 for _, _, case_id, _, _ in named})
    open_steps = open_rows(
        session=session, policy=policy, calendar=calendar, now=now, case_ids=case_ids
    )
    asking = [k.value for k in Kind if k.needs_acknowledgement]
    unacknowledged: dict[int, int] = {}
    for case_id in session.exec(
        select(Notice.case_id).where(
            col(Notice.case_id).in_(case_ids),
            col(Notice.kind).in_(asking),
            col(Notice.acknowledged_at).is_(None),
        )
    ).all():
        unacknowledged[case_id or 0] = unacknowledged.get(case_id or 0, 0) + 1
    found: dict[tuple[str, str], ChildPicture] = {}
    for ref, iro, case_id, reference, process in named:
        picture = found.setdefault((ref, iro or ""), ChildPicture(ref, iro or ""))
        steps = open_steps.get(reference, [])
        picture.cases.append(ChildCase(reference, process, steps, unacknowledged.get(case_id or 0, 0)))  # fmt: skip
    for picture in found.values():
        picture.cases.sort(
            key=lambda c: (
                min((RAG_ORDER[s.rag] for s in c.steps), default=9),
                -c.unacknowledged,
                c.reference,
            )
        )
    return sorted(
        found.values(), key=lambda p: (-p.late, -p.unacknowledged, -p.due_soon, p.child, p.iro)
    )

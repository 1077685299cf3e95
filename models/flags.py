"""The flags that follow a child from case to case: while a case of a process that declares a
`child_flag` is open for a child (e.g. "An IRO challenge is open"), every other case of that child
shows it, and the board can keep only the cases that have one."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from models import registry
from models.enums import CaseStatus
from models.tables import Case, CaseChild


def flags_for(session: Session, case_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """Return, per case, the flags of its children: each open case of a process that flags its
    children (its declaration's `child_flag`) about a child of this case, other than itself."""
    ids = sorted(set(case_ids))
    flagging = registry.child_flags()
    result: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    if not ids or not flagging:
        return result
    children: dict[int, set[str]] = {}
    for case_id, ref in session.exec(
        select(CaseChild.case_id, CaseChild.child_ref).where(col(CaseChild.case_id).in_(ids))
    ).all():
        children.setdefault(case_id, set()).add(ref)
    refs = {r for found in children.values() for r in found}
    if not refs:
        return result
    flagged: dict[str, list[tuple[int, str, str]]] = {}
    for other, reference, process, ref in session.exec(
        select(Case.id, Case.reference, Case.process, CaseChild.child_ref)
        .join(CaseChild, col(CaseChild.case_id) == Case.id)
        .where(
            col(Case.process).in_(list(flagging)),
            Case.status == CaseStatus.open,
            col(CaseChild.child_ref).in_(sorted(refs)),
        )
        .order_by(col(Case.id))
    ).all():
        flagged.setdefault(ref, []).append((other or 0, reference, flagging[process]))
    for case_id, found in children.items():
        seen: set[str] = set()
        for ref in sorted(found):
            for other_id, reference, flag in flagged.get(ref, []):
                if other_id != case_id and reference not in seen:
                    seen.add(reference)
                    result[case_id].append({"flag": flag, "reference": reference, "child": ref})
    return result

"""The placement changes a disruption records, for the children looked after return (SSDA903):
`safeguard report placement-changes` and its managers' page.

Each case whose placement ended in the period counts once, by the return's reason for the change
(REASON_PLACE_CHANGE, `PlaceChange`); the rows behind the figures are given under the return's
own column names (CHILD, DEC: the day the placement ended, REASON_PLACE_CHANGE, DECOM: the day the
next began), with the case's reference beside them, so they can be checked against the
authority's own return. The same figures count the children whose placement changed in the
period and those with three or more changes (what Ofsted's list of children in care asks:
placements in the last 12 months). An ending recorded before the reason was asked has none: it is
counted as not recorded, never guessed.
"""

from collections import Counter
from datetime import date
from typing import Any

from models.process import CaseFacts, Figure, FiguresContext, Listing
from models.processes.disruption.start import PlaceChange

BY_REASON = "Placement changes by reason (the return's REASON_PLACE_CHANGE)"
CHILDREN = "Children"


def _ended(record: FiguresContext) -> list[tuple[CaseFacts, dict[str, Any]]]:
    """The cases whose placement ended in the period, with their ending, in the order ended."""
    found = []
    for case in record.cases():
        ending = case.details.get("ending")
        if not isinstance(ending, dict) or not ending.get("ends_on"):
            continue
        if record.start <= date.fromisoformat(ending["ends_on"]) <= record.end:
            found.append((case, ending))
    return sorted(found, key=lambda pair: (pair[1]["ends_on"], pair[0].reference))


def _child(case: CaseFacts) -> str:
    child = case.details.get("child")
    return str(child.get("child", "")) if isinstance(child, dict) else ""


def figures(record: FiguresContext) -> list[Figure]:
    """How many placements ended in the period and why, and the children they were."""
    ended = _ended(record)
    reasons = Counter(str(ending.get("reason_for_change") or "") for _, ending in ended)
    found = [Figure(BY_REASON, "Placements that ended", len(ended))]
    found += [Figure(BY_REASON, f"{code.value}: {code.label}", reasons[code.value]) for code in PlaceChange]  # fmt: skip
    if reasons[""]:
        found.append(Figure(BY_REASON, "Not recorded (ended before the reason was asked)", reasons[""]))  # fmt: skip
    children = Counter(_child(case) for case, _ in ended)
    found.append(Figure(CHILDREN, "Children whose placement changed", len(children)))
    found.append(Figure(CHILDREN, "Children with three or more placement changes", sum(1 for n in children.values() if n >= 3)))  # fmt: skip
    return found


def listing(record: FiguresContext) -> Listing:
    """Each placement that ended in the period, as the return names its columns."""
    rows = [
        (
            _child(case),
            _return_day(ending["ends_on"]),
            ending.get("reason_for_change") or "",
            _return_day(ending.get("new_placement_on")),
            case.reference,
        )
        for case, ending in _ended(record)
    ]
    columns = ("CHILD", "DEC", "REASON_PLACE_CHANGE", "DECOM", "CASE")
    return Listing("Placement changes", columns, rows)


def _return_day(day: str | None) -> str:
    """A day as the return writes it: DD/MM/YYYY."""
    return date.fromisoformat(day).strftime("%d/%m/%Y") if day else ""

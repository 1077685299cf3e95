"""A foster carer's chronology: every case about them over time, across processes, for their annual
review and the fostering panel (the Norfolk review's panels had no whole picture).

Each case, oldest first: what it was (its process), when it opened and closed, what was decided
and when, and what was recommended (its actions) and whether each was followed: done, not
needed, carried on elsewhere, still open, or overdue. Left out: what the law says leaves the
carer's record (an allegation found false or malicious, unless the carer consented to its being
kept: views.record_of decides it, as for `carer show`), and any restricted case the reader may not
open (models/restriction.py); without a reader, every restricted case is left out. Reading it
keeps a view in each case's access log, with the chronology as its reason.
"""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import accounts, restriction
from models.calendar import WorkingCalendar
from models.policy import Policy
from models.tables import Case
from models.views import case_view, record_of

REASON = "the carer's chronology"


def chronology(
    session: Session,
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    carer: str,
    now: datetime,
    reader: str | None = None,
    via: str = "cli",
) -> dict[str, Any]:
    """Return the carer's chronology as the reader may see it (none: no restricted case)."""
    carer = carer.strip()
    record = record_of(session, carer=carer)
    refs = [c["reference"] for c in record["cases"]]
    found = list(session.exec(select(Case).where(col(Case.reference).in_(refs))).all())
    open_to = restriction.allowed(session, found)
    shown = [
        c
        for c in found
        if not c.restricted or (reader is not None and reader in open_to[c.id or 0])
    ]
    entries = []
    for case in sorted(shown, key=lambda c: (c.opened_at, c.reference)):
        if reader is not None:  # every view of a case is kept, with why
            accounts.log_view(session, case=case, staff_id=reader, now=now, reason=REASON, via=via)
        view = case_view(
            session=session, policy=policy, calendar=calendar, reference=case.reference, now=now
        )
        entries.append(_entry(policy, view))
    return {"carer": carer, "cases": entries}


def _entry(policy: Policy, view: dict[str, Any]) -> dict[str, Any]:
    actions = view["actions"]
    followed = Counter("overdue" if a["overdue"] else a["status"] for a in actions)
    return {
        "reference": view["reference"],
        "process": policy.process(view["process"]).title,
        "status": view["status"],
        "opened_at": view["opened_at"],
        "closed_at": view["closed_at"],
        "headline": view.get("headline"),
        "decisions": [
            {
                "what": _words(d["kind"]),
                "decided": _words(d["value"]),
                "day": d["decided_at"],
            }
            for d in view["decisions"]
        ],
        "asked_for": [
            {
                "title": a["title"],
                "owner": a["owner"],
                "due": a["due"],
                "status": "overdue" if a["overdue"] else a["status"],
            }
            for a in actions
        ],
        "followed": dict(followed),
    }


def _words(code: str) -> str:
    """A decision's code as words (as the case's timeline writes it)."""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]

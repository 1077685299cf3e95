"""A case's timeline: everything that happened to it, in order, in the words of its process.

Read from the case's view (models/views.py) and the notices sent about it; nothing here is
stored. Each entry is a moment, what happened (a sentence with the step's title, the event's or
the decision's words), and who did it (a staff id: the page shows their name).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from web.render import long_date


@dataclass(frozen=True)
class Entry:
    at: str  # ISO moment
    what: str
    who: str | None = None  # a staff id
    detail: str | None = None  # a reason, a rationale, a subject


def timeline(
    view: Mapping[str, Any],
    notices: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    events: Mapping[str, str],
    *,
    newest_first: bool = True,
) -> list[Entry]:
    """Return the case's entries, newest first (or oldest first)."""
    found = [Entry(view["opened_at"], "Case opened", view.get("opened_by"))]
    for step in view["steps"]:
        found.extend(_step(step, titles.get(step["step"], step["step"])))
    for decision in view["decisions"]:
        found.append(
            Entry(
                decision["decided_at"],
                f"Decided: {_words(decision['kind'])}: {decision['value']}",
                decision["author"],
            )
        )
        for r in decision["rationale"]:
            found.append(
                Entry(
                    r["recorded_at"],
                    f"Rationale added: {_words(decision['kind'])}",
                    r["author"],
                    r["text"],
                )
            )
    for action in view["actions"]:
        for u in action["history"]:
            moved = f", now due {long_date(u['new_due'])}" if u.get("new_due") else ""
            found.append(
                Entry(
                    u["at"],
                    f"Action “{action['title']}”: {_words(u['status'])}{moved}",
                    u["by"],
                    u["reason"],
                )
            )
    for event in view.get("events", []):
        words = events.get(event["event"])
        if words:
            found.append(Entry(event["at"], words[:1].upper() + words[1:]))
    for notice in notices:
        found.append(Entry(notice["created_at"], f"Notice sent: {notice['subject']}"))
        for d in notice.get("deliveries", []):  # each person acknowledges their own
            if d.get("acknowledged_at"):
                found.append(
                    Entry(
                        d["acknowledged_at"], f"Notice acknowledged: {notice['subject']}", d["to"]
                    )
                )
    if view.get("closed_at"):
        found.append(Entry(view["closed_at"], "Case closed"))
    in_order = sorted(found, key=lambda e: _moment(e.at))  # what happened at one moment: as listed
    return in_order[::-1] if newest_first else in_order


def _step(step: Mapping[str, Any], title: str) -> list[Entry]:
    due = f", due {long_date(step['due'])}" if step.get("due") else ""
    found = [Entry(step["opened"], f"{title}: opened{due}")]
    for stop in step.get("stops", []):
        found.append(
            Entry(
                stop["stopped_at"],
                f"{title}: clock stopped",
                stop.get("recorded_by"),
                stop["reason"],
            )
        )
        if stop.get("resumed_at"):
            found.append(
                Entry(stop["resumed_at"], f"{title}: clock started again", stop.get("resumed_by"))
            )
    for ext in step.get("extensions", []):
        if ext.get("recorded_at"):
            found.append(
                Entry(
                    ext["recorded_at"],
                    f"{title}: extended to {ext['to']}, now due {long_date(ext['to_due'])}",
                    ext.get("recorded_by"),
                    ext["reason"],
                )
            )
    if step.get("closed"):
        how = {
            "skipped": "not needed",
            "lapsed": "window closed",
            "ended": "ended",
        }.get(step["status"], "done late" if step["timeliness"] == "late" else "done")
        found.append(Entry(step["closed"], f"{title}: {how}", step.get("by")))
    return found


def _words(code: str) -> str:
    return code.replace("_", " ")


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)

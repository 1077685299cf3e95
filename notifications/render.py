"""Notices as text and HTML: one Jinja2 template per notice kind (notifications/templates/<kind>.j2),
laid out once as plain text and once as autoescaped HTML. An undefined variable is an error, never a
blank. A notice carries the case reference, step, dates, the basis and who must act: no names of
children or carers and no allegation detail (DESIGN rule 8) — the context given here has none.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from models.escalation import Kind
from notifications.notices import in_words


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _day(value: str | date) -> str:
    """A day as people read it: Monday 7 December 2026."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%A} {day.day} {day:%B %Y}"


def _moment(value: str) -> str:
    """A moment as given (its caller gives local time), as people read it: Tuesday 1 December 2026
    at 09:30."""
    moment = datetime.fromisoformat(value)
    return f"{_day(moment.date())} at {moment:%H:%M}"


@cache
def _environment(html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("notifications", "templates"),
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    return env


def render(
    *,
    notice_id: int,
    key: str,
    kind: Kind,
    reference: str,
    rung: int,
    clock: str,
    facts: Mapping[str, Any],
    recipients: Sequence[tuple[str, str]],  # (name, why: the policy's recipient codes)
    unfilled: Sequence[str],
    ack_within: str,
    link: str | None,
    ack_link: str | None = None,
    process: str = "",
    take_up: tuple[str, str] | None = None,
) -> Rendered:
    """Render one notice; raises jinja2.UndefinedError if a template uses a fact not given.

    `link` is the case's page in the web app (an invitation's: its one-time link), `ack_link` the
    page that acknowledges it (each delivery swaps it for its own one-click link as it is sent),
    `process` the title of the case's process, `take_up` what another process offers to take up
    (its words and link: e.g. the child's IRO may challenge it). People are named, and why each is told is said in
    words: no staff id, recipient code or role code reaches a notice."""
    context = {
        "notice": {
            "id": notice_id,
            "key": key,
            "kind": kind.value,
            "reference": reference,
            "rung": rung,
            "clock": clock,
            "needs_ack": kind.needs_acknowledgement,
        },
        "facts": dict(facts),
        "recipients": [{"name": s, "because": in_words(b)} for s, b in recipients],
        "unfilled": [in_words(u) for u in unfilled],
        "ack_within": ack_within,
        "link": link or "",
        "ack_link": ack_link or "",
        "process": process,
        "take_up": {"label": take_up[0], "link": take_up[1]} if take_up else None,
    }
    name = f"{kind.value}.j2"
    text_template = _environment(False).get_template(name)
    html_template = _environment(True).get_template(name)
    text = text_template.render(layout="_layout.txt.j2", **context)
    html = html_template.render(layout="_layout.html.j2", **context)
    subject_context = text_template.new_context({"layout": "_layout.txt.j2", **context})
    subject = "".join(text_template.blocks["subject"](subject_context)).strip()
    return Rendered(subject=" ".join(subject.split()), text=_tidy(text), html=html)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"

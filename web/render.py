"""Pages as the browser receives them: Jinja2 templates (GOV.UK Design System markup, by area
under web/templates/), the filters that write dates as people read them, and the headers every
answer carries: a Content-Security-Policy with a nonce per page, no caching, no sniffing.
"""

import csv
import io
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from models.enums import Role
from models.errors import FieldErrors, InputError

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Person(Protocol):
    """Who a page is for, as the page needs them (web/deps.py's `Me`)."""

    @property
    def csrf(self) -> str: ...

    @property
    def manager(self) -> bool: ...

    @property
    def roles(self) -> frozenset[Role]: ...


class Renderer:
    """Renders pages for one service, its dates in one time zone."""

    def __init__(self, service: str, tz: ZoneInfo) -> None:
        self.service, self.tz = service, tz
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["long_date"] = long_date
        self.env.filters["long_moment"] = self.long_moment
        self.env.filters["role"] = lambda value: Role(value).label
        self.env.filters["person"] = person

    def __call__(
        self,
        request: Request,
        template: str,
        me: Person | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """Render a page for the person signed in (or nobody), with its errors and banner."""
        nonce = secrets.token_urlsafe(16)
        html = self.env.get_template(template).render(
            service=self.service,
            me=me,
            csrf=me.csrf if me else context.pop("csrf", ""),
            nonce=nonce,
            nav=navigation(me),
            here=request.url.path,
            errors=[(f, sentence(m)) for f, m in context.pop("errors", [])],
            field_errors={f: sentence(m) for f, m in context.get("field_errors_list", [])},
            flash=context.pop("flash", None),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        harden(response, nonce)
        return response

    def refusal(
        self, request: Request, me: Person | None, status: int, title: str, message: str
    ) -> HTMLResponse:
        """A page saying what was refused and why."""
        return self(request, "error.html", me, status, title=title, message=sentence(message))

    def long_moment(self, value: str | None) -> str:
        """e.g. '2 November 2026 at 09:15', local time; a day's start (what an event of a day is
        kept as) as the day alone."""
        if not value:
            return "\u2013"  # an en dash: no date
        moment = datetime.fromisoformat(value)
        # a moment without an offset was typed as local time (a start's "received at")
        local = moment.astimezone(self.tz) if moment.tzinfo else moment
        if (local.hour, local.minute, local.second) == (0, 0, 0):  # a day, not a moment (an event)
            return f"{local.day} {local:%B %Y}"
        return f"{local.day} {local:%B %Y at %H:%M}"


@pass_context
def person(context: Context, staff_id: str | None) -> str:
    """A member of staff as a page names them: by name (with their id where two share a name),
    from the page's `people`; an id the directory does not hold, as it is."""
    if not staff_id:
        return "\u2013"
    return str((context.get("people") or {}).get(staff_id, staff_id))


def navigation(me: Person | None) -> list[tuple[str, str]]:
    """The service's menu for the person: managers see every case, timeliness and staff too."""
    nav = [("/my-work", "My work"), ("/notices", "My notices"), ("/search", "Find a case")]
    if me is not None and me.roles & {Role.iro, Role.iro_manager}:
        nav.insert(1, ("/my-children", "My children"))
    if me is not None and me.manager:
        nav += [("/board", "Open cases"), ("/timeliness", "Timeliness"), ("/staff", "Staff")]
        nav += [("/service-health", "Service health")]
    return nav


def harden(response: Response, nonce: str | None = None) -> None:
    """The headers every answer carries (a page's scripts run only with its nonce)."""
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def csv_download(filename: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """A download: the header, then the rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    harden(response)
    return response


def said(refused: InputError, words: Mapping[str, str]) -> str:
    """A refusal in a page's words: a field the service named (`new_due`) by its label on the page
    (`words`), never the service's own name for it."""
    if isinstance(refused, FieldErrors) and refused.arguments and refused.fields:
        name, message = refused.fields[0]
        return f"{words.get(name, name)}{refused.sep}{message}"
    return str(refused)


def long_date(value: str | date | None) -> str:
    """e.g. 'Monday 2 November 2026'."""
    if not value:
        return "\u2013"  # an en dash: no date
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%A} {day.day} {day:%B %Y}"


def sentence(message: str) -> str:
    """A refusal as the service's pages write it: a capital first letter (the CLI's start small),
    unless it starts with an id or a reference (lado-2, ALG-2026-0001), left as written."""
    first = message.split(" ", 1)[0]
    return message[:1].upper() + message[1:] if first.isalpha() else message

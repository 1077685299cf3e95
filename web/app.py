"""The browser app: officers, IROs and managers signed in, on GOV.UK Design System pages.

Every page reads through the same service layer as the CLI (models/, notifications/): this module
holds no SQL, no clock arithmetic and no rule of its own. It adds what a browser needs: a signed,
expiring, HttpOnly, SameSite session cookie (its token's hash is all the database keeps), a CSRF
token on every form, a Content-Security-Policy, and the access log of every case viewed.
"""

import csv
import gc
import hmac
import io
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import BadSignature, TimestampSigner
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import accounts, followup, registry, reports, steps, views, worklist
from models.calendar import WorkingCalendar, add_months
from models.cases import get_case
from models.db import session_scope
from models.enums import Role
from models.errors import InputError
from models.policy import Policy
from models.staff import get_staff, list_staff
from notifications.notices import acknowledge as acknowledge_notice
from notifications.notices import notice_rows
from web import charts
from web.record import Recording

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SESSION_COOKIE = "safeguard_session"
SIGN_IN_COOKIE = "safeguard_sign_in"  # the sign-in form's own CSRF token (before any session)
MANAGERS = frozenset(
    {
        Role.team_manager,
        Role.service_manager,
        Role.head_of_service,
        Role.director,
        Role.lado_manager,
        Role.iro_manager,
        Role.complaints_manager,
    }
)


@dataclass(frozen=True)
class WebDeps:
    """What the app is given: the record, the policy and calendar, the one clock, the secret."""

    engine: Engine
    policy: Policy
    calendar: WorkingCalendar
    clock: Callable[[], datetime]
    secret: bytes
    service: str = "Safeguard"
    prefect_ui: str | None = None  # the Prefect UI, for each case's run link
    secure_cookies: bool = False  # True behind HTTPS (the cookie is then sent over HTTPS only)
    session_lasts: timedelta = accounts.SESSION_LASTS
    # The flow's side, never waited for (DESIGN rule 13): nudge a case's run to apply a stored
    # record (its run id, the submission), and create a new case's run. Both run in the background;
    # what they miss the sweep repairs.
    carry_on: Callable[[str | None, int], None] = lambda run_id, submission_id: None
    launch: Callable[[int], None] = lambda case_id: None


@dataclass(frozen=True)
class Me:
    """The signed-in person: who, their roles, their session's CSRF token and start."""

    id: str
    name: str
    roles: frozenset[Role]
    csrf: str
    since: datetime
    token: str = field(repr=False)

    @property
    def manager(self) -> bool:
        return bool(self.roles & MANAGERS)


class SignInNeeded(Exception):
    """No live session: a page sends the browser to sign in; a form is refused."""


class Forbidden(Exception):
    """Signed in, but this page or form is not for this person (their role or the form's token)."""


def create_app(deps: WebDeps) -> FastAPI:
    app = FastAPI(title=deps.service, docs_url=None, redoc_url=None, openapi_url=None)
    if STATIC.is_dir():  # built by `make` (npm and sass): web/static
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
        if (STATIC / "assets").is_dir():
            app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")
    pages = Pages(deps)
    pages.routes(app)
    # What start-up built (modules, the policy, the calendar) lives as long as the process: moved
    # out of the garbage collector's sight, a big page no longer pauses for a full collection of
    # it (the board's 95th percentile: bench/web_pages.py).
    gc.freeze()
    return app


class Pages(Recording):
    """The routes, each a page or a form over the service layer."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.started: dict[str, str] = {}  # a start form's key -> the case it started
        self.signer = TimestampSigner(deps.secret, salt="safeguard-session")
        self.sign_in_signer = TimestampSigner(deps.secret, salt="safeguard-sign-in")
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["long_date"] = self._long_date
        self.env.filters["long_moment"] = self._long_moment
        self.env.filters["role"] = lambda value: Role(value).label

    # --- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.deps.engine) as session:
            yield session

    def me(self, request: Request) -> Me:
        """Return the signed-in person, or raise SignInNeeded."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise SignInNeeded
        token = _unsigned(self.signer, cookie, int(self.deps.session_lasts.total_seconds()))
        if token is None:  # altered, or older than a session lasts
            raise SignInNeeded
        with self.session() as session:
            live = accounts.session_of(session, token, self.deps.clock())
            if live is None:
                raise SignInNeeded
            person = get_staff(session, live.staff_id)
            return Me(
                person.id, person.name, frozenset(person.roles), live.csrf, live.created_at, token
            )

    async def form(self, request: Request, me: Me | None = None) -> dict[str, str]:
        """Return the posted form, refused (Forbidden) unless it carries the right CSRF token."""
        data = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        given = data.get("csrf_token", "")
        if me is not None:
            expected = me.csrf
        else:
            expected = _unsigned(self.sign_in_signer, request.cookies.get(SIGN_IN_COOKIE, ""), 7200) or ""  # fmt: skip
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden(
                "This form has expired or did not come from this service: go back, reload the "
                "page and try again."
            )
        return data

    def render(
        self,
        request: Request,
        template: str,
        me: Me | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        nav = [("/my-work", "My work"), ("/notices", "My notices")]
        if me is not None and me.manager:
            nav += [
                ("/board", "Open cases"),
                ("/timeliness", "Timeliness"),
                ("/staff", "Staff"),
            ]
        html = self.env.get_template(template).render(
            service=self.deps.service,
            me=me,
            csrf=me.csrf if me else context.pop("csrf", ""),
            nonce=nonce,
            nav=nav,
            here=request.url.path,
            errors=[(f, _sentence(m)) for f, m in context.pop("errors", [])],
            field_errors={f: _sentence(m) for f, m in context.get("field_errors_list", [])},
            flash=context.pop("flash", None),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self._harden(response, nonce)
        return response

    def _harden(self, response: Response, nonce: str | None = None) -> None:
        scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="strict" if name == SIGN_IN_COOKIE else "lax",
            secure=self.deps.secure_cookies,
            path="/",
        )

    def _long_date(self, value: str | date | None) -> str:
        if not value:
            return "\u2013"  # an en dash: no date
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return f"{day:%A} {day.day} {day:%B %Y}"

    def _long_moment(self, value: str | None) -> str:
        if not value:
            return "\u2013"  # an en dash: no date
        local = datetime.fromisoformat(value).astimezone(self.deps.calendar.tz)
        return f"{local.day} {local:%B %Y at %H:%M}"

    def refuse(
        self, request: Request, me: Me | None, status: int, title: str, message: str
    ) -> HTMLResponse:
        return self.render(
            request, "error.html", me, status, title=title, message=_sentence(message)
        )

    # --- routes ------------------------------------------------------------------------------------

    def routes(self, app: FastAPI) -> None:
        @app.exception_handler(SignInNeeded)
        async def _sign_in(request: Request, _: SignInNeeded) -> Response:
            if request.method == "GET":
                query = urlencode({"next": request.url.path})
                return RedirectResponse(f"/sign-in?{query}", status_code=303)
            return self.refuse(
                request, None, 401, "Sign in first", "Your session has ended: sign in again."
            )

        @app.exception_handler(Forbidden)
        async def _forbidden(request: Request, exc: Forbidden) -> Response:
            me = None
            with suppress(SignInNeeded):
                me = self.me(request)
            return self.refuse(request, me, 403, "You cannot do that", _sentence(str(exc)))

        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/")
        def home() -> Response:
            return RedirectResponse("/my-work", status_code=303)

        @app.get("/sign-in")
        def sign_in_page(
            request: Request, next: str = "/my-work", done: str | None = None
        ) -> Response:
            said = "Your password is set: sign in with it" if done == "password" else None
            return self._sign_in_form(request, next, flash=said)

        @app.post("/sign-in")
        async def sign_in(request: Request) -> Response:
            data = await self.form(request)
            staff_id, password = data.get("staff_id", "").strip(), data.get("password", "")
            target = _safe_next(data.get("next", "/my-work"))
            missing = [
                (name, f"Enter your {label}")
                for name, label, value in (
                    ("staff_id", "staff id", staff_id),
                    ("password", "password", password),
                )
                if not value
            ]
            if missing:
                return self._sign_in_form(request, target, staff_id, missing, 400)
            refused: InputError | None = None
            with self.session() as session:  # a refusal is kept too: the count, the audit entry
                try:
                    begun = accounts.sign_in(
                        session,
                        staff_id=staff_id,
                        password=password,
                        now=self.deps.clock(),
                        lasts=self.deps.session_lasts,
                    )
                except InputError as error:
                    refused = error
            if refused is not None:
                return self._sign_in_form(
                    request, target, staff_id, [("staff_id", str(refused))], 400
                )
            response = RedirectResponse(target, status_code=303)
            self._cookie(
                response,
                SESSION_COOKIE,
                self.signer.sign(begun.token).decode(),
                int(self.deps.session_lasts.total_seconds()),
            )
            response.delete_cookie(SIGN_IN_COOKIE, path="/")
            return response

        @app.get("/invitation/{token}")
        def invitation_page(request: Request, token: str) -> Response:
            try:
                with self.session() as session:
                    staff_id = accounts.invited(session, token, self.deps.clock()).staff_id
            except InputError as refused:
                return self._invitation(request, token, None, status=404, message=_sentence(str(refused)))  # fmt: skip
            return self._invitation(request, token, staff_id)

        @app.post("/invitation/{token}")
        async def accept_invitation(request: Request, token: str) -> Response:
            data = await self.form(request)
            password, again = data.get("password", ""), data.get("again", "")
            try:
                with self.session() as session:
                    staff_id = accounts.invited(session, token, self.deps.clock()).staff_id
            except InputError as refused:
                return self._invitation(request, token, None, status=404, message=_sentence(str(refused)))  # fmt: skip
            if password != again:
                return self._invitation(request, token, staff_id, [("again", "The two passwords differ: type the same password twice")])  # fmt: skip
            try:
                with self.session() as session:
                    accounts.accept_invite(session, token=token, password=password, now=self.deps.clock())  # fmt: skip
            except InputError as refused:
                return self._invitation(request, token, staff_id, [("password", _sentence(str(refused)))])  # fmt: skip
            return RedirectResponse("/sign-in?done=password", status_code=303)

        @app.post("/sign-out")
        async def sign_out(request: Request) -> Response:
            me = self.me(request)
            await self.form(request, me)
            with self.session() as session:
                accounts.sign_out(session, me.token, self.deps.clock())
            response = RedirectResponse("/sign-in", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        @app.get("/my-work")
        def my_work(request: Request, done: str | None = None) -> Response:
            me = self.me(request)
            now = self.deps.clock()
            with self.session() as session:
                deps = self.deps
                mine = worklist.my_steps(session=session, policy=deps.policy, calendar=deps.calendar, now=now, staff_id=me.id)  # fmt: skip
                actions = worklist.my_actions(session=session, calendar=deps.calendar, now=now, staff_id=me.id)  # fmt: skip
                awaiting = [n for n in worklist.my_notices(session, me.id) if n["awaiting_ack"]]
                cases = worklist.my_cases(session, me.id)
            flash = f"Notice {done.removeprefix('ack-')} acknowledged" if done and done.startswith("ack-") else None  # fmt: skip
            starts = [
                (p.code, p.noun.removeprefix("an ").removeprefix("a "))
                for p in registry.processes()
                if p.may_start & me.roles
            ]
            return self.render(
                request, "my_work.html", me, title="My work", steps=mine, actions=actions,
                awaiting=awaiting, cases=cases, flash=flash, starts=starts,
            )  # fmt: skip

        @app.get("/notices")
        def my_notices(request: Request) -> Response:
            me = self.me(request)
            with self.session() as session:
                notices = worklist.my_notices(session, me.id)
            return self.render(request, "notices.html", me, title="My notices", notices=notices)

        @app.post("/notices/{notice_id}/acknowledge")
        async def acknowledge(request: Request, notice_id: int) -> Response:
            me = self.me(request)
            await self.form(request, me)
            try:
                with self.session() as session:
                    acknowledge_notice(
                        session, notice_id=notice_id, staff_id=me.id, now=self.deps.clock()
                    )
            except InputError as refused:
                return self.refuse(
                    request, me, 400, "The notice was not acknowledged", str(refused)
                )
            return RedirectResponse(f"/my-work?done=ack-{notice_id}", status_code=303)

        @app.get("/cases/{reference}")
        def case_page(
            request: Request,
            reference: str,
            recorded: str | None = None,
            done: str | None = None,
        ) -> Response:
            me = self.me(request)
            said = {"rationale": "Rationale added", "action": "Action updated"}.get(done or "")
            return self._case(request, me, reference, reason=None, recorded=recorded, said=said)

        @app.get("/cases/{reference}/reason")
        def reason_page(request: Request, reference: str) -> Response:
            me = self.me(request)
            return self.render(request, "reason.html", me, title=f"Why open {reference}", reference=reference, reason="")  # fmt: skip

        @app.post("/cases/{reference}/reason")
        async def give_reason(request: Request, reference: str) -> Response:
            me = self.me(request)
            data = await self.form(request, me)
            reason = data.get("reason", "").strip()
            if not reason:
                message = f"Say why you need to open {reference}"
                return self.render(
                    request, "reason.html", me, 400, title=f"Why open {reference}", reference=reference,
                    reason="", errors=[("reason", message)], field_errors_list=[("reason", message)],
                )  # fmt: skip
            return self._case(request, me, reference, reason=reason)

        @app.get("/cases/{reference}/record/{step}")
        def record_page(request: Request, reference: str, step: str) -> Response:
            me = self.me(request)
            return self.record_form(request, me, reference, step)

        @app.post("/cases/{reference}/record/{step}")
        async def record_step(request: Request, reference: str, step: str) -> Response:
            me = self.me(request)
            await self.form(request, me)
            return self.record(request, me, reference, step, await request.form())

        @app.get("/start/{process}")
        def start_page(request: Request, process: str) -> Response:
            me = self.me(request)
            return self.start_form(request, me, process)

        @app.post("/start/{process}")
        async def start_case(request: Request, process: str) -> Response:
            me = self.me(request)
            await self.form(request, me)
            return self.start(request, me, process, await request.form())

        @app.post("/cases/{reference}/decisions/{decision_id}/rationale")
        async def add_rationale(request: Request, reference: str, decision_id: int) -> Response:
            me = self.me(request)
            data = await self.form(request, me)
            try:
                with self.session() as session:
                    followup.add_rationale(session=session, decision_id=decision_id, text=data.get("rationale", ""), author_id=me.id, now=self.deps.clock())  # fmt: skip
            except InputError as refused:
                return self.refuse(request, me, 400, "The rationale was not added", str(refused))
            return RedirectResponse(f"/cases/{reference}?done=rationale#decisions", status_code=303)

        @app.post("/cases/{reference}/actions/{action_id}")
        async def update_action(request: Request, reference: str, action_id: int) -> Response:
            me = self.me(request)
            data = await self.form(request, me)
            due = data.get("new_due", "").strip()
            try:
                new_due = date.fromisoformat(due) if due else None
            except ValueError:
                return self.refuse(request, me, 400, "The action was not updated", f"new due {due!r} is not a date: write it as YYYY-MM-DD")  # fmt: skip
            try:
                with self.session() as session:
                    followup.update_action(
                        session=session,
                        policy=self.deps.policy,
                        calendar=self.deps.calendar,
                        action_id=action_id,
                        status=data.get("status", ""),
                        reason=data.get("reason", "").strip() or None,
                        new_due=new_due,
                        author_id=me.id,
                        now=self.deps.clock(),
                    )
            except InputError as refused:
                return self.refuse(request, me, 400, "The action was not updated", str(refused))
            return RedirectResponse(f"/cases/{reference}?done=action#actions", status_code=303)

        @app.get("/board")
        def board_page(
            request: Request,
            process: str | None = None,
            team: str | None = None,
            person: str | None = None,
            rag: str | None = None,
        ) -> Response:
            me = self._manager(request)
            filters = _filters(process, team, person, rag)
            rows = self._board(filters)
            with self.session() as session:
                teams = sorted(
                    {p.line_manager_id for p in list_staff(session) if p.line_manager_id}
                )
            return self.render(
                request, "board.html", me, title="Every open case", rows=rows, filters=filters,
                processes=[p.code for p in registry.processes()], teams=teams,
                titles={p.code: self.deps.policy.process(p.code).title for p in registry.processes()},
                query=urlencode({k: v for k, v in filters.items() if v}),
            )  # fmt: skip

        @app.get("/board.csv")
        def board_csv(
            request: Request,
            process: str | None = None,
            team: str | None = None,
            person: str | None = None,
            rag: str | None = None,
        ) -> Response:
            self._manager(request)
            rows = self._board(_filters(process, team, person, rag))
            header = list(worklist.Row.__dataclass_fields__)
            return self._csv("open-cases.csv", header, [list(r.as_dict().values()) for r in rows])

        @app.get("/timeliness")
        def timeliness_page(request: Request, process: str = "allegation", months: int = 6) -> Response:  # fmt: skip
            me = self._manager(request)
            if process not in {p.code for p in registry.processes()}:
                return self.refuse(request, me, 404, "Not found", f"no process {process!r}")
            bars, measures, by_step = self._timeliness(process, months)
            title = self.deps.policy.process(process).title
            return self.render(
                request, "timeliness.html", me, title=f"Timeliness: {title}", heading=title,
                process=process, processes=[p.code for p in registry.processes()], months=months,
                bars=bars, series=[name for name, _ in charts.SERIES], measures=measures, by_step=by_step,
                chart=Markup(charts.stacked_bars("steps", f"{title}: steps done each month", bars)),
            )  # fmt: skip

        @app.get("/timeliness.csv")
        def timeliness_csv(request: Request, process: str = "allegation", months: int = 6) -> Response:  # fmt: skip
            self._manager(request)
            if process not in {p.code for p in registry.processes()}:
                return Response("no such process\n", status_code=404, media_type="text/plain")
            bars, _, _ = self._timeliness(process, months)
            series = [name for name, _ in charts.SERIES]
            rows = [[bar.label, *[bar.counts.get(name, 0) for name in series]] for bar in bars]
            return self._csv(f"timeliness-{process}.csv", ["month", *series], rows)

        @app.get("/staff")
        def staff_page(request: Request) -> Response:
            me = self._manager(request)
            with self.session() as session:
                people = [p.as_dict() for p in list_staff(session)]
            return self.render(request, "staff.html", me, title="Staff directory", people=people)

    def _timeliness(
        self, process: str, months: int
    ) -> tuple[list[charts.Bar], list[dict[str, Any]], list[dict[str, Any]]]:
        """Steps done each month (the last `months`, this one included); over them all, the
        measures (a step's targets, the process's own) and each step's counts."""
        months = min(max(months, 1), 24)
        now = self.deps.clock()
        today = self.deps.calendar.local_date(now)
        firsts = [add_months(today.replace(day=1), -n) for n in reversed(range(months))]
        bars = []
        with self.session() as session:
            for first in firsts:
                last = add_months(first, 1) - timedelta(days=1)
                report = reports.timeliness(session=session, policy=self.deps.policy, calendar=self.deps.calendar, process=process, start=first, end=min(last, today), now=now)  # fmt: skip
                counts = {name: sum(r.counts[name] for r in report.steps) for name, _ in charts.SERIES}  # fmt: skip
                bars.append(charts.Bar(f"{first:%b %Y}", counts))
            whole = reports.timeliness(session=session, policy=self.deps.policy, calendar=self.deps.calendar, process=process, start=firsts[0], end=today, now=now)  # fmt: skip
        return bars, [m.as_dict() for m in whole.measures], [r.as_dict() for r in whole.steps]

    def _csv(self, filename: str, header: list[str], rows: list[list[Any]]) -> Response:
        """A download: the header, then the rows."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        self._harden(response)
        return response

    def _board(self, filters: dict[str, str | None]) -> list[worklist.Row]:
        with self.session() as session:
            return worklist.board(
                session=session,
                policy=self.deps.policy,
                calendar=self.deps.calendar,
                now=self.deps.clock(),
                **filters,
            )

    def _manager(self, request: Request) -> Me:
        me = self.me(request)
        if not me.manager:
            raise Forbidden(
                "This page is for managers: it shows every open case and who it waits on."
            )
        return me

    def _sign_in_form(
        self,
        request: Request,
        target: str,
        staff_id: str = "",
        errors: list[tuple[str, str]] | None = None,
        status: int = 200,
        flash: str | None = None,
    ) -> HTMLResponse:
        return self._before_session(
            request, "sign_in.html", status, title="Sign in", next=_safe_next(target),
            staff_id=staff_id, errors=errors or [], field_errors_list=errors or [], flash=flash,
        )  # fmt: skip

    def _invitation(
        self,
        request: Request,
        token: str,
        staff_id: str | None,
        errors: list[tuple[str, str]] | None = None,
        status: int | None = None,
        message: str = "",
    ) -> HTMLResponse:
        return self._before_session(
            request, "invitation.html", status or (400 if errors else 200), title="Set your password",
            token=token, staff_id=staff_id, message=message, errors=errors or [],
            field_errors_list=errors or [],
        )  # fmt: skip

    def _before_session(
        self, request: Request, template: str, status: int, **context: Any
    ) -> HTMLResponse:
        """A page with a form before any session (sign in, an invitation): its CSRF token pairs
        with a signed cookie of its own."""
        raw = secrets.token_urlsafe(32)
        response = self.render(request, template, None, status, csrf=raw, **context)
        self._cookie(response, SIGN_IN_COOKIE, self.sign_in_signer.sign(raw).decode(), 7200)
        return response

    def _case(
        self,
        request: Request,
        me: Me,
        reference: str,
        reason: str | None,
        recorded: str | None = None,
        said: str | None = None,
    ) -> Response:
        now = self.deps.clock()
        try:
            with self.session() as session:
                case = get_case(session, reference)
                try:
                    accounts.log_view(session, case=case, staff_id=me.id, now=now, reason=reason, since=me.since)  # fmt: skip
                except accounts.ReasonNeeded:
                    return RedirectResponse(f"/cases/{reference}/reason", status_code=303)
                view = views.case_view(session=session, policy=self.deps.policy, calendar=self.deps.calendar, reference=reference, now=now)  # fmt: skip
                notices = notice_rows(session, reference=reference, limit=100)
                pending = [p.kind for p in steps.being_applied(session, case.id or 0)]
                log = accounts.access_log(session, case.id or 0) if accounts.may_see_access_log(session, case, me.id) else None  # fmt: skip
        except InputError as refused:
            return self.refuse(request, me, 404, "Case not found", str(refused))
        rules = self.deps.policy.process(view["process"])
        titles = {name: rule.title for name, rule in rules.steps.items()}
        decl = registry.get(view["process"])
        recordable = [
            (s["step"], titles.get(s["step"], s["step"]))
            for s in view["steps"]
            if s["status"] in ("open", "stopped")
            and s["step"] not in pending
            and any(d.name == s["step"] and d.may_record & me.roles for d in decl.steps)
        ]
        run = f"{self.deps.prefect_ui}/runs/flow-run/{view['flow_run_id']}" if self.deps.prefect_ui and view["flow_run_id"] else None  # fmt: skip
        return self.render(
            request, "case.html", me, title=reference, case=view, notices=notices, access_log=log,
            titles=titles, run_link=run, pending=pending, recordable=recordable,
            flash=f"Saved: {titles.get(recorded, recorded)}" if recorded else said,
        )  # fmt: skip


def _filters(
    process: str | None, team: str | None, person: str | None, rag: str | None
) -> dict[str, str | None]:
    return {
        "process": process or None,
        "team": team or None,
        "person": (person or "").strip() or None,
        "rag": rag if rag in worklist.RAG_ORDER else None,
    }


def _unsigned(signer: TimestampSigner, signed: str, max_age: int) -> str | None:
    """Return the value a signed cookie carries, or None if it is altered in any way or too old.
    The signature must be exactly the one this key gives: base64 can spell the same bytes more
    than one way (the last character's spare bits), and a cookie altered there is refused too."""
    value, _, signature = signed.rpartition(".")
    if not value or not hmac.compare_digest(
        signature.encode(), signer.get_signature(value.encode())
    ):
        return None
    try:
        return signer.unsign(signed, max_age=max_age).decode()
    except BadSignature:  # too old (SignatureExpired), or not ours
        return None


def _sentence(message: str) -> str:
    """A refusal as the service's pages write it: a capital first letter (the CLI's start small),
    unless it starts with an id or a reference (lado-2, ALG-2026-0001), left as written."""
    first = message.split(" ", 1)[0]
    return message[:1].upper() + message[1:] if first.isalpha() else message


def _safe_next(target: str) -> str:
    """Only a path on this site (never another site: an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/my-work"

"""The browser app: officers, IROs and managers signed in, on GOV.UK Design System pages.

Every page reads and writes through the same service layer as the CLI (models/casework.py): this
package holds no SQL, no clock arithmetic and no rule of its own. The pages are routers by area
(web/pages/); what they all depend on (the signed-in person, managers only, a CSRF-checked form) is
web/deps.py; how a page is rendered and what headers it carries (the Content-Security-Policy) is
web/render.py. Every view of a case is logged.
"""

import gc
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from models import restriction
from models.restriction import Restricted
from web.deps import Forbidden, Me, SignInNeeded, Site, WebDeps, signed_in
from web.pages import (
    account,
    board,
    carers,
    cases,
    children,
    clocks,
    events,
    health,
    record,
    reports,
    staff,
    takeup,
    work,
)
from web.render import Renderer, sentence

STATIC = Path(__file__).resolve().parent / "static"


def create_app(deps: WebDeps) -> FastAPI:
    """The app on its dependencies: the pages, the static assets, and the two refusals every page
    may meet (no session; not for this person)."""
    app = FastAPI(title=deps.service, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = Site(deps, Renderer(deps.service, deps.calendar.tz))
    if STATIC.is_dir():  # built by `make` (npm and sass): web/static
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
        if (STATIC / "assets").is_dir():
            app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")
    for area in (
        account,
        health,
        work,
        children,
        carers,
        cases,
        takeup,
        record,
        clocks,
        events,
        board,
        reports,
        staff,
    ):
        app.include_router(area.router)
    app.add_exception_handler(SignInNeeded, _sign_in_first)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(Restricted, _restricted)
    # What start-up built (modules, the policy, the calendar) lives as long as the process: moved
    # out of the garbage collector's sight, a big page no longer pauses for a full collection of
    # it (the board's 95th percentile: bench/web_pages.py).
    gc.freeze()
    return app


async def _sign_in_first(request: Request, _: Exception) -> Response:
    """No live session: a page goes to sign in (and back); a form is refused."""
    if request.method == "GET":
        return RedirectResponse(
            f"/sign-in?{urlencode({'next': request.url.path})}", status_code=303
        )
    here: Site = request.app.state.site
    return here.render.refusal(
        request, None, 401, "Sign in first", "Your session has ended: sign in again."
    )


async def _restricted(request: Request, exc: Exception) -> Response:
    """A restricted case, and this person may not open it: the attempt is kept in its access log
    (for those who read it), and the page says so."""
    assert isinstance(exc, Restricted)
    here: Site = request.app.state.site
    with here.casework() as cx:
        restriction.refused(cx.session, case_id=exc.case_id, staff_id=exc.staff_id, now=cx.now(), via="web")  # fmt: skip
    me: Me | None = None
    with suppress(SignInNeeded):
        me = signed_in(request, here)
    return here.render.refusal(request, me, 403, "This case is restricted", str(exc))


async def _forbidden(request: Request, exc: Exception) -> Response:
    """Signed in, but not for this person (or the form's token is wrong): said on a page."""
    here: Site = request.app.state.site
    me: Me | None = None
    with suppress(SignInNeeded):
        me = signed_in(request, here)
    return here.render.refusal(request, me, 403, "You cannot do that", sentence(str(exc)))

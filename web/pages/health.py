"""Is the service well: /health for whatever watches it (no sign-in, no personal data), /metrics for
Prometheus (for the bearer of the metrics token), and Service health for managers, the same in
words."""

import secrets
from collections.abc import Callable

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from models import registry
from models.health import Health
from models.health import check as check_health
from models.metrics import exposition, numbers
from web.deps import Me, Site, manager, site

router = APIRouter()

# The parts /health checks, as a manager reads them.
PARTS = {
    "database": "Database",
    "migrations": "Database version",
    "sweep": "Scheduled sweep",
    "notices": "Notices waiting",
    "prefect": "Prefect",
}


@router.get("/health")
def health(here: Site = Depends(site)) -> Response:
    """Is the service well: the database reachable and migrated, the Prefect API reachable, the
    last sweep recent, no notice undelivered for a day. 200, or 503 naming what is failing; no
    sign-in, no personal data."""
    found = _checked(here)
    return JSONResponse(found.as_dict(), status_code=200 if found.ok else 503)


@router.get("/metrics")
def metrics(request: Request, here: Site = Depends(site)) -> Response:
    """The record's state for Prometheus (its text format), for the bearer of the metrics token
    (SAFEGUARD_METRICS_TOKEN); without that setting there is no such page."""
    token = here.deps.metrics_token
    if not token:
        return Response("Not found\n", status_code=404, media_type="text/plain")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not secrets.compare_digest(given.encode(), token.encode()):
        return Response(
            "Send the metrics token: Authorization: Bearer TOKEN\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with here.casework() as cx:
        body = exposition(numbers(cx.session, cx.policy, cx.calendar, cx.now()))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


# An address's scheme in words (others are shown as their scheme: the Apprise service's name).
CHANNELS = {
    "mailto": "Email",
    "mailtos": "Email",
    "notify-email": "GOV.UK Notify email",
    "notify-sms": "GOV.UK Notify text message",
    "slack": "Slack",
    "msteams": "Microsoft Teams",
    "json": "Web service (JSON)",
}


@router.get("/service-health")
def service_health(
    request: Request, me: Me = Depends(manager), here: Site = Depends(site)
) -> Response:
    """The same, in words, for managers."""
    found = _checked(here)
    with here.casework() as cx:
        state = numbers(cx.session, cx.policy, cx.calendar, cx.now())
    titles = {code: here.deps.policy.process(code).title for code in registry.codes()}
    overdue: dict[str, list[tuple[int, int]]] = {}
    for (process, rung), count in sorted(state.overdue.items()):
        overdue.setdefault(process, []).append((rung, count))
    channels: dict[str, dict[str, int]] = {}
    for (status, channel), count in sorted(state.by_channel.items()):
        channels.setdefault(CHANNELS.get(channel, channel), {})[status] = count
    return here.render(
        request, "reports/service_health.html", me, title="Service health", health=found,
        state=state, titles=titles, overdue=overdue, channels=channels,
        parts=PARTS,
    )  # fmt: skip


def _checked(here: Site) -> Health:
    deps = here.deps
    return check_health(
        deps.engine,
        now=deps.clock(),
        sweep_every=deps.sweep_every,
        prefect=_reach(deps.prefect_api) if deps.prefect_api else None,
    )


def _reach(url: str) -> Callable[[], str | None]:
    """A check of the Prefect API at `url` (its /health), answered within 3 seconds."""

    def answer() -> str | None:
        try:
            got = httpx.get(f"{url.removesuffix('/')}/health", timeout=3)
        except httpx.HTTPError as exc:
            return f"cannot reach the Prefect API ({type(exc).__name__})"
        return None if got.status_code == 200 else f"the Prefect API answered {got.status_code}"

    return answer

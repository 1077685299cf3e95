"""The web app as a running service builds it: from the SAFEGUARD_ settings, with the real clock,
the signing key kept under SAFEGUARD_HOME, and the flow carried on through Prefect in the background.
`uvicorn --factory web.service:app_from_settings` (what `safeguard serve` and `safeguard web` run).
"""

import os
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from models.wallclock import system_clock
from safeguard import orchestration, wiring
from safeguard.nudge import NUDGE_SECONDS
from safeguard.settings import Settings, get_settings
from web.app import WebDeps, create_app
from web.oidc import Provider, ProviderSettings


def secret_of(settings: Settings) -> bytes:
    """Return the key the session cookies are signed with: SAFEGUARD_WEB_SECRET, else one made
    once and kept (readable by the owner only) under SAFEGUARD_HOME, so a restart signs no one out."""
    if settings.web_secret:
        return settings.web_secret.encode()
    path = settings.home.expanduser().resolve() / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return Path(path).read_text().strip().encode()


def provider_of(settings: Settings) -> Provider | None:
    """The council's identity provider, when signing in through one is on."""
    if settings.sign_in == "password" or not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    return Provider(
        ProviderSettings(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            claim=settings.oidc_claim,
            name=settings.oidc_name,
        ),
        clock=system_clock,
    )


def app_from_settings() -> FastAPI:
    """The app, from SAFEGUARD_ settings."""
    settings = get_settings()
    service = wiring.service(settings)
    prefect_ui = os.environ.get("PREFECT_API_URL", f"http://127.0.0.1:{settings.prefect_port}/api")

    def in_background(target: Callable[..., object], *args: Any) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    return create_app(
        WebDeps(
            engine=service.engine,
            policy=service.policy,
            calendar=service.calendar,
            clock=system_clock,
            secret=secret_of(settings),
            prefect_ui=prefect_ui.removesuffix("/").removesuffix("/api"),
            prefect_api=prefect_ui,
            sweep_every=timedelta(minutes=settings.sweep_every_minutes),
            metrics_token=settings.metrics_token,
            secure_cookies=settings.web_secure_cookies,
            sign_in=settings.sign_in,
            provider=provider_of(settings),
            address=settings.web_url,
            # The CLI's own resume loop, in the background, until the flow has applied the record.
            carry_on=lambda run_id, submission_id: in_background(
                lambda: orchestration.follow(
                    service.engine,
                    settings,
                    run_id,
                    submission_id,
                    seconds=NUDGE_SECONDS,
                    until_moved=False,
                )
            ),
            launch=lambda case_id: in_background(
                orchestration.launch_by_id, service.engine, settings, case_id
            ),
        )
    )

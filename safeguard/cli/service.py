"""`safeguard serve`: the all-in-one local service (what `make run` starts)."""

import os

import typer

from safeguard.settings import get_settings


def serve(
    port: int | None = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help="Port for the local Prefect server (default SAFEGUARD_PREFECT_PORT or 4200).",
    ),
) -> None:
    """Migrate the database, start Prefect (unless PREFECT_API_URL names one), serve every deployment."""
    # Case systems send no usage data anywhere unless the authority opts in (DO_NOT_TRACK=0);
    # set before Prefect is imported, which is what reads it.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from deployments.local import run_local_service

    settings = get_settings()
    raise typer.Exit(run_local_service(settings, port or settings.prefect_port))

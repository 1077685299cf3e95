"""`safeguard serve`: the all-in-one local service (what `make run` starts)."""

import typer

from safeguard.settings import get_settings


def serve(
    port: int | None = typer.Option(
        None,
        "--port",
        help="Port for the local Prefect server (default SAFEGUARD_PREFECT_PORT or 4200).",
    ),
) -> None:
    """Migrate the database, start Prefect (unless PREFECT_API_URL names one), serve every deployment."""
    from deployments.local import run_local_service

    settings = get_settings()
    raise typer.Exit(run_local_service(settings, port or settings.prefect_port))

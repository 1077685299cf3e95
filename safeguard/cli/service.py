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


def web(
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default SAFEGUARD_WEB_PORT or 8000)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
) -> None:
    """Serve the browser app alone (`safeguard serve` serves it with everything else)."""
    import uvicorn

    settings = get_settings()
    chosen = port or settings.web_port
    print(f"Web app: http://{host}:{chosen}", flush=True)
    uvicorn.run(
        "web.service:app_from_settings", factory=True, host=host, port=chosen, access_log=False
    )

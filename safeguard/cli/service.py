"""`safeguard serve`: the all-in-one local service (what `make run` starts); `safeguard web`, the
browser app alone; `safeguard demo`, a fictional team and cases loaded through it."""

import os

import typer
from rich.progress import Progress
from rich.table import Table

from models.enums import Role
from safeguard import demo as demo_cases
from safeguard.cli.common import console, print_json
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


def demo(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Load a fictional team (with passwords) and a dozen cases at different stages, through the
    running service ('make run' in another terminal), so every page shows something at once.
    Refused on a database that already holds cases."""
    settings = get_settings()
    with Progress(console=console(), transient=True, disable=as_json) as bar:
        task = bar.add_task("loading the demo", total=None)  # as many cases as processes declare
        loaded = demo_cases.load(
            settings, lambda said: bar.update(task, advance=1, description=said[:70])
        )
    if as_json:
        print_json(loaded.as_dict())
        return
    out = console()
    people = Table(title=f"The demo team: every password is {loaded.password!r}")
    for column in ("Staff id", "Name", "Role"):
        people.add_column(column)
    for sid, name, role in loaded.staff:
        people.add_row(sid, name, Role(role).label)
    out.print(people)
    shown = Table(title="The demo cases")
    shown.add_column("Case")
    shown.add_column("What it shows")
    for reference, what in loaded.cases:
        shown.add_row(reference, what)
    out.print(shown)
    out.print(
        f"Sign in at {settings.web_address()}/sign-in (a manager, such as r.osei, sees every "
        "case on the board)."
    )

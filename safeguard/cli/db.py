"""`safeguard db`: create or migrate our tables, back them up and restore them; `safeguard audit
verify`: prove the audit log whole."""

from pathlib import Path

import typer

from models import audit, backup
from models.db import grant_app_role, make_engine, session_scope
from models.db import upgrade as migrate
from safeguard import wiring
from safeguard.cli.common import console, print_json
from safeguard.settings import get_settings

app = typer.Typer(help="Our database (the record): migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: who did what, when.", no_args_is_help=True)


@app.command()
def upgrade(
    app_role: str | None = typer.Option(
        None,
        "--app-role",
        help="PostgreSQL: the role the application connects as; granted what it needs, the audit "
        "log for INSERT and SELECT only (default SAFEGUARD_APP_ROLE).",
    ),
) -> None:
    """Create the tables, or migrate them to this version (safe to run again).

    Runs as SAFEGUARD_MIGRATION_DATABASE_URL (the owner) when it is set, else as
    SAFEGUARD_DATABASE_URL."""
    settings = get_settings()
    engine = make_engine(settings.migration_database_url or settings.database)
    before, after = migrate(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"database {where} is up to date (migration {after})")
    else:
        print(f"database {where} migrated from {before or 'empty'} to {after}")
    role = app_role or settings.app_role
    if role:
        grant_app_role(engine, role)
        print(f"role {role} may use the tables; the audit log for INSERT and SELECT only")


@app.command("backup")
def backup_command(
    file: Path = typer.Argument(..., help="The backup file to write (never overwritten)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Back up the record while the service runs: SQLite with its online backup API, PostgreSQL
    with pg_dump (custom format)."""
    done = backup.backup(wiring.engine(get_settings()), file)
    if as_json:
        print_json(done.as_dict())
        return
    console().print(
        f"backed up to {done.file}: {done.cases} case(s), {done.audit_entries} audit entries "
        f"(migration {done.migration}, {done.bytes:,} bytes)"
    )


@app.command("restore")
def restore_command(
    file: Path = typer.Argument(..., help="A file written by 'safeguard db backup'."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Restore a backup into an empty database (SAFEGUARD_DATABASE_URL; on PostgreSQL as
    SAFEGUARD_MIGRATION_DATABASE_URL, the owner, when it is set), then verify its audit log."""
    settings = get_settings()
    engine = make_engine(settings.migration_database_url or settings.database)
    done = backup.restore(engine, file)
    if settings.app_role and engine.dialect.name == "postgresql":
        grant_app_role(engine, settings.app_role)
    if as_json:
        print_json({**done.as_dict(), "next": backup.behind(engine)})
    else:
        console().print(
            f"restored {done.file}: {done.cases} case(s), {done.audit_entries} audit entries, "
            + ("the audit log intact" if done.audit_intact else "the audit log BROKEN")
        )
        if backup.behind(engine):
            console().print(backup.behind(engine))
    if not done.audit_intact:
        raise typer.Exit(1)


@audit_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Check the audit log's hash chain: every entry unchanged, none removed (exit 1 if not)."""
    with session_scope(wiring.engine(get_settings())) as session:
        verdict = audit.verify(session)
    if as_json:
        print_json(
            {
                "intact": verdict.intact,
                "entries": verdict.entries,
                "broken_at": verdict.broken_at,
                "reason": verdict.reason,
            }
        )
    elif verdict.intact:
        console().print(
            f"audit log intact: {verdict.entries} entries, each chained to the one before"
        )
    else:
        console().print(
            f"audit log BROKEN at entry {verdict.broken_at}: {verdict.reason} "
            f"({verdict.entries} entries before it hold)"
        )
    if not verdict.intact:
        raise typer.Exit(1)

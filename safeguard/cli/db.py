"""`safeguard db`: create or migrate our tables."""

import typer

from models.db import make_engine
from models.db import upgrade as migrate
from safeguard.settings import get_settings

app = typer.Typer(help="Our database (the record): migrations.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create the tables, or migrate them to this version (safe to run again)."""
    settings = get_settings()
    engine = make_engine(settings.database)
    before, after = migrate(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"database {where} is up to date (migration {after})")
    else:
        print(f"database {where} migrated from {before or 'empty'} to {after}")

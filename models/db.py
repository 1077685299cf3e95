"""The database: engines from a URL, migrations to head, and the check that a database is ready.

Nothing here runs at import time; the CLI and the tests build engines from settings they were given.
"""

import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from models.errors import InputError

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Return an engine for `url`; SQLite gets its folder created and foreign keys enforced.

    SQL parameters are never put in error messages (`hide_parameters`): they hold names,
    narrative and addresses, and an error may reach a terminal or Prefect's logs (DESIGN rule 2).
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(
            "the database URL cannot be read: write e.g. postgresql+psycopg://user@host/db "
            "or sqlite:///path/to/file.db (SAFEGUARD_DATABASE_URL)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    f"the database folder {folder} cannot be made ({exc.strerror}); "
                    "check SAFEGUARD_DATABASE_URL or SAFEGUARD_HOME"
                ) from None
        engine = sa.create_engine(parsed, hide_parameters=True, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    try:
        engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True, **kwargs)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise InputError(
            f"database URL {parsed.render_as_string(hide_password=True)}: its driver is not "
            f"installed ({exc}); use postgresql+psycopg://... or sqlite:///..."
        ) from None
    sa.event.listen(engine, "handle_error", _primary_only)
    return engine


def _primary_only(context: Any) -> Any:
    """PostgreSQL's error detail can carry a row's values ("Failing row contains (...)", "Key
    (...)=(...)"): raise the same error with its primary message only, so no error, wherever it is
    printed or logged (a terminal, Prefect's logs), carries names, narrative or addresses."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if not primary or context.sqlalchemy_exception is None:
        return None
    orig.args = (primary,)
    return sa.exc.DBAPIError.instance(
        context.statement,
        context.parameters,
        orig,
        context.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=context.dialect,
        connection_invalidated=context.is_disconnect,
    )


BUSY_TIMEOUT_MS = 5000  # SQLite's own wait for the write lock, each try...
WRITE_WAIT_SECONDS = 60.0  # ...then tried again with backoff, up to this long in all


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The CLI and the flow runs are separate processes on one SQLite file: WAL lets readers go on
    # while one writes, and the driver's own transaction handling is turned off so that...
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # ...every transaction takes the write lock at BEGIN and waits (busy_timeout) for it, instead of
    # failing with "database is locked" when a read transaction tries to become a write. A write
    # held longer than that (many people at once, a backup) is waited for again, with backoff and
    # a little jitter, up to WRITE_WAIT_SECONDS: only then is the person told the database is busy.
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    pause = 0.05
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as exc:
            locked = "database is locked" in str(exc) or "database is busy" in str(exc)
            if not locked or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * (1 + random.random() / 2))
        pause = min(pause * 2, 2.0)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """Return the newest migration this version of the code knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the migration the database is at, or None for an empty database."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise Unreachable(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{database_message(exc)}; check SAFEGUARD_DATABASE_URL"
        ) from exc


class Unreachable(InputError):
    """The database cannot be reached (the CLI exits 1, not 2: nothing was wrong with the input)."""


def database_message(exc: BaseException) -> str:
    """Return what the database said, without the statement or its values (names, narrative,
    addresses): PostgreSQL's primary message, SQLite's one line."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(orig).split("\n")[0]
    return " ".join(text.split())[:300] or type(orig).__name__


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to head; return (revision before, revision after)."""
    before = current_revision(engine)
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()


ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(engine: Engine, role: str) -> None:
    """PostgreSQL: let the application's role use the tables the migrations made, the audit log
    for INSERT and SELECT only. Run as the owner after each upgrade (new tables need their grants).
    Owning nothing, the role cannot ALTER, DROP or TRUNCATE anything, nor disable a trigger."""
    if engine.dialect.name != "postgresql":
        raise InputError("--app-role is for PostgreSQL; SQLite has no roles")
    if not ROLE_NAME.match(role):
        raise InputError(f"--app-role {role!r}: a role name is lower-case letters, digits and '_'")
    with engine.begin() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        if not conn.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first():
            raise InputError(f"--app-role {role}: no such role; create it first (README)")
        quoted = f'"{schema}"'
        tables = [t for t in sa.inspect(conn).get_table_names(schema=schema) if t != "audit_log"]
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {quoted} TO {role}"))
        for table in tables:
            conn.execute(
                sa.text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {quoted}."{table}" TO {role}')
            )
        conn.execute(sa.text(f"REVOKE ALL ON {quoted}.audit_log FROM {role}"))
        conn.execute(sa.text(f"GRANT SELECT, INSERT ON {quoted}.audit_log TO {role}"))
        conn.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {role}"))


def dialect_insert(session: Session) -> Callable[..., Any]:
    """Return the INSERT of the session's database that can say ON CONFLICT (PostgreSQL, SQLite)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def require_current(engine: Engine) -> None:
    """Raise InputError unless the database is migrated to this code's head."""
    revision = current_revision(engine)
    if revision != head_revision():
        state = (
            "not set up" if revision is None else f"at migration {revision}, not {head_revision()}"
        )
        raise InputError(f"the database is {state}: run 'safeguard db upgrade' (make run does it)")


CHUNK = 500  # ids in one IN list: well within every database's limit on parameters


def in_chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """Yield `items` in slices of at most CHUNK (for IN lists)."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back (changing nothing) on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

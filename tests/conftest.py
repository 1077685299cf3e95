"""Shared fixtures: databases on SQLite and (when SAFEGUARD_TEST_DATABASE_URL is set) PostgreSQL.

Each database test gets an empty database of its own: a SQLite file under tmp_path, or a fresh
PostgreSQL schema that is dropped afterwards, so the shared server is left as it was found.
"""

import os
import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from models import registry
from models.db import grant_app_role, make_engine, upgrade
from tests.smtp import SmtpServer

PG_URL = os.environ.get("SAFEGUARD_TEST_DATABASE_URL")

DATABASES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="SAFEGUARD_TEST_DATABASE_URL not set (CI sets it)"
        ),
    ),
]


@pytest.fixture(autouse=True)
def _isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's own SAFEGUARD_* settings or writes to ./.safeguard."""
    for name in list(os.environ):
        if name.startswith("SAFEGUARD_") and name != "SAFEGUARD_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAFEGUARD_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def _installed_processes_only() -> Iterator[None]:
    """A process a test registers (the toy) is not registered for the next: after each test the
    registry holds the installed processes only (a test that needs the toy names it again)."""
    yield
    installed = {point.name for point in entry_points(group=registry.ENTRY_POINTS)}
    for code in [c for c in registry._registered if c not in installed]:
        del registry._registered[code]
    registry._modules_loaded.clear()


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Yield the URL of an empty database (SQLite, then PostgreSQL when configured).

    On PostgreSQL the tests run as the application does in production: a fresh schema owned by
    an owner role that migrates (SAFEGUARD_MIGRATION_DATABASE_URL), and the URL yielded is an
    application role's, which may only INSERT and SELECT the audit log (SAFEGUARD_APP_ROLE).
    Schema and roles are dropped afterwards, so the shared server is left as it was found.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/safeguard.db"
        return
    assert PG_URL is not None
    suffix = uuid.uuid4().hex[:12]
    schema, owner, app = f"test_{suffix}", f"sg_owner_{suffix}", f"sg_app_{suffix}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN'))
        conn.execute(sa.text(f'CREATE ROLE "{app}" LOGIN'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"'))
    base = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    owner_url = base.set(username=owner, password=None).render_as_string(hide_password=False)
    app_url = base.set(username=app, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("SAFEGUARD_MIGRATION_DATABASE_URL", owner_url)
    monkeypatch.setenv("SAFEGUARD_APP_ROLE", app)
    try:
        yield app_url
    finally:
        with admin.begin() as conn:
            # Connections of this test's roles may linger in pools: end them, then drop.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE usename IN (:o, :a) AND pid <> pg_backend_pid()"
                ),
                {"o": owner, "a": app},
            )
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            for role in (app, owner):
                conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
                conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()


def migrate(database_url: str) -> None:
    """Migrate a test database as its owner, and grant the application role (PostgreSQL)."""
    owner = os.environ.get("SAFEGUARD_MIGRATION_DATABASE_URL")
    built = make_engine(owner or database_url)
    upgrade(built)
    if owner:
        grant_app_role(built, os.environ["SAFEGUARD_APP_ROLE"])
    built.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Yield an engine on a database migrated to head (on PostgreSQL, as the application role)."""
    migrate(database_url)
    built = make_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Yield a real SMTP server (aiosmtpd) on a free local port, stopped afterwards."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()

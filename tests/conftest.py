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
from models.db import make_engine, upgrade
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
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """Yield the URL of an empty database (SQLite, then PostgreSQL when configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/safeguard.db"
        return
    assert PG_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Yield an engine on a database migrated to head."""
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Yield a real SMTP server (aiosmtpd) on a free local port, stopped afterwards."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()

"""Shared fixtures: databases on SQLite and (when SAFEGUARD_TEST_DATABASE_URL is set) PostgreSQL.

Each database test gets a database of its own, dropped afterwards, so the shared server is left
as it was found: a SQLite file under tmp_path, or a PostgreSQL database; a migrated one is a copy of
a template migrated once per session (tests/conftest.py `templates`), not every migration again.
Passwords are hashed with cheap argon2 parameters (`models.accounts.use_hasher`); the production
parameters are tested once (tests/web/test_web_security.py).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine, make_url

from models import accounts, registry
from models.db import grant_app_role, make_engine, upgrade
from tests.smtp import SmtpServer
from tests.words import assert_no_codes_in_mails, codes_in, visible

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


LONG = ("flows", "service", "browser")  # whole cases on a real Prefect server, real processes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (each takes tens of seconds), so the workers share them out from the
    start and none is left running one alone at the end; the rest in their usual order."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in LONG))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 with the least work it allows: a test's passwords need no protection, and the
    production parameters (64 MiB, 3 passes: about 0.13 s a hash) are tested once, by name."""
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    accounts.use_hasher(accounts.PRODUCTION_HASHER)


@pytest.fixture(autouse=True)
def _installed_processes_only() -> Iterator[None]:
    """A process a test registers (the toy) is not registered for the next: after each test the
    registry holds the installed processes only (a test that needs the toy names it again)."""
    yield
    installed = {point.name for point in entry_points(group=registry.ENTRY_POINTS)}
    for code in [c for c in registry._registered if c not in installed]:
        del registry._registered[code]
    registry._modules_loaded.clear()


@dataclass
class Templates:
    """This test session's databases to copy (one per pytest-xdist worker): each migrated to head
    once, so a test's database costs a file copy (SQLite) or a CREATE DATABASE ... TEMPLATE
    (PostgreSQL), not every migration again. On PostgreSQL the session's owner role owns them and
    its application role holds the grants `db upgrade` gives it, as in production."""

    sqlite: Path
    owner: str = ""
    app: str = ""
    postgres: str = ""  # the template database's name

    def url(self, role: str, database: str) -> str:
        assert PG_URL is not None
        return make_url(PG_URL).set(username=role, password=None, database=database).render_as_string(hide_password=False)  # fmt: skip


def _admin() -> Engine:
    assert PG_URL is not None
    return make_engine(PG_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(sqlite=tmp_path_factory.mktemp("template") / "safeguard.db")
    migrate(f"sqlite:///{made.sqlite}")
    if not PG_URL:
        yield made
        return
    suffix = uuid.uuid4().hex[:12]
    made.owner, made.app, made.postgres = f"sg_owner_{suffix}", f"sg_app_{suffix}", f"sg_template_{suffix}"  # fmt: skip
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{made.owner}" LOGIN'))
        conn.execute(sa.text(f'CREATE ROLE "{made.app}" LOGIN'))
        conn.execute(sa.text(f'CREATE DATABASE "{made.postgres}" OWNER "{made.owner}"'))
    try:
        owner = make_engine(made.url(made.owner, made.postgres))
        upgrade(owner)
        grant_app_role(owner, made.app)
        owner.dispose()
        yield made
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{made.postgres}" WITH (FORCE)'))
            for role in (made.app, made.owner):
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    templates: Templates,
) -> Iterator[str]:
    """Yield the URL of a database of the test's own (SQLite, then PostgreSQL when configured):
    migrated to head when the test asks for an `engine` too (a copy of the session's template),
    else empty.

    On PostgreSQL the tests run as the application does in production: the database is owned by
    an owner role that migrates (SAFEGUARD_MIGRATION_DATABASE_URL), and the URL yielded is an
    application role's, which may only INSERT and SELECT the audit log (SAFEGUARD_APP_ROLE). The
    database is dropped afterwards, so the shared server is left as it was found.
    """
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "safeguard.db"
        if migrated:
            shutil.copyfile(templates.sqlite, path)
        yield f"sqlite:///{path}"
        return
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{templates.postgres}" STRATEGY FILE_COPY' if migrated else ""
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{templates.owner}"{copy}'))
    monkeypatch.setenv("SAFEGUARD_MIGRATION_DATABASE_URL", templates.url(templates.owner, name))
    monkeypatch.setenv("SAFEGUARD_APP_ROLE", templates.app)
    try:
        yield templates.url(templates.app, name)
    finally:
        with admin.connect() as conn:  # its connections may linger in pools: ended by FORCE
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
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
    assert_no_codes_in_mails(server)


@pytest.fixture(autouse=True)
def _pages_show_no_codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Words, not codes: every page the browser app renders in a test is scanned for codes
    (tests/words.py); one found fails the test that rendered it."""
    from web.render import Renderer

    found: dict[str, list[str]] = {}
    render = Renderer.__call__

    def scanned(self: Renderer, request: Any, template: str, *args: Any, **context: Any) -> Any:
        page = render(self, request, template, *args, **context)
        codes = codes_in(visible(bytes(page.body).decode()))
        if codes:
            found.setdefault(f"{request.url.path} ({template})", []).extend(codes)
        return page

    monkeypatch.setattr(Renderer, "__call__", scanned)
    yield
    assert not {k: list(dict.fromkeys(v)) for k, v in found.items()}, (
        f"codes a person would read on these pages: {found}"
    )

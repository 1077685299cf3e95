"""Backups that restore: `safeguard db backup FILE` and `safeguard db restore FILE`.

SQLite is copied with its online backup API, page by page under the database's own locks, so the
copy is consistent while the service writes; PostgreSQL with `pg_dump` in its custom format (one
snapshot), restored with `pg_restore`. A restore goes only into an empty database; afterwards the
audit log's hash chain is verified, so a restore that lost or changed an entry says so.

A backup is written beside its target and renamed into place when whole: a file of that name is
always a finished backup. An existing file is never overwritten.
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, func, select

from models import audit
from models.db import current_revision, head_revision
from models.errors import InputError
from models.tables import Case

SQLITE_HEADER = b"SQLite format 3\x00"
PG_HEADER = b"PGDMP"
PG_TOOLS = "PostgreSQL's client tools (Debian: apt-get install postgresql-client)"


@dataclass(frozen=True)
class Outcome:
    """What a backup or a restore did, as the command reports it."""

    file: str
    kind: str  # sqlite or postgresql
    migration: str | None
    cases: int
    audit_entries: int
    audit_intact: bool
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def backup(engine: Engine, target: Path) -> Outcome:
    """Write a consistent backup of the database to `target` (which must not exist)."""
    target = target.expanduser()
    if target.exists():
        raise InputError(f"{target} already exists: give a new file name (a backup never overwrites)")  # fmt: skip
    if not target.parent.is_dir():
        raise InputError(f"{target.parent} is not a folder: make it first, or choose another")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), partial)
        else:
            _pg_dump(engine, partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return _outcome(engine, target)


def restore(engine: Engine, source: Path) -> Outcome:
    """Restore the backup `source` into the (empty) database of `engine`; verify its audit log."""
    source = source.expanduser()
    if not source.is_file():
        raise InputError(f"{source} is not a file: give the backup's path")
    with source.open("rb") as read:
        head = read.read(len(SQLITE_HEADER))
    kind = (
        "sqlite" if head == SQLITE_HEADER else "postgresql" if head.startswith(PG_HEADER) else None
    )
    if kind is None:
        raise InputError(f"{source} is not a backup made by 'safeguard db backup' (neither SQLite nor pg_dump's format)")  # fmt: skip
    if kind != engine.dialect.name:
        raise InputError(
            f"{source} is a {_said(kind)} backup and the database to restore into is {_said(engine.dialect.name)}: "
            f"restore it into a {_said(kind)} database"
        )  # fmt: skip
    if current_revision(engine) is not None or sa.inspect(engine).get_table_names():
        raise InputError(
            "the database to restore into is not empty: restore into a new, empty database "
            "(a restore never mixes with what is there)"
        )
    if kind == "sqlite":
        engine.dispose()
        _sqlite_copy(source, _sqlite_path(engine))
    else:
        _pg_restore(engine, source)
    engine.dispose()
    return _outcome(engine, source)


def _said(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "PostgreSQL"


def _outcome(engine: Engine, file: Path) -> Outcome:
    with Session(engine) as session:
        cases = session.exec(select(func.count()).select_from(Case)).one()
        verdict = audit.verify(session)
    return Outcome(
        str(file),
        engine.dialect.name,
        current_revision(engine),
        cases,
        verdict.entries,
        verdict.intact,
        file.stat().st_size,
    )


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise InputError("an in-memory database has nothing to back up or restore into")
    return Path(database).expanduser()


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the online backup API (consistent while the
    source is written: the copy restarts a page run when a writer changes it)."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=256)
        finally:
            dst.close()
    finally:
        src.close()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as pg_dump and pg_restore take it (never the password on the command line)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InputError(f"{name} is not installed: install {PG_TOOLS}")
    return found


def _pg_dump(engine: Engine, target: Path) -> None:
    where, environment = _libpq(engine)
    done = subprocess.run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={where}",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InputError(f"pg_dump could not back up the database: {_first_line(done.stderr)}")


def _pg_restore(engine: Engine, source: Path) -> None:
    where, environment = _libpq(engine)
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={where}",
            str(source),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InputError(f"pg_restore could not restore {source}: {_first_line(done.stderr)}")


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else "no reason given"


def behind(engine: Engine) -> str | None:
    """What to do after restoring an older version's backup, or None when it is current."""
    revision = current_revision(engine)
    if revision == head_revision():
        return None
    return f"the backup is at migration {revision}: run 'safeguard db upgrade' before serving it"

"""Backups that restore, on SQLite and PostgreSQL: the record backed up while sweeps write to it
(the online backup API; pg_dump's snapshot), restored into a new, empty database elsewhere; every
case there reads as it did, the audit log's chain is intact and is the source's own, entry for
entry, up to the backup. A backup never overwrites a file; a restore never goes into a database
that holds anything, nor takes a file that is not a backup, nor one of the other kind."""

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import backup
from models.db import grant_app_role, make_engine
from models.errors import InputError
from models.tables import AuditEntry, Case
from notifications import sweep as outbox_sweep
from safeguard.cli import main
from tests.cases import CALENDAR, POLICY, add_team, at, record, start_case, view_at
from tests.conftest import Templates, _admin
from tests.smtp import SmtpServer

NOW = at("2026-11-02T16:00")


@pytest.fixture
def elsewhere(database_url: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind, to restore into (as its owner on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored/safeguard.db"
        return
    name = f"sg_restored_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{templates.owner}"'))
    try:
        yield templates.url(templates.owner, name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def chain(engine: Engine) -> list[tuple[int, str]]:
    with Session(engine) as session:
        return [(e.id or 0, e.hash) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]  # fmt: skip


def test_a_backup_taken_while_sweeps_write_restores_whole_elsewhere(
    engine: Engine, smtp: SmtpServer, elsewhere: str, tmp_path: Path
) -> None:
    add_team(engine, smtp)
    refs = [start_case(engine, category=c) for c in ("physical", "neglect", "emotional")]
    consideration = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "a mark"}  # fmt: skip
    record(engine, refs[0], "initial_consideration", consideration, at("2026-11-02T16:00"))
    stop = threading.Event()
    swept: list[int] = []

    def sweeping() -> None:  # the running service: a sweep after another, each a day later
        day = 0
        while not stop.is_set():
            day += 1
            outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=NOW + timedelta(days=day))  # fmt: skip
            swept.append(day)

    service = threading.Thread(target=sweeping, daemon=True)
    service.start()
    try:
        while len(swept) < 2:  # the service has written: the backup is taken mid-stream
            stop.wait(0.05)
        made = backup.backup(engine, tmp_path / "safeguard.backup")
    finally:
        stop.set()
        service.join(60)
    assert made.cases == 3 and made.audit_intact and made.bytes > 0
    with pytest.raises(InputError, match="already exists"):
        backup.backup(engine, tmp_path / "safeguard.backup")

    target = make_engine(elsewhere)
    restored = backup.restore(target, tmp_path / "safeguard.backup")
    assert restored.audit_intact and restored.cases == 3
    assert restored.audit_entries == made.audit_entries
    if target.dialect.name == "postgresql":  # the application's role, as `db restore` grants it
        grant_app_role(target, os.environ["SAFEGUARD_APP_ROLE"])
    assert backup.behind(target) is None
    # The restored chain is the source's own, entry for entry, up to the backup.
    copied = chain(target)
    assert copied == chain(engine)[: len(copied)] and len(copied) == made.audit_entries
    # Every case reads the same there (the sweeps after the backup wrote notices, not cases).
    with Session(target) as session:
        assert sorted(session.exec(select(Case.reference)).all()) == sorted(refs)
    for ref in refs:
        assert view_at(target, ref, NOW) == view_at(engine, ref, NOW)
    with pytest.raises(InputError, match="is not empty"):
        backup.restore(target, tmp_path / "safeguard.backup")
    target.dispose()


def test_what_a_restore_refuses(engine: Engine, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    with pytest.raises(InputError, match="is not a backup made by 'safeguard db backup'"):
        backup.restore(engine, bogus)
    with pytest.raises(InputError, match="is not a file"):
        backup.restore(engine, tmp_path / "missing.backup")
    with pytest.raises(InputError, match="is not a folder"):
        backup.backup(engine, tmp_path / "no" / "such" / "folder.backup")
    other = tmp_path / "other-kind.backup"
    if engine.dialect.name == "sqlite":
        other.write_bytes(b"PGDMP" + b"\0" * 64)
        said = "is a PostgreSQL backup and the database to restore into is SQLite"
    else:
        other.write_bytes(b"SQLite format 3\x00" + b"\0" * 64)
        said = "is a SQLite backup and the database to restore into is PostgreSQL"
    with pytest.raises(InputError, match=said):
        backup.restore(engine, other)


def test_the_commands_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/live.db")
    monkeypatch.delenv("SAFEGUARD_MIGRATION_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "backup", str(tmp_path / "one.backup")]) == 0
    assert "backed up to" in capsys.readouterr().out
    assert main(["db", "backup", str(tmp_path / "one.backup")]) == 2
    assert "already exists: give a new file name" in capsys.readouterr().err
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    assert main(["db", "restore", str(tmp_path / "one.backup"), "--json"]) == 0
    assert '"audit_intact": true' in capsys.readouterr().out
    assert main(["db", "restore", str(tmp_path / "one.backup")]) == 2
    assert "is not empty" in capsys.readouterr().err

"""The audit log cannot be rewritten by the application, on SQLite and PostgreSQL: SQLite refuses an
INSERT OR REPLACE over an existing entry; on PostgreSQL the application's role (the one these tests
run as) may only INSERT and SELECT it, never ALTER or DROP it or stand its triggers aside; and the
hash chain lets `safeguard audit verify` prove nothing was changed or removed, naming the first
entry that was, when someone with the owner's keys did."""

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import audit
from models.db import make_engine
from models.tables import AuditEntry
from tests.cases import add_team, at, record, start_case
from tests.conftest import DATABASES
from tests.integration.test_cli import Run
from tests.integration.test_cli import run as run
from tests.smtp import SmtpServer


@pytest.fixture
def history(
    engine: Engine, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> int:
    """Real activity: a team added, a case started and a step recorded; return the entries."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    add_team(engine, smtp)
    ref = start_case(engine)
    record(
        engine,
        ref,
        "initial_consideration",
        {
            "threshold_met": False,
            "route": "advice",
            "rationale": "single agency",
            "approved_by": "ladom-1",
            "follow_up": "supervision visit",
        },
        at("2026-11-02T15:00"),
    )
    with Session(engine) as session:
        return len(session.exec(select(AuditEntry.id)).all())


def owner_or_superuser(engine: Engine) -> Engine:
    """Someone with the keys: the owner on PostgreSQL (as a database administrator could be)."""
    owner = os.environ.get("SAFEGUARD_MIGRATION_DATABASE_URL")
    return make_engine(owner) if engine.dialect.name == "postgresql" and owner else engine


def test_an_intact_log_verifies(run: Run, history: int) -> None:
    assert history > 10
    result = run("audit", "verify")
    assert result.code == 0, result.err
    assert f"audit log intact: {history} entries" in result.out
    assert run("audit", "verify", "--json").json() == {
        "intact": True,
        "entries": history,
        "broken_at": None,
        "reason": "",
    }


@pytest.mark.parametrize("database_url", [DATABASES[0]], indirect=True)  # SQLite's statement
def test_sqlite_refuses_insert_or_replace_over_an_entry(engine: Engine, history: int) -> None:
    for statement in ("INSERT OR REPLACE INTO audit_log", "REPLACE INTO audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"{statement} (id, at, action, entity, entity_id, detail, prev_hash, hash) "
                    "VALUES (3, '2026-11-02 09:00:00', 'tampered', 'staff', 'x', '{}', 'x', 'x')"
                )
            )
    with Session(engine) as session:
        assert session.get(AuditEntry, 3).action != "tampered"  # type: ignore[union-attr]
        assert audit.verify(session).intact


@pytest.mark.parametrize("database_url", [DATABASES[1]], indirect=True)  # roles: PostgreSQL's
def test_the_application_role_cannot_alter_drop_or_disarm_the_log(engine: Engine) -> None:
    assert engine.url.username and engine.url.username.startswith("sg_app_")
    for statement in (
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
        "ALTER TABLE audit_log ADD COLUMN x int",
        "DROP TABLE audit_log",
        "DROP TRIGGER audit_log_no_change ON audit_log",
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match=r"must be owner|permission denied"),
            engine.begin() as conn,
        ):
            conn.execute(sa.text(statement))


@pytest.mark.parametrize("tamper", ["change", "remove"])
def test_verify_names_the_first_entry_changed_or_removed(
    run: Run, engine: Engine, history: int, tamper: str
) -> None:
    keys = owner_or_superuser(engine)
    with keys.begin() as conn:  # someone with the keys stands the triggers aside
        if keys.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))
        if tamper == "change":
            conn.execute(sa.text("UPDATE audit_log SET actor_id = 'nobody' WHERE id = 5"))
        else:
            conn.execute(sa.text("DELETE FROM audit_log WHERE id = 5"))
    result = run("audit", "verify")
    assert result.code == 1
    expected = (
        "BROKEN at entry 5: its content does not match its hash"
        if tamper == "change"
        else "BROKEN at entry 6: it does not follow the entry before it"
    )
    assert expected in result.out and "(4 entries before it hold)" in result.out

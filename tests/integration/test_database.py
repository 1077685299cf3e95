"""The database layer on SQLite and PostgreSQL: migrations match the models, times come back in
UTC, and the audit log is append-only in the database itself."""

import os
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import models.tables  # noqa: F401
from models import audit
from models.db import current_revision, head_revision, make_engine, require_current, upgrade
from models.enums import StepStatus
from models.errors import InputError
from models.tables import AuditEntry, Case, Staff, Step
from tests.conftest import DATABASES


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_is_safe_to_run_again(database_url: str) -> None:
    engine = make_engine(os.environ.get("SAFEGUARD_MIGRATION_DATABASE_URL") or database_url)
    with pytest.raises(InputError, match="not set up: run 'safeguard db upgrade'"):
        require_current(engine)
    assert upgrade(engine) == (None, head_revision())
    assert upgrade(engine) == (head_revision(), head_revision())
    require_current(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_times_are_stored_in_utc_and_read_back_aware(engine: Engine) -> None:
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    with Session(engine) as session:
        session.add(Staff(id="lado-1", name="L", created_at=summer))
        session.flush()
        session.add(
            Case(
                reference="ALG-2026-0001",
                process="allegation",
                opened_at=summer,
                opened_by="lado-1",
                lead_id="lado-1",
            )
        )
        session.commit()
        session.add(
            Step(
                case_id=1,
                name="initial_consideration",
                opened_at=summer,
                due_on=date(2026, 7, 2),
                deadline_at=datetime(2026, 7, 2, 23, 0, tzinfo=UTC),
            )
        )
        session.commit()
    with Session(engine) as session:
        step = session.exec(select(Step)).one()
        assert step.opened_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
        assert step.opened_at.tzinfo is not None
        assert step.status is StepStatus.open
        case = session.exec(select(Case)).one()
        assert case.process == "allegation"


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Staff(id="x", name="X", created_at=datetime(2026, 7, 1, 10, 0)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            session.commit()


def _one_entry(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(
            session,
            at=datetime(2026, 11, 2, tzinfo=UTC),
            action="staff.add",
            entity="staff",
            entity_id="x",
        )
        session.commit()


REFUSED = "audit_log is append-only|permission denied for table audit_log"


def _as_owner() -> Engine | None:
    """PostgreSQL: the owner's engine (the application's role may not even try; the owner is
    stopped by the triggers)."""
    owner = os.environ.get("SAFEGUARD_MIGRATION_DATABASE_URL")
    return make_engine(owner) if owner else None


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'tampered'", "DELETE FROM audit_log"],
)
def test_the_audit_log_refuses_update_and_delete(engine: Engine, statement: str) -> None:
    _one_entry(engine)
    with pytest.raises(sa.exc.DatabaseError, match=REFUSED), engine.begin() as conn:
        conn.execute(sa.text(statement))
    owner = _as_owner()
    if owner is not None:
        with (
            pytest.raises(sa.exc.DatabaseError, match="audit_log is append-only"),
            owner.begin() as conn,
        ):
            conn.execute(sa.text(statement))
        owner.dispose()
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry)).all()
        assert [(e.action, e.entity_id) for e in entries] == [("staff.add", "x")]


def test_the_audit_log_refuses_changes_through_the_orm_too(engine: Engine) -> None:
    _one_entry(engine)
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry)).one()
        entry.action = "tampered"
        with pytest.raises(sa.exc.DatabaseError, match=REFUSED):
            session.commit()
        session.rollback()
        session.delete(session.exec(select(AuditEntry)).one())
        with pytest.raises(sa.exc.DatabaseError, match=REFUSED):
            session.commit()


@pytest.mark.parametrize("database_url", [DATABASES[1]], indirect=True)
def test_the_audit_log_refuses_truncate_on_postgresql(engine: Engine) -> None:
    # SQLite has no TRUNCATE statement; its DELETE is refused above.
    _one_entry(engine)
    with pytest.raises(sa.exc.DatabaseError, match=REFUSED), engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))
    owner = _as_owner()
    assert owner is not None
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), owner.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))
    owner.dispose()
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1


def test_an_unreachable_database_is_one_clear_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(
        InputError, match=r"cannot reach the database .* check SAFEGUARD_DATABASE_URL"
    ):
        require_current(engine)

"""the audit log as a hash chain; SQLite refuses INSERT OR REPLACE over an existing entry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 18:10:00

Each entry carries the hash of the one before it and its own (sha256 over the previous hash and its
fields), so `safeguard audit verify` proves nothing was changed or removed. Existing entries are
chained here, in id order (the only moment the append-only triggers stand aside). SQLite's
`INSERT OR REPLACE` deletes the old row without firing DELETE triggers: a BEFORE INSERT trigger
refuses an insert over an existing id.
"""

import hashlib
import json
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_log is append-only: record a correction as a new entry"
GENESIS = "0" * 64


def _hash(prev: str, row: Any) -> str:
    # The same canonical form as models/audit.py (kept here: a migration must not change later).
    at = row.at.replace(tzinfo=UTC) if row.at.tzinfo is None else row.at
    detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail or "{}")
    body = json.dumps(
        [
            prev,
            at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            row.actor_id,
            row.action,
            row.case_id,
            row.entity,
            row.entity_id,
            detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _triggers(create: bool) -> None:
    if op.get_context().dialect.name == "postgresql":
        verb = "ENABLE" if create else "DISABLE"
        op.execute(f"ALTER TABLE audit_log {verb} TRIGGER audit_log_no_change")
        return
    for event in ("UPDATE", "DELETE"):
        if create:
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event.lower()}")


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    log = sa.table(
        "audit_log",
        *(
            sa.column(name)
            for name in ("id", "at", "actor_id", "action", "case_id", "entity", "entity_id")
        ),
        sa.column("detail", sa.JSON),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    conn = op.get_bind()
    _triggers(create=False)
    prev = GENESIS
    for row in conn.execute(sa.select(log).order_by(log.c.id)).all():
        digest = _hash(prev, row)
        conn.execute(sa.update(log).where(log.c.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    _triggers(create=True)
    if conn.dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
            "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
    _triggers(create=False)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    _triggers(create=True)

"""The audit log: who did what, when. Never addresses, never narrative.

Append-only three times over: the database refuses UPDATE, DELETE (and on SQLite an INSERT OR
REPLACE over an existing entry) with triggers; on PostgreSQL the application's role may only INSERT
and SELECT it (`safeguard db upgrade --app-role`); and each entry carries the hash of the one before
it and its own, so `verify` proves nothing was changed or removed, naming the first entry that was.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import AuditEntry

GENESIS = "0" * 64  # the "previous hash" of the first entry
CHAIN_LOCK = 727_001  # PostgreSQL advisory lock: one writer extends the chain at a time


def entry_hash(
    prev: str,
    at: datetime,
    actor_id: str | None,
    action: str,
    case_id: int | None,
    entity: str,
    entity_id: str,
    detail: dict[str, Any],
) -> str:
    """Return an entry's hash: sha256 over the previous hash and its fields, in a canonical form."""
    body = json.dumps(
        [
            prev,
            at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor_id,
            action,
            case_id,
            entity,
            entity_id,
            detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    at: datetime,
    action: str,
    entity: str,
    entity_id: str,
    actor_id: str | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the session's transaction (it commits with the change it records),
    chained to the entry before it."""
    detail = json.loads(json.dumps(detail or {}))  # as the database will give it back
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: a second writer reads the last hash after ours.
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    prev = session.exec(select(AuditEntry.hash).order_by(col(AuditEntry.id).desc())).first()
    prev = prev or GENESIS
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            action=action,
            case_id=case_id,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            prev_hash=prev,
            hash=entry_hash(prev, at, actor_id, action, case_id, entity, entity_id, detail),
        )
    )
    session.flush()  # in id order: the next entry reads this one's hash


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_at: int | None = None  # the id of the first entry that does not hold
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(session: Session, chunk: int = 5000) -> Verdict:
    """Walk the chain in id order; return how many entries hold, or the first that does not."""
    prev, count = GENESIS, 0
    for entry in _entries(session, chunk):
        if entry.prev_hash != prev:
            return Verdict(
                count,
                entry.id,
                "it does not follow the entry before it: entries were removed or inserted",
            )
        expected = entry_hash(
            prev,
            entry.at,
            entry.actor_id,
            entry.action,
            entry.case_id,
            entry.entity,
            entry.entity_id,
            entry.detail,
        )
        if entry.hash != expected:
            return Verdict(count, entry.id, "its content does not match its hash: it was changed")
        prev, count = entry.hash, count + 1
    return Verdict(count)


def _entries(session: Session, chunk: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.id) > last)
            .order_by(col(AuditEntry.id))
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id or 0

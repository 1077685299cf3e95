"""Writing to the audit log: who did what, when. Never addresses, never narrative."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.tables import AuditEntry


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
    """Add one audit entry to the session's transaction (it commits with the change it records)."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            action=action,
            case_id=case_id,
            entity=entity,
            entity_id=entity_id,
            detail=detail or {},
        )
    )

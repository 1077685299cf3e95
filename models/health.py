"""Is the service well? What /health answers (no sign-in, no personal data): the database
reachable and migrated, the Prefect API reachable, the last sweep recent, no notice left
undelivered for long. Each part says what it found; the whole is well only if every part is."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from models.db import current_revision, database_message, dialect_insert, head_revision
from models.tables import NoticeDelivery, ServiceMark

UNDELIVERED_FOR_LONG = timedelta(hours=24)  # a notice not delivered for a day: someone must look
LATE_SWEEPS = 3  # the last sweep older than this many intervals: the schedule has stopped


def mark(
    session: Session,
    name: str,
    at: datetime,
    seconds: float | None = None,
    detail: dict[str, int] | None = None,
) -> None:
    """Record that the service did `name` at `at`, how long it took and what it found (counts
    only); one row a name, the latest kept."""
    statement = dialect_insert(session)(ServiceMark).values(
        name=name, at=at, seconds=seconds, detail=detail
    )
    excluded = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"at": excluded.at, "seconds": excluded.seconds, "detail": excluded.detail},
        )
    )


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    said: str  # what was found, in words


@dataclass(frozen=True)
class Health:
    parts: list[Part] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failing",
            "failing": [p.name for p in self.parts if not p.ok],
            "checks": {p.name: {"ok": p.ok, "said": p.said} for p in self.parts},
            **self.facts,
        }


def check(
    engine: Engine,
    *,
    now: datetime,
    sweep_every: timedelta,
    prefect: Callable[[], str | None] | None = None,
) -> Health:
    """Check each part; `prefect` returns None when the Prefect API answers, else what went wrong
    (not given: the service runs without one here)."""
    parts: list[Part] = []
    facts: dict[str, Any] = {}
    try:
        revision = current_revision(engine)
    except Exception as exc:
        parts.append(Part("database", False, f"cannot reach the database: {database_message(exc)}"))  # fmt: skip
        return Health(parts, facts)
    parts.append(Part("database", True, "reachable"))
    current = revision == head_revision()
    said = "current" if current else f"at {revision or 'nothing'}, not {head_revision()}: run 'safeguard db upgrade'"  # fmt: skip
    parts.append(Part("migrations", current, said))
    if not current:
        return Health(parts, facts)
    with Session(engine) as session:
        swept = session.get(ServiceMark, "sweep")
        oldest = session.exec(
            select(func.min(NoticeDelivery.next_attempt_at)).where(
                col(NoticeDelivery.status).in_(["pending", "sending"])
            )
        ).one()
    now = now.astimezone(UTC)
    if swept is None:
        parts.append(Part("sweep", True, "no sweep yet (the service sweeps on a schedule)"))
    else:
        age = max(timedelta(0), now - _utc(swept.at))  # a mark by a clock ahead: "just now"
        facts["last_sweep_at"] = _utc(swept.at).isoformat()
        late = age > LATE_SWEEPS * sweep_every
        minutes = int(age.total_seconds() // 60)
        parts.append(Part("sweep", not late, f"last swept {minutes} minute(s) ago" + (": the schedule has stopped" if late else "")))  # fmt: skip
    if oldest is None:
        parts.append(Part("notices", True, "none waiting to be delivered"))
    else:
        waited = now - _utc(oldest)
        facts["oldest_undelivered_seconds"] = max(0, int(waited.total_seconds()))
        stuck = waited > UNDELIVERED_FOR_LONG
        hours = max(0, int(waited.total_seconds() // 3600))
        parts.append(Part("notices", not stuck, f"the oldest waiting to be delivered for {hours} hour(s)" + (": check the addresses and the mail server" if stuck else "")))  # fmt: skip
    if prefect is not None:
        wrong = prefect()
        parts.append(Part("prefect", wrong is None, "reachable" if wrong is None else wrong))
    return Health(parts, facts)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""Tasks that check the platform itself: the database is migrated and the policy loads."""

from pathlib import Path
from typing import Any

from prefect import task

from models.db import current_revision, head_revision, make_engine
from models.policy import load_policy


@task(retries=2, retry_delay_seconds=2)
def check_database(database_url: str) -> str:
    """Return the database's migration, failing unless it is this code's head."""
    engine = make_engine(database_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision != head_revision():
        raise RuntimeError(f"database at migration {revision}, expected {head_revision()}")
    return revision


@task
def check_policy(override: Path | None) -> dict[str, Any]:
    """Return a summary of the effective policy (it fails if the policy does not load)."""
    policy = load_policy(override)
    return {
        "policy": policy.policy.name,
        "files": list(policy.files),
        "steps": {p: len(proc.steps) for p, proc in policy.processes.items()},
        "local_closures": len(policy.calendar.closures),
    }

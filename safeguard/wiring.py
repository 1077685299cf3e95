"""The one place that builds the real adapters from settings (cosmicpython's bootstrap)."""

from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from models.calendar import WorkingCalendar
from models.db import make_engine, require_current
from models.policy import Policy, load_policy
from safeguard.settings import Settings


@lru_cache(maxsize=4)
def shared_engine(url: str) -> Engine:
    """Return one engine per URL for a long-lived process (the flow runs' tasks)."""
    return make_engine(url)


def engine(settings: Settings, *, ready: bool = True) -> Engine:
    """Return the engine for our tables; with `ready`, first check the database is migrated."""
    built = make_engine(settings.database)
    if ready:
        require_current(built)
    return built


def policy(settings: Settings) -> Policy:
    """Return the effective policy: England defaults with the authority's override file."""
    return load_policy(settings.policy_file)


def working_calendar(settings: Settings, loaded: Policy | None = None) -> WorkingCalendar:
    """Return the working-day calendar in force (bank holidays plus local closures)."""
    return (loaded or policy(settings)).working_calendar(ZoneInfo(settings.timezone))


def casework(
    settings: Settings, engine_for: Callable[[str], Engine] | None = None
) -> tuple[Engine, Policy, WorkingCalendar]:
    """Return what casework needs: the (migrated) database, the policy and its calendar, loaded once."""
    loaded = policy(settings)
    built = engine_for(settings.database) if engine_for else engine(settings)
    return built, loaded, working_calendar(settings, loaded)

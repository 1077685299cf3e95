"""The one place that builds the real adapters from settings (cosmicpython's bootstrap)."""

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


def working_calendar(settings: Settings) -> WorkingCalendar:
    """Return the working-day calendar in force (bank holidays plus local closures)."""
    return policy(settings).working_calendar(ZoneInfo(settings.timezone))

"""The one place that builds the real adapters from settings (cosmicpython's bootstrap).

Built once per process and kept (issue: a long case's replay must not re-read the policy for every
earlier step): the registered processes, the policy (with the defaults each process brings), its
working-day calendar, and one engine per database URL.
"""

from contextlib import AbstractContextManager
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from models import registry
from models.calendar import WorkingCalendar
from models.casework import Casework, Rules, unit_of_work
from models.db import make_engine, require_current
from models.policy import Policy, load_policy
from models.wallclock import Clock, system_clock
from notifications import notify
from notifications.notify import NotifyChannel
from safeguard.settings import Settings


class Service(NamedTuple):
    """What the service runs on: the (migrated) database, the policy and its calendar."""

    engine: Engine
    policy: Policy
    calendar: WorkingCalendar

    def rules(self, clock: Clock | None = None) -> Rules:
        """Return the rules casework is done under, by `clock` (default: the wall clock)."""
        return Rules(self.policy, self.calendar, clock or system_clock)


def processes(settings: Settings) -> None:
    """Register every process: the installed ones and those SAFEGUARD_PROCESSES names."""
    registry.discover(settings.processes)


@lru_cache(maxsize=4)
def shared_engine(url: str) -> Engine:
    """Return one engine per URL for a long-lived process (the flow runs' tasks)."""
    return make_engine(url)


def engine(settings: Settings, *, ready: bool = True) -> Engine:
    """Return the engine for our tables; with `ready`, checked (once) to be migrated."""
    return _ready_engine(settings.database) if ready else shared_engine(settings.database)


def policy(settings: Settings) -> Policy:
    """Return the effective policy: England defaults, each process's own, the authority's override."""
    return _rules(settings)[0]


def working_calendar(settings: Settings) -> WorkingCalendar:
    """Return the working-day calendar in force (bank holidays plus local closures)."""
    return _rules(settings)[1]


def service(settings: Settings) -> Service:
    """Return the database (checked once to be migrated), the policy and its calendar."""
    loaded, calendar = _rules(settings)
    return Service(_ready_engine(settings.database), loaded, calendar)


def notify_channel(settings: Settings) -> NotifyChannel | None:
    """GOV.UK Notify as the settings give it (None without an API key): one per key."""
    if not settings.notify_api_key:
        return None
    return notify.channel(settings.notify_api_key, settings.notify_base_url, settings.notify_templates)  # fmt: skip


def casework(settings: Settings) -> AbstractContextManager[Casework]:
    """Return a unit of work (`with casework(settings) as cx:`) on the database the settings name,
    under the policy in force, at the real time."""
    built = service(settings)
    return unit_of_work(built.engine, built.rules())


def _rules(settings: Settings) -> tuple[Policy, WorkingCalendar]:
    processes(settings)
    return _loaded(
        settings.policy_file,
        _stamp(settings.policy_file),
        tuple(registry.policy_files()),
        settings.timezone,
    )


@lru_cache(maxsize=4)
def _ready_engine(url: str) -> Engine:
    built = shared_engine(url)
    require_current(built)
    return built


@lru_cache(maxsize=8)
def _loaded(
    override: Path | None, _stamp: tuple[int, int], extra: tuple[str, ...], timezone: str
) -> tuple[Policy, WorkingCalendar]:
    loaded = load_policy(override, extra)
    registry.check_policy(loaded)
    return loaded, loaded.working_calendar(ZoneInfo(timezone))


def _stamp(path: Path | None) -> tuple[int, int]:
    """Return the override file's size and modification time: a changed file is read again."""
    if path is None:
        return (0, 0)
    try:
        stat = Path(path).stat()
    except OSError:
        return (-1, -1)  # missing: load_policy says so
    return (stat.st_size, stat.st_mtime_ns)

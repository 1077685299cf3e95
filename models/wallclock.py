"""Time is injected (DESIGN rule 10): this is the only place that reads the wall clock.

Everything else takes `now` (or a `Clock`) as an argument, so the CLI can run "as at" a moment and
tests can move time without sleeping.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """Return a clock that always says `moment` (aware), for tests and "as at" runs."""
    if moment.tzinfo is None:
        raise ValueError("a fixed clock needs an aware datetime")
    return lambda: moment

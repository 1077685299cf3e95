"""Tasks of the sweep flow: wake cases whose recorded step was never applied, sweep the clocks.

Both are idempotent: a case already moving is left alone, and a notice written or delivered before
is never written or sent again (the outbox's keys and claims), so a retried task doubles nothing.
"""

from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models import steps
from models.wallclock import system_clock
from notifications import outbox
from safeguard import orchestration, wiring
from safeguard.settings import get_settings


@task(cache_policy=NO_CACHE)
def wake_recorded_cases() -> list[str]:
    """Resume runs suspended at a step whose submission is stored but not applied; return their cases.

    This closes the window where `safeguard record` stored a step but gave up (or was killed) before
    the run was resumed: within one sweep the case moves on without anyone running `case repair`.
    """
    deps = wiring.casework(get_settings())
    with Session(deps.engine) as session:
        waiting = steps.recorded_not_applied(session)
    woken = []
    for reference, run_id, key in waiting:
        if orchestration.resume_if_waiting(run_id, key):
            woken.append(reference)
    return woken


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def sweep_clocks(at: str | None = None) -> dict[str, Any]:
    """Sweep as at `at` (ISO, default now): write the notices due, deliver what is pending."""
    settings = get_settings()
    deps = wiring.casework(settings)
    report = outbox.sweep(
        deps.engine,
        policy=deps.policy,
        calendar=deps.calendar,
        now=datetime.fromisoformat(at) if at else system_clock(),
        link_base=orchestration.ui_url(settings),
    )
    return report.as_dict()

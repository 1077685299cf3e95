"""Tasks of the sweep flow: wake cases whose recorded step was never applied, sweep the clocks.

Both are idempotent: a case already moving is left alone, and a notice written or delivered before
is never written or sent again (the outbox's keys and claims), so a retried task doubles nothing.
"""

from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models import casework
from models.allegation import pause_key
from models.clock import system_clock
from notifications import outbox
from safeguard import wiring
from safeguard.settings import get_settings


@task(cache_policy=NO_CACHE)
def wake_recorded_cases() -> list[str]:
    """Resume runs suspended at a step whose submission is stored but not applied; return their cases.

    This closes the window where `safeguard record` stored a step but gave up (or was killed) before
    the run was resumed: within one sweep the case moves on without anyone running `case repair`.
    """
    from safeguard import orchestration  # it names the deployments, which name this flow

    engine, _, _ = wiring.casework(get_settings(), engine_for=wiring.shared_engine)
    with Session(engine) as session:
        waiting = casework.recorded_not_applied(session)
    woken = []
    for reference, run_id, name, sequence in waiting:
        if orchestration.resume_if_waiting(run_id, pause_key(name, sequence)):
            woken.append(reference)
    return woken


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def sweep_clocks(at: str | None = None) -> dict[str, Any]:
    """Sweep as at `at` (ISO, default now): write the notices due, deliver what is pending."""
    from safeguard import orchestration

    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings, engine_for=wiring.shared_engine)
    now = datetime.fromisoformat(at) if at else system_clock()
    report = outbox.sweep(
        engine,
        policy=policy,
        calendar=calendar,
        now=now,
        link_base=orchestration.ui_url(settings),
    )
    return report.as_dict()

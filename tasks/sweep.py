"""Tasks of the sweep flow: wake cases whose recorded step was never applied, sweep the clocks.

Both are idempotent: a case already moving is left alone, and a notice written or delivered before
is never written or sent again (the outbox's keys and claims), so a retried task doubles nothing.
"""

from datetime import datetime, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import col, select

from models import steps
from models.health import mark
from models.tables import Case
from models.wallclock import system_clock
from notifications.run_tags import case_tags
from notifications.sweep import sweep
from safeguard import orchestration, wiring
from safeguard.settings import get_settings


@task(cache_policy=NO_CACHE)
def wake_recorded_cases() -> list[str]:
    """Carry on every case that should have moved and has not; return those moved.

    A step stored but never applied (`safeguard record` gave up, or was killed, before the run was
    resumed), a window that ran out (the flow closes it), a run that died before it applied or
    opened a step (left Pending or Running with
    nothing behind it after the service was killed), a crashed run, a case with no run: within one
    sweep each moves on, without anyone running `case repair` (the same repair, `carry_on`).
    """
    settings = get_settings()
    now, grace = system_clock(), timedelta(seconds=settings.stuck_after_seconds)
    with wiring.casework(settings) as cx:
        found = [
            (
                case,
                steps.recorded_keys(cx.session, case.id or 0)
                | steps.lapsed_windows(cx.session, case.id or 0, now),
            )
            for case in steps.stalled(cx.session, now, now - grace)
        ]
    moved = []
    for case, keys in found:
        if orchestration.carry_on(wiring.engine(settings), case, keys, now, grace).acted:
            moved.append(case.reference)
    with wiring.casework(settings) as cx:  # for /metrics and Service health: counts only
        mark(cx.session, "repair", now, detail={"stuck": len(found), "carried_on": len(moved)})
    return moved


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def tag_case_runs(at: str | None = None) -> list[str]:
    """Keep each open case's run tagged for the Prefect UI (late, the highest rung reached, a
    clock stopped: notifications/run_tags.py); return the references of the runs retagged.
    Idempotent: a run whose tags are right is left alone."""
    settings = get_settings()
    service = wiring.service(settings)
    now = datetime.fromisoformat(at) if at else system_clock()
    with wiring.casework(settings) as cx:
        wanted = case_tags(cx.session, service.policy, service.calendar, now)
        names = dict(cx.session.exec(select(Case.flow_run_id, Case.reference).where(col(Case.flow_run_id).in_(list(wanted)))).all()) if wanted else {}  # fmt: skip
    return [names.get(run_id, run_id) for run_id in orchestration.retag(wanted)]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def sweep_clocks(at: str | None = None) -> dict[str, Any]:
    """Sweep as at `at` (ISO, default now): write the notices due, deliver what is pending."""
    settings = get_settings()
    service = wiring.service(settings)
    report = sweep(
        service.engine,
        policy=service.policy,
        calendar=service.calendar,
        now=datetime.fromisoformat(at) if at else system_clock(),
        web_url=settings.web_address(),
        notify=wiring.notify_channel(settings),
    )
    return report.as_dict()

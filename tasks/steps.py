"""Tasks every process flow is made of: thin, idempotent wrappers over models/steps and models/cases.

They carry only ids, step names and keys (DESIGN rule 2) and read everything else from our
database. Caching is off: each task is idempotent by its natural key, so a replay after a resume
(or a redeploy) simply asks the database again and writes nothing twice.
"""

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from models import cases, followup, registry, steps
from models.wallclock import system_clock
from notifications import sweep
from safeguard import orchestration, wiring
from safeguard.settings import get_settings


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, task_run_name="step {key}")
def take_step(case_id: int, names: list[str], sequence: int, key: str) -> steps.Progress:
    """Open the steps (once), apply each that is recorded (once); return results and what waits."""
    with wiring.casework(get_settings()) as cx:
        return cx.advance(case_id, names, sequence, key)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def open_alongside(case_id: int, names: list[str]) -> list[int]:
    """Open steps that run alongside the flow (applied whenever recorded); return their ids."""
    with wiring.casework(get_settings()) as cx:
        return [s.id or 0 for s in cx.open_alongside(case_id, names)]


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def case_facts(case_id: int) -> dict[str, Any]:
    """Return the codes the flow branches on, from what the case's start kept (no names)."""
    with wiring.casework(get_settings()) as cx:
        case = cases.case_by_id(cx.session, case_id)
        decl = registry.get(case.process)
        return decl.facts(cases.details_of(case)) if decl.facts else {}


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def loose_ends(case_id: int, step_name: str) -> bool:
    """True if the case has actions still open, or the closing step is already open (so a
    replay waits for it as the first run did)."""
    with wiring.casework(get_settings()) as cx:
        return bool(followup.open_actions(cx.session, case_id)) or steps.step_exists(
            cx.session, case_id, step_name
        )


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def open_actions(case_id: int) -> int:
    """Return how many of the case's actions are still open."""
    with wiring.casework(get_settings()) as cx:
        return len(followup.open_actions(cx.session, case_id))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def opened(case_id: int, step_name: str, sequence: int) -> bool:
    """True if the case's step of that name and sequence has been opened."""
    with wiring.casework(get_settings()) as cx:
        return steps.step_exists(cx.session, case_id, step_name, sequence)


@task(cache_policy=NO_CACHE)
def tell_at_once(case_id: int) -> int:
    """Tell, at once, the people who must hear of a decision recorded without its rationale, or of
    a record the flow could not apply.

    Writes those notices to the outbox and delivers them now; one that fails to deliver stays
    pending for the next sweep. Idempotent: a replay writes and sends nothing again.
    Returns how many notices were written.
    """
    settings = get_settings()
    service = wiring.service(settings)
    written = sweep.tell_at_once(
        service.engine,
        policy=service.policy,
        calendar=service.calendar,
        case_id=case_id,
        now=system_clock(),
        web_url=settings.web_address(),
        notify=wiring.notify_channel(settings),
    )
    return len(written)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def launch_started(case_id: int) -> list[str]:
    """Create the flow run of each case a step of this one started (e.g. the disruption case of a
    child removed) that has none yet; return their references. Idempotent: a case with a run is
    left alone, and one whose run could not be created is created by the next sweep."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        started = cases.unlaunched(cx.session, case_id)
    for case in started:
        orchestration.launch(wiring.engine(settings), case)
    return [c.reference for c in started]


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def close_case(case_id: int) -> None:
    """Close the case."""
    with wiring.casework(get_settings()) as cx:
        cx.close(case_id)


@task(cache_policy=NO_CACHE)
def show_position(case_id: int, names: list[str], sequence: int, key: str) -> None:
    """Put the steps the case waits at, and their due days, on the run page (references only)."""
    with wiring.casework(get_settings()) as cx:
        case = cases.case_by_id(cx.session, case_id)
        waiting = [steps.step_of(cx.session, case_id, name, sequence) for name in names]
    lines = "\n".join(
        f"- **{s.name}**{f' {sequence}' if sequence > 1 else ''}, due **{s.due_on:%A %d %B %Y}**: "
        f"`safeguard record {case.reference} {s.name} --as STAFF_ID --input FILE`"
        for s in waiting
    )
    create_markdown_artifact(
        key=f"case-{case.reference.lower()}",
        markdown=f"**{case.reference}** waits (suspend key `{key}`) for:\n\n{lines}",
        description=f"{case.reference}: current step",
    )

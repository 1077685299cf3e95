"""Tasks the process flows are made of: thin, idempotent wrappers over models/casework.

They carry only ids (DESIGN rule 2) and read everything else from our database. Caching is off:
each task is idempotent by its natural key, so a replay after a resume (or a redeploy) simply asks
the database again and writes nothing twice.
"""

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from models import casework
from models.allegation import pause_key
from models.clock import system_clock
from models.db import session_scope
from safeguard import wiring
from safeguard.settings import get_settings


def _deps() -> tuple[Any, Any, Any]:
    return wiring.casework(get_settings(), engine_for=wiring.shared_engine)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def open_step(case_id: int, name: str, sequence: int = 1) -> int:
    """Open a step's clock if it is not open yet; return the step id."""
    engine, policy, calendar = _deps()
    with session_scope(engine) as session:
        step = casework.open_step(
            session=session,
            policy=policy,
            calendar=calendar,
            case_id=case_id,
            name=name,
            sequence=sequence,
        )
        return int(step.id or 0)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def open_steps_together(case_id: int, names: list[str]) -> list[int]:
    """Open several steps in one transaction (they count from the same event); return their ids."""
    engine, policy, calendar = _deps()
    with session_scope(engine) as session:
        return [
            int(
                casework.open_step(
                    session=session, policy=policy, calendar=calendar, case_id=case_id, name=name
                ).id
                or 0
            )
            for name in names
        ]


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def stored_submission(case_id: int, name: str, sequence: int = 1) -> int | None:
    """Return the id of what someone recorded for the step, or None."""
    engine, _, _ = _deps()
    with session_scope(engine) as session:
        submission = casework.submission_for(session, case_id, name, sequence)
        return None if submission is None else submission.id


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def apply_submission(case_id: int, name: str, sequence: int = 1) -> dict[str, Any]:
    """Apply the stored submission to the case (once); return what the flow branches on."""
    engine, policy, calendar = _deps()
    with session_scope(engine) as session:
        return casework.apply(
            session=session,
            policy=policy,
            calendar=calendar,
            case_id=case_id,
            name=name,
            sequence=sequence,
            now=system_clock(),
        )


@task(cache_policy=NO_CACHE)
def tell_missing_rationale(case_id: int) -> int:
    """Tell, at once, the people who must hear of a decision recorded without its rationale.

    Writes those notices to the outbox and delivers them now; one that fails to deliver stays
    pending for the next sweep. Idempotent: a replay writes and sends nothing again.
    Returns how many notices were written.
    """
    from notifications import outbox
    from safeguard import orchestration  # it names the deployments, which name this flow

    engine, policy, calendar = _deps()
    written = outbox.tell_missing_rationale(
        engine,
        policy=policy,
        calendar=calendar,
        case_id=case_id,
        now=system_clock(),
        link_base=orchestration.ui_url(get_settings()),
    )
    return len(written)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def close_case(case_id: int) -> None:
    """Close the case."""
    engine, _, _ = _deps()
    with session_scope(engine) as session:
        casework.close_case(session=session, case_id=case_id, now=system_clock())


@task(cache_policy=NO_CACHE)
def show_position(case_id: int, name: str, sequence: int = 1) -> None:
    """Put the step the case waits at, and its due day, on the run page (references only, no names)."""
    engine, _, _ = _deps()
    with session_scope(engine) as session:
        case = casework.case_by_id(session, case_id)
        step = casework.step_of(session, case_id, name, sequence)
        create_markdown_artifact(
            key=f"case-{case.reference.lower()}",
            markdown=(
                f"**{case.reference}** waits at **{name}**{f' {sequence}' if sequence > 1 else ''} "
                f"(suspend key `{pause_key(name, sequence)}`), due **{step.due_on:%A %d %B %Y}**.\n\n"
                f"Record it with `safeguard record {case.reference} {name} --as STAFF_ID --input FILE`."
            ),
            description=f"{case.reference}: current step",
        )

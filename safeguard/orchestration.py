"""Talking to Prefect from the CLI: start a case's flow run, resume it at a step, read its state.

Only ids, references and step codes go to Prefect (DESIGN rule 2). The API is PREFECT_API_URL, else
the one the current Prefect settings name (a test harness), else the local server `make run` starts.
Prefect itself is imported inside the functions that talk to it: the import costs about a second,
and most commands (calendar, policy, staff, case show) never need it.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

import httpx
from sqlalchemy.engine import Engine

from models.cases import set_flow_run
from models.db import session_scope
from models.errors import InputError
from models.tables import Case
from models.wallclock import system_clock
from safeguard.settings import Settings

DEPLOYMENT_NAME = "safeguard"  # every flow is deployed under this name: "<flow>/safeguard"


@dataclass(frozen=True)
class RunState:
    name: str  # e.g. "Suspended", "Running", "Completed", "Crashed"
    type: str  # PAUSED, RUNNING, COMPLETED, CRASHED, ...
    pause_key: str | None


def api_url(settings: Settings) -> str:
    """Return the Prefect API address in force."""
    from prefect.settings import get_current_settings

    configured = os.environ.get("PREFECT_API_URL") or get_current_settings().api.url
    return str(configured or f"http://127.0.0.1:{settings.prefect_port}/api")


def ui_url(settings: Settings) -> str:
    """Return the Prefect UI address (the API's, without /api)."""
    return api_url(settings).removesuffix("/").removesuffix("/api")


def check_api(settings: Settings) -> str:
    """Return the API address if Prefect answers there, else raise InputError saying what to do."""
    url = api_url(settings)
    try:
        httpx.get(f"{url}/health", timeout=5).raise_for_status()
    except httpx.HTTPError:
        raise InputError(
            f"Prefect does not answer at {url}: start the service with 'make run' (or set PREFECT_API_URL)"
        ) from None
    return url


@contextmanager
def prefect_api(settings: Settings) -> Iterator[str]:
    """Point Prefect's client at the API in force (refusing at once if it is down)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = check_api(settings)
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


def start_run(process: str, case_id: int, reference: str) -> str:
    """Create the case's flow run from its deployment, named after the case; return its id."""
    from prefect.deployments import run_deployment

    run = run_deployment(
        f"{process}/{DEPLOYMENT_NAME}",
        parameters={"case_id": case_id},
        timeout=0,
        flow_run_name=reference,
        tags=[process, reference],
    )
    return str(run.id)  # type: ignore[union-attr]  # sync call: a FlowRun, not a coroutine


def launch(engine: Engine, case: Case) -> str:
    """Create the flow run of a stored case and record it on the case; return the run's id.

    The one way a case gets its run: when it starts, and when `case repair` finds it has none.
    """
    assert case.id is not None
    run_id = start_run(case.process, case.id, case.reference)
    with session_scope(engine) as session:
        set_flow_run(session=session, case_id=case.id, flow_run_id=run_id, now=system_clock())
    return run_id


def state_of(flow_run_id: str) -> RunState:
    """Return the run's state and, when suspended, the key of the step it waits at."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
    state = run.state
    if state is None:
        return RunState("Unknown", "UNKNOWN", None)
    return RunState(state.name or state.type.value, state.type.value, state.state_details.pause_key)


def resume_if_waiting(flow_run_id: str, key: str) -> bool:
    """Resume the run if it is suspended at this step's key; return whether it was resumed."""
    from prefect.exceptions import NotPausedError
    from prefect.flow_runs import resume_flow_run

    state = state_of(flow_run_id)
    if state.type != "PAUSED" or not waits_at(state.pause_key, key):
        return False
    try:
        resume_flow_run(UUID(flow_run_id))
    except NotPausedError:  # resumed by someone else between our look and our resume
        return False
    return True


def waits_at(pause_key: str | None, key: str) -> bool:
    """True if a run suspended with `pause_key` waits for the step whose key is `key`."""
    return pause_key == key or (pause_key or "").startswith(f"{key}-again-")


def restart(flow_run_id: str) -> None:
    """Schedule a crashed or failed run again: it replays from the top and carries on."""
    from prefect import get_client
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(flow_run_id), Scheduled(), force=True)

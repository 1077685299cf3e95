"""Talking to Prefect from the CLI, the web and the sweep: start a case's flow run, resume it after a
record is stored (the one resume loop, `follow`), read its state, repair it.

Only ids, references and step codes go to Prefect (DESIGN rule 2). The API is PREFECT_API_URL, else
the one the current Prefect settings name (a test harness), else the local server `make run` starts.
Prefect itself is imported inside the functions that talk to it: the import costs about a second,
and most commands (calendar, policy, staff, case show) never need it.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy.engine import Engine

from models.cases import case_by_id, set_flow_run
from models.db import session_scope
from models.errors import InputError
from models.steps.queries import newest_open_step, progress_of
from models.tables import Case, Submission
from models.wallclock import system_clock
from safeguard.settings import Settings

DEPLOYMENT_NAME = "safeguard"  # every flow is deployed under this name: "<flow>/safeguard"


@dataclass(frozen=True)
class RunState:
    name: str  # e.g. "Suspended", "Running", "Completed", "Crashed"
    type: str  # PAUSED, RUNNING, COMPLETED, CRASHED, ...
    pause_key: str | None
    since: datetime | None = None  # when the run entered this state
    process: str | None = None  # "host:pid" of the process running it, when one was started


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
        as_subflow=False,  # started from another case's flow, it is still a case of its own
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


@dataclass(frozen=True)
class Followed:
    """Where a stored record stands once the resume loop ends: "waiting" (not applied yet),
    "failed" (the flow could not apply it), "applied", or "moved" (applied, and the flow opened
    what comes next or closed the case); and whether Prefect answered throughout."""

    where: str
    answering: bool

    @property
    def applied(self) -> bool:
        return self.where != "waiting"


def follow(
    engine: Engine,
    settings: Settings,
    run_id: str | None,
    submission_id: int,
    *,
    seconds: float,
    until_moved: bool = True,
    every: float = 0.25,
) -> Followed:
    """The one resume loop after a record is stored (DESIGN rule 13), the CLI's and the web's.

    Resume the case's run whenever it is suspended, until the flow has applied the record and,
    with `until_moved`, the run waits again or has finished (so the next step is open to say), or
    `seconds` pass. Resumed again and again, not once: the flow opens a step a moment before it
    suspends, and a record made in that moment finds it still running. Never raises for Prefect:
    one that does not answer (or stops answering) ends the loop saying so, the record stays
    stored, and the sweep carries the case on when Prefect is back (`case repair` does it now).
    """
    with session_scope(engine) as session:
        stored = session.get(Submission, submission_id)
        newest = newest_open_step(session, stored.case_id) if stored else 0

    def where() -> str:
        with session_scope(engine) as session:
            return progress_of(session, submission_id, newest)

    deadline = time.monotonic() + seconds
    try:
        with prefect_api(settings):
            while run_id:  # no flow run yet: the sweep creates it, and it applies the record
                now = where()
                if now == "failed" or (now != "waiting" and not until_moved):
                    return Followed(now, True)
                if now != "waiting":  # applied: moved on once the run waits again, or finished
                    if state_of(run_id).type != "RUNNING":
                        return Followed(now, True)
                else:
                    resume_if_waiting(run_id)
                if time.monotonic() >= deadline:
                    return Followed(now, True)
                time.sleep(every)
    except Exception:  # Prefect gone (any client error): the sweep carries the case on
        return Followed(where(), False)
    return Followed(where(), True)


def hand_over(run_id: str, submission_id: int) -> None:
    """Leave a detached process nudging the run until it has taken the record (safeguard/nudge.py),
    for a command that returns before the flow has applied it; it outlives the command."""
    subprocess.Popen(
        [sys.executable, "-m", "safeguard.nudge", run_id, str(submission_id)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def launch_by_id(engine: Engine, settings: Settings, case_id: int) -> None:
    """Create a stored case's flow run (for a caller that does not wait); quiet on failure: the
    sweep creates the run of a case that has none."""
    try:
        with session_scope(engine) as session:
            case = case_by_id(session, case_id)
        with prefect_api(settings):
            launch(engine, case)
    except Exception:
        return


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _client() -> Any:
    """Return this process's Prefect client for the API in force, opened once: a new client costs
    about 50 ms of CPU (its settings, its HTTP client) against 2 ms for a request on one already
    open, and the resume loop and `status` ask again and again."""
    from prefect import get_client
    from prefect.settings import get_current_settings

    url = str(get_current_settings().api.url)
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = get_client(sync_client=True)
            client.__enter__()
    return client


SWEEP_TAGS = re.compile(r"late|rung-\d+|clock-stopped")  # the tags the sweep keeps on case runs


def merged(current: Iterable[str], kept: Iterable[str]) -> list[str]:
    """A run's tags with the sweep's own replaced by `kept`, the others (process, reference, any
    a manager added) left as they are, in order."""
    return [*(t for t in current if not SWEEP_TAGS.fullmatch(t)), *kept]


def retag(kept: Mapping[str, Sequence[str]]) -> list[str]:
    """Put the sweep's tags (notifications/run_tags.py) on each run whose tags differ, leaving its
    others; return the ids of the runs changed. Runs are read a page at a time."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    changed: list[str] = []
    ids = sorted(kept)
    for start in range(0, len(ids), 200):
        page = [UUID(i) for i in ids[start : start + 200]]
        runs = _client().read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=page)), limit=len(page)
        )
        for run in runs:
            wanted = merged(run.tags, kept[str(run.id)])
            if wanted != list(run.tags):
                _client().update_flow_run(run.id, tags=wanted)
                changed.append(str(run.id))
    return changed


def state_of(flow_run_id: str) -> RunState:
    """Return the run's state and, when suspended, the key of the step it waits at."""
    run = _client().read_flow_run(UUID(flow_run_id))
    state = run.state
    if state is None:
        return RunState("Unknown", "UNKNOWN", None)
    return RunState(
        state.name or state.type.value,
        state.type.value,
        state.state_details.pause_key,
        state.timestamp,
        run.infrastructure_pid,
    )


def nothing_behind(state: RunState, now: datetime, grace: timedelta) -> bool:
    """True if a Pending or Running run has no live process behind it: its process (on this host)
    is gone, or it has stood in that state longer than `grace` (a case's run lives seconds
    between its waits; one killed with the serve process stays Pending or Running for ever)."""
    if state.type not in ("PENDING", "RUNNING"):
        return False
    host, _, pid = (state.process or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return True
    return state.since is not None and now - state.since > grace


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Repair:
    acted: bool
    said: str


def carry_on(
    engine: Engine, case: Case, waiting: Iterable[str], now: datetime, grace: timedelta
) -> Repair:
    """Move a case's flow run on, whatever stopped it; return what was done (one line).

    No run yet: create it. Suspended at a step whose record is stored: resume it. Crashed, failed
    or cancelled, or Pending/Running with nothing behind it: schedule it again (it replays from the
    top, applying what is stored, writing nothing twice). The one repair, for `case repair` and the
    sweep.
    """
    if not case.flow_run_id:  # Prefect failed between storing the case and creating its run
        run_id = launch(engine, case)
        return Repair(True, f"flow run {run_id} created; it carries on from the last step")
    state = state_of(case.flow_run_id)
    if state.type in ("CRASHED", "FAILED", "CANCELLED") or nothing_behind(state, now, grace):
        restart(case.flow_run_id)
        what = state.name.lower() + (
            " (nothing behind it)" if state.type in ("PENDING", "RUNNING") else ""
        )
        return Repair(True, f"the {what} run is scheduled again; it replays to its last step")
    if state.type == "PAUSED":
        # A record stored for any open step (the one waited at, or one alongside it): resume.
        if set(waiting) and resume_if_waiting(case.flow_run_id):
            return Repair(True, "resumed")
        return Repair(False, f"waits at {state.pause_key}: nothing recorded for it yet")
    return Repair(False, f"the run is {state.name}; nothing to repair")


def resume_if_waiting(flow_run_id: str, key: str | None = None) -> bool:
    """Resume the run if it is suspended (at this step's key, when one is given); return whether it
    was resumed. A run resumed where nothing new is recorded only waits again."""
    from prefect.client.schemas.responses import SetStateStatus

    state = state_of(flow_run_id)
    if state.type != "PAUSED" or (key is not None and not waits_at(state.pause_key, key)):
        return False
    answer = _client().resume_flow_run(UUID(flow_run_id))
    # Not accepted: resumed by someone else between our look and our resume.
    return bool(answer.status == SetStateStatus.ACCEPT)


def waits_at(pause_key: str | None, key: str) -> bool:
    """True if a run suspended with `pause_key` waits for the step whose key is `key`."""
    return pause_key == key or (pause_key or "").startswith(f"{key}-again-")


def restart(flow_run_id: str) -> None:
    """Schedule a crashed or failed run again: it replays from the top and carries on."""
    from prefect import get_client
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(flow_run_id), Scheduled(), force=True)

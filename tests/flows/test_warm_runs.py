"""A served flow run starts warm (forked from a process that has imported Prefect and the project,
deployments/warm.py) and ends as a run started cold did: its state, its result and its last log
lines reach the Prefect server."""

import multiprocessing.forkserver
import os

import pytest

from tests.flows.conftest import until

pytestmark = pytest.mark.flows


def test_a_served_run_is_forked_warm_and_its_last_words_reach_prefect(served: str) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.utilities.asyncutils import run_coro_as_sync

    from safeguard.cli import main

    assert main(["db", "upgrade"]) == 0
    run = run_deployment("selfcheck/safeguard", timeout=120)
    assert run.state is not None and run.state.is_completed(), run.state

    # Nothing else in this process starts a forkserver: it is here because the run was forked.
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    os.kill(server, 0)  # alive, for the next run

    async def logs() -> list[str]:
        async with get_client() as client:
            found = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            )
        return [log.message for log in found]

    # The engine's last line, written as the run ends, is sent before a forked run's process
    # leaves (as a forked child does, without the interpreter's exit handlers).
    def finished() -> bool:
        return any(
            m.startswith("Finished in state Completed") for m in run_coro_as_sync(logs()) or []
        )

    assert until(finished, 30), run_coro_as_sync(logs())

"""A real Prefect server (prefect_test_harness) with the project's deployments served by a Runner,
for tests that drive whole cases through the CLI."""

import asyncio
import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deployments.serve import serve_on
from tests.smtp import SmtpServer
from tests.words import assert_no_codes_in_mails

TOY = "tests.toy.process"  # a process declared only in the tests (tests/toy/)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the harness and serve every deployment; yield the API URL."""
    from prefect.runner import Runner
    from prefect.settings import get_current_settings
    from prefect.testing.utilities import prefect_test_harness

    from deployments import deployments
    from safeguard.settings import get_settings

    home = tmp_path_factory.mktemp("flows")
    database = f"sqlite:///{home}/safeguard.db"
    saved = {
        k: os.environ.get(k)
        for k in ("PREFECT_API_URL", "SAFEGUARD_DATABASE_URL", "SAFEGUARD_PROCESSES")
    }
    with prefect_test_harness(server_startup_timeout=60):
        url = str(get_current_settings().api.url)
        # The Runner's thread and the flow-run processes it starts read these from the environment.
        os.environ["PREFECT_API_URL"] = url
        os.environ["SAFEGUARD_DATABASE_URL"] = database
        os.environ["SAFEGUARD_PROCESSES"] = TOY  # served beside the real processes
        runner = Runner(query_seconds=1, heartbeat_seconds=None, limit=50)
        serve_on(runner, deployments(get_settings()), schedules=False)
        loop = asyncio.new_event_loop()
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(loop.run_until_complete, runner.start()), daemon=True
        )
        thread.start()
        try:
            yield database
        finally:
            asyncio.run_coroutine_threadsafe(runner.astop(), loop).result(30)
            thread.join(30)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SmtpServer]:
    """One SMTP server for as long as the served database: a team added once per database (the
    disruption and complaint tests add theirs with this server's port) keeps reaching it, whichever
    worker runs which of their tests, in whatever order."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
    assert_no_codes_in_mails(server)


@pytest.fixture
def served(prefect_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The served database URL, also in force for the CLI under test (and the toy process)."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", prefect_server)
    monkeypatch.setenv("SAFEGUARD_PROCESSES", TOY)
    return prefect_server


def write_json(tmp_path: Path, name: str, data: object) -> str:
    import json

    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def until(predicate: Callable[[], bool], seconds: float = 90) -> bool:
    """Poll `predicate` every quarter second until it holds (True) or `seconds` pass (False): for
    what a served run does in its own process, never for a deadline (those are given as --at)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False

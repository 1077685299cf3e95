"""The all-in-one local service behind `make run` / `safeguard serve`.

1. migrates our database;
2. starts a Prefect server on SQLite under SAFEGUARD_HOME (unless PREFECT_API_URL names a running
   one) and waits until it answers;
3. starts one serve process (deployments/serve.py) for every deployment the project defines, and runs
   the selfcheck deployment once so the UI shows at once whether the service is healthy;
4. starts the browser app (web/, uvicorn) on SAFEGUARD_WEB_PORT;
5. prints the Prefect UI's and the web app's addresses;
6. on Ctrl-C (SIGINT) or SIGTERM stops what it started, serve process first, each with its whole
   process group, so nothing is left behind.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import httpx
from sqlalchemy.engine import Engine

from deployments import deployments
from models import first_run
from models.db import grant_app_role, make_engine, session_scope, upgrade
from models.errors import InputError
from models.wallclock import system_clock
from safeguard.orchestration import DEPLOYMENT_NAME
from safeguard.settings import Settings

STARTUP_SECONDS = 120
STOP_SECONDS = 20
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def run_local_service(settings: Settings, port: int) -> int:
    """Run the service until Ctrl-C or SIGTERM; return the exit status."""
    home = settings.home.expanduser().resolve()
    prefect_home = home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)

    engine = make_engine(settings.migration_database_url or settings.database)
    before, after = upgrade(engine)
    if settings.app_role:
        grant_app_role(engine, settings.app_role)
    setup = first_run_line(engine, settings)  # nobody in the staff directory yet: a setup link
    engine.dispose()
    _say(
        f"database {engine.url.render_as_string(hide_password=True)} at migration {after}"
        + (f" (was {before or 'empty'})" if before != after else "")
    )

    env = _child_environment(settings, home, prefect_home)
    stop = threading.Event()
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        api_url = os.environ.get("PREFECT_API_URL")
        if api_url:
            _wait_healthy(api_url, None, stop, None)
            _say(f"using the Prefect server at {api_url} (PREFECT_API_URL)")
        else:
            api_url = f"http://127.0.0.1:{port}/api"
            _refuse_busy_port(
                port, "another Prefect server?", "--port or set SAFEGUARD_PREFECT_PORT"
            )
            env["PREFECT_API_URL"] = env["PREFECT_UI_API_URL"] = api_url
            server_log = prefect_home / "server.log"
            server = _start(
                [
                    _prefect(),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--analytics-off",
                ],
                env,
                server_log,
            )
            children.append(("Prefect server", server))
            _wait_healthy(api_url, server, stop, server_log)
            _say(f"Prefect server started (SQLite under {prefect_home}; log {server_log})")
        if stop.is_set():
            return 0
        env["PREFECT_API_URL"] = api_url
        serve_log = prefect_home / "serve.log"
        serve = _start([sys.executable, "-m", "deployments.serve"], env, serve_log)
        children.append(("serve process", serve))
        wanted = [spec.full_name for spec in deployments(settings)]
        names = _wait_deployments(api_url, wanted, serve, stop, serve_log)
        if stop.is_set():
            return 0
        _run_selfcheck(api_url, stop)
        ui = api_url.removesuffix("/api")
        _say(f"serving {len(names)} deployment(s): {', '.join(names)} (log {serve_log})")
        web_port = settings.web_port
        _refuse_busy_port(web_port, "another web app?", "set SAFEGUARD_WEB_PORT")
        web_log = home / "web.log"
        web = _start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "web.service:app_from_settings",
                "--host",
                "127.0.0.1",
                "--port",
                str(web_port),
                "--no-access-log",
            ],
            env,
            web_log,
        )
        children.append(("web app", web))
        web_url = f"http://127.0.0.1:{web_port}"
        _wait_web(web_url, web, stop, web_log)
        if stop.is_set():
            return 0
        _out(f"Prefect UI: {ui}")
        _out(f"Web app: {web_url}")
        if setup:
            _out(setup)
        _say("press Ctrl-C to stop")
        while not stop.wait(0.5):
            for what, child in children:
                if child.poll() is not None:
                    _say(f"the {what} stopped unexpectedly (exit {child.returncode}); stopping")
                    return 1
        return 0
    finally:
        # Stop everything before saying anything: stdout may be a pipe that Ctrl-C closed (| tee).
        for _, child in reversed(children):
            _stop(child)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for what, _ in reversed(children):
            _say(f"stopped the {what}")


def first_run_line(engine: Engine, settings: Settings) -> str | None:
    """While nobody is in the staff directory, the line that gives the first run's one-time link
    to set up the first administrator (a new link each start; the last printed works)."""
    with session_scope(engine) as session:
        token = first_run.setup_link(session, system_clock())
    if token is None:
        return None
    return (
        f"First run: set up the first administrator at {settings.web_address()}/setup/{token} "
        f"(works once, for {first_run.LINK_LASTS.total_seconds() / 3600:.0f} hours)"
    )


def _child_environment(settings: Settings, home: Path, prefect_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SAFEGUARD_HOME=str(home),
        SAFEGUARD_DATABASE_URL=settings.database,
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED=os.environ.get(
            "PREFECT_SERVER_ANALYTICS_ENABLED", "false"
        ),
        DO_NOT_TRACK=os.environ.get("DO_NOT_TRACK", "1"),
        # How often the serve process asks for runs to start (Prefect's default is 10 s): a resumed
        # case waits on average half of this before its flow run starts again (bench/record_to_next_step.py).
        PREFECT_RUNNER_POLL_FREQUENCY=os.environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "2"),
        PYTHONUNBUFFERED="1",
    )
    if settings.policy_file:
        env["SAFEGUARD_POLICY_FILE"] = str(settings.policy_file.expanduser().resolve())
    return env


def _prefect() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def _start(argv: list[str], env: dict[str, str], log: Path) -> "subprocess.Popen[bytes]":
    # A new session: Ctrl-C reaches only us, and we stop each child with its whole process group.
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            cwd=Path(__file__).resolve().parent.parent,
        )


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, be killed if the supervisor itself dies (even by SIGKILL),
    so a crashed `safeguard serve` cannot leave a server running. SIGKILL, not SIGTERM: both children
    would get it at once, and the serve process's graceful shutdown (pausing its deployments through
    the API) then stalls against a server that is shutting down too. The ordered stop is Ctrl-C's."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _stop(child: "subprocess.Popen[bytes]") -> None:
    for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; sweep anything it left in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        break


def _refuse_busy_port(port: int, what: str, instead: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            also = ", or set PREFECT_API_URL to use the server already there" if "Prefect" in what else ""  # fmt: skip
            raise InputError(f"port {port} is already in use ({what}): {instead}{also}") from None


def _wait_web(url: str, web: "subprocess.Popen[bytes]", stop: threading.Event, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not stop.is_set():
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if web.poll() is not None:
            raise InputError(f"the web app did not start (exit {web.returncode}): {_tail(log)}")
        if time.monotonic() > deadline:
            raise InputError(f"no answer from the web app at {url}: {_tail(log)}")
        stop.wait(0.3)


def _wait_healthy(
    api_url: str, child: "subprocess.Popen[bytes] | None", stop: threading.Event, log: Path | None
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not stop.is_set():
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if child is not None and child.poll() is not None:
            raise InputError(
                f"the Prefect server did not start (exit {child.returncode}): {_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise InputError(
                f"no answer from the Prefect server at {api_url} after {STARTUP_SECONDS} s: {_tail(log)}"
            )
        stop.wait(0.5)


def _wait_deployments(
    api_url: str,
    wanted: list[str],
    serve: "subprocess.Popen[bytes]",
    stop: threading.Event,
    log: Path,
) -> list[str]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not stop.is_set():
        found = [
            n
            for n in wanted
            if httpx.get(f"{api_url}/deployments/name/{n}", timeout=5).status_code == 200
        ]
        if found == wanted:
            return wanted
        if serve.poll() is not None:
            raise InputError(f"the serve process stopped (exit {serve.returncode}): {_tail(log)}")
        if time.monotonic() > deadline:
            raise InputError(f"deployments not registered after {STARTUP_SECONDS} s: {_tail(log)}")
        stop.wait(0.5)
    return []


def _run_selfcheck(api_url: str, stop: threading.Event) -> None:
    """Start one selfcheck run. Just after start-up the server can answer 503 while SQLite is busy
    with the serve process registering deployments, so retry; a failure here is reported, not fatal."""
    error: Exception | None = None
    for wait in (0.5, 1, 2, 4, 8):
        try:
            deployment = httpx.get(
                f"{api_url}/deployments/name/selfcheck/{DEPLOYMENT_NAME}", timeout=5
            ).raise_for_status()
            httpx.post(
                f"{api_url}/deployments/{deployment.json()['id']}/create_flow_run",
                json={},
                timeout=5,
            ).raise_for_status()
            return
        except httpx.HTTPError as exc:
            error = exc
            if stop.wait(wait):
                return
    _say(
        f"could not start the selfcheck run ({error}); run it from the UI when the server is ready"
    )


def _tail(log: Path | None, lines: int = 5) -> str:
    if log is None or not log.exists():
        return "no log"
    text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return f"see {log}: " + " | ".join(text)


def _say(message: str) -> None:
    _out(f"safeguard: {message}")


def _out(line: str) -> None:
    # A pipe that Ctrl-C closed (| tee) raises here: nobody reads any more, but the work goes on.
    with contextlib.suppress(OSError):
        print(line, flush=True)

"""`make run` on this machine: the service starts, answers, runs its served deployment, and stops
cleanly on Ctrl-C leaving no process behind; on a first run it prints the setup link, and
`safeguard demo` loads its cases through it. Real processes throughout (about 80 s)."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_of(home: Path) -> list[int]:
    """Return the pids whose environment carries this test's SAFEGUARD_HOME."""
    marker = f"SAFEGUARD_HOME={home}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def describe(home: Path) -> str:
    """Return the command lines of the processes still carrying this test's SAFEGUARD_HOME."""
    lines = []
    for pid in processes_of(home):
        try:
            lines.append(
                Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            )
        except OSError:
            continue
    return "; ".join(lines) or "none"


def wait_for(predicate, seconds: float, what: str):  # type: ignore[no-untyped-def]
    """Poll a real process's state (not a deadline of ours) until it holds, or fail naming it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def test_make_run_serves_and_stops_cleanly(tmp_path: Path) -> None:
    home = (tmp_path / "home").resolve()
    port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEGUARD_", "PREFECT_"))}
    env.update(SAFEGUARD_HOME=str(home), SAFEGUARD_PREFECT_PORT=str(port), SAFEGUARD_WEB_PORT=str(web_port))  # fmt: skip
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        # Its own session, like a terminal's foreground job: Ctrl-C goes to make and safeguard serve.
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def ui_line() -> str | None:
            match = re.search(r"^Prefect UI: (\S+)$", log.read_text(), re.M)
            assert make.poll() is None, log.read_text()
            return match.group(1) if match else None

        ui = wait_for(ui_line, 90, "the Prefect UI address")
        assert ui == f"http://127.0.0.1:{port}"
        assert httpx.get(ui, timeout=10).status_code == 200  # the UI page itself
        api = f"{ui}/api"
        assert httpx.get(f"{api}/health", timeout=5).json() is True
        deployment = httpx.get(f"{api}/deployments/name/selfcheck/safeguard", timeout=5).json()
        assert deployment["name"] == "safeguard"

        def selfcheck_completed() -> bool:
            runs = httpx.post(
                f"{api}/flow_runs/filter",
                timeout=5,
                json={"deployments": {"id": {"any_": [deployment["id"]]}}},
            ).json()
            return any(r["state_type"] == "COMPLETED" for r in runs)

        wait_for(selfcheck_completed, 60, "the served selfcheck run to complete")
        # The web app beside it: its address printed, its sign-in page served, signed out elsewhere.
        assert re.search(rf"^Web app: http://127.0.0.1:{web_port}$", log.read_text(), re.M)
        web = f"http://127.0.0.1:{web_port}"
        assert "Sign in" in httpx.get(f"{web}/sign-in", timeout=5).text
        assert httpx.get(f"{web}/my-work", timeout=5).status_code == 303
        # A first run (nobody in the staff directory): the one-time link to set up the first
        # administrator is printed, and opens the setup page.
        setup = re.search(
            rf"^First run: set up the first administrator at ({web}/setup/\S+) \(works once",
            log.read_text(),
            re.M,
        )
        assert setup, log.read_text()
        assert "Set up Safeguard" in httpx.get(setup.group(1), timeout=5).text
        # The demo, through the running service (real flow runs): a fictional team and a dozen
        # cases at different stages; refused a second time (the database holds cases now).
        demo = [str(ROOT / ".venv" / "bin" / "safeguard"), "demo", "--json"]
        loaded = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=600)
        assert loaded.returncode == 0, loaded.stderr
        cases = [c["reference"] for c in json.loads(loaded.stdout)["cases"]]
        assert len(cases) == 14 and {c[:3] for c in cases} == {"ALG", "DIS", "CMP", "IRO"}
        again = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 2 and "already holds cases" in again.stderr
        # Signed in as the demo's head of service: every case on the board, late and on time.
        with httpx.Client(base_url=web, timeout=10) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
            assert token
            signed = client.post("/sign-in", data={"staff_id": "r.osei", "password": "demo password 2026", "csrf_token": token.group(1), "next": "/board"})  # fmt: skip
            assert signed.status_code == 303
            board = client.get("/board").text
        assert [c for c in cases if c not in board] == [] and "Late" in board and "On time" in board
        assert (home / "safeguard.db").exists() and (home / "prefect" / "prefect.db").exists()
    finally:
        os.killpg(make.pid, signal.SIGINT)
        make.wait(60)
    wait_for(lambda: not processes_of(home), 60, "every process started by make run to exit")
    text = log.read_text()
    assert "stopped the serve process" in text and "stopped the Prefect server" in text
    assert "stopped the web app" in text
    for either in (port, web_port):  # nothing listens on either port any more
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", either), timeout=2).close()


def test_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    home = (tmp_path / "home").resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEGUARD_", "PREFECT_"))}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env.update(SAFEGUARD_HOME=str(home), SAFEGUARD_PREFECT_PORT=str(port))
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "safeguard"), "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert result.returncode == 2
    assert f"error: port {port} is already in use" in result.stderr
    assert not processes_of(home)


def start_serve(home: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """Start `safeguard serve` with its output on a pipe; return it and the UI address it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEGUARD_", "PREFECT_"))}
    env.update(SAFEGUARD_HOME=str(home), SAFEGUARD_PREFECT_PORT=str(port), SAFEGUARD_WEB_PORT=str(free_port()))  # fmt: skip
    serve = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "safeguard"), "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert serve.stdout is not None
    for line in serve.stdout:  # a blocking read of a real process's output, ended by its own lines
        if line.startswith("Prefect UI: "):
            return serve, line.split(": ", 1)[1].strip()
    pytest.fail(f"safeguard serve ended without printing the UI address (exit {serve.wait()})")


def test_ctrl_c_stops_everything_even_when_the_output_pipe_is_gone(tmp_path: Path) -> None:
    """`make run | tee log` then Ctrl-C: tee dies first, and the cleanup must not need to print."""
    home = (tmp_path / "home").resolve()
    serve, _ = start_serve(home, free_port())
    try:
        # The supervisor, the Prefect server, the serve process with the forkserver its runs start
        # from and that forkserver's resource tracker, and the web app (once the selfcheck run
        # that start-up begins, a process of its own for a moment, has finished).
        wait_for(lambda: len(processes_of(home)) == 6, 60, f"six processes: {describe(home)}")
        assert serve.stdout is not None
        serve.stdout.close()  # the reader (tee) is gone
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(60)
        wait_for(lambda: not processes_of(home), 60, "every process to exit after Ctrl-C")
    finally:  # a failure above must not leave the service running (and the machine busy)
        for pid in processes_of(home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_supervisor_takes_its_children_with_it(tmp_path: Path) -> None:
    home = (tmp_path / "home").resolve()
    serve, ui = start_serve(home, free_port())
    os.kill(serve.pid, signal.SIGKILL)  # no chance to clean up
    serve.wait(10)
    wait_for(
        lambda: not processes_of(home),
        60,
        f"the Prefect server and serve process to exit: {describe(home)}",
    )
    with pytest.raises(
        httpx.TransportError
    ):  # refused, or reset while the dead socket is torn down
        httpx.get(f"{ui}/api/health", timeout=2)

"""Benchmark the allegation process on the real local service (what `make run` starts).

1. From `safeguard record` to the next step open, over N cases (median and 95th percentile),
   against a bare flow run (the selfcheck deployment: create to Completed) in the same service.
2. Memory (RSS) of the serve process and the Prefect server with M cases suspended.

    .venv/bin/python bench/record_to_next_step.py [--cases 20] [--suspended 200] [--json]

Takes a few minutes (the suspended cases start at the serve process's concurrency limit).
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip())
        me = int(status.parent.name)
        if me == pid or _descends(me, ppid, pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def _descends(me: int, ppid: int, ancestor: int) -> bool:
    seen = 0
    while ppid > 1 and seen < 20:
        if ppid == ancestor:
            return True
        try:
            ppid = int(Path(f"/proc/{ppid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
        seen += 1
    return False


def cli(*args: str) -> str:
    from safeguard.cli import main

    out = StringIO()
    with redirect_stdout(out):
        code = main(list(args))
    if code != 0:
        raise RuntimeError(f"safeguard {' '.join(args)} exited {code}")
    return out.getvalue()


def pids_of(pattern: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if pattern in text and str(os.environ["SAFEGUARD_HOME"]) in Path(
            cmdline.parent / "environ"
        ).read_bytes().decode(errors="ignore"):
            found.append(int(cmdline.parent.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--suspended", type=int, default=200)
    parser.add_argument(
        "--long-steps", type=int, default=8, help="steps to take one long case through"
    )
    parser.add_argument("--disruptions", type=int, default=5, help="disruption cases to time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    say = (lambda *_: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))

    home = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    port = free_port()
    os.environ.update(
        SAFEGUARD_HOME=str(home),
        SAFEGUARD_PREFECT_PORT=str(port),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        DO_NOT_TRACK="1",
    )
    os.environ.pop("SAFEGUARD_DATABASE_URL", None)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    say(f"starting the service under {home} on port {port} ...")
    service = subprocess.Popen(
        [str(ROOT / ".venv/bin/safeguard"), "serve"],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert service.stdout is not None
        for line in service.stdout:
            if line.startswith("Prefect UI"):
                break
        else:
            raise RuntimeError("the service did not start")
        serve_pid = pids_of("deployments.serve")[0]
        server_pid = pids_of("prefect server start")[0]
        results: dict[str, object] = {"cases": args.cases, "suspended": args.suspended}
        for staff in (
            ("lado-1", "--role", "lado"),
            ("iro-1", "--role", "iro"),
            ("sw-1", "--role", "social_worker"),
            ("tm-1", "--role", "team_manager"),
            ("ssw-1", "--role", "supervising_social_worker"),
        ):
            cli("staff", "add", staff[0], "--name", staff[0], *staff[1:])

        # A bare flow run in the same service: the selfcheck deployment, create to Completed.
        from prefect import get_client
        from prefect.deployments import run_deployment

        bare = []
        for _ in range(5):
            start = time.perf_counter()
            run = run_deployment("selfcheck/safeguard", timeout=120)
            assert run.state is not None and run.state.is_completed(), run.state
            bare.append(time.perf_counter() - start)
        results["bare_flow_run_s"] = {"median": statistics.median(bare), "max": max(bare)}
        say(f"bare flow run: median {statistics.median(bare):.2f} s")

        payload = home / "ic.json"
        payload.write_text(
            json.dumps({"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"})
        )
        timings = []
        for i in range(args.cases):
            ref = json.loads(cli(*_start_args(i), "--json"))["reference"]
            start = time.perf_counter()
            out = json.loads(
                cli(
                    "record",
                    ref,
                    "initial_consideration",
                    "--as",
                    "lado-1",
                    "--input",
                    str(payload),
                    "--at",
                    "2026-10-19T15:00",
                    "--json",
                )
            )
            timings.append(time.perf_counter() - start)
            assert out["applied"], out
            say(f"  case {i + 1}/{args.cases}: {timings[-1]:.2f} s")
        q = statistics.quantiles(timings, n=20)
        results["record_to_next_step_s"] = {
            "median": statistics.median(timings),
            "p95": q[18],
            "max": max(timings),
        }
        say(
            f"record -> next step open: median {statistics.median(timings):.2f} s, p95 {q[18]:.2f} s"
        )

        # Placement disruptions: the record that completes the "before the ending" phase, to the
        # next phase's step open (the meeting decision waited for).
        results["disruption_record_to_next_phase_s"] = disruption_phases(
            home, args.disruptions, say
        )

        # One long case: each record's time as the replay grows (every resume replays the flow from
        # the top through every earlier step).
        results["long_case_s"] = long_case(home, args.long_steps, say)

        before = {"serve_mb": rss_mb(serve_pid), "server_mb": rss_mb(server_pid)}
        peak = dict(before)
        refs = [
            json.loads(cli(*_start_args(1000 + i), "--wait", "0", "--json"))["reference"]
            for i in range(args.suspended)
        ]
        say(f"started {len(refs)} more cases; waiting until all are suspended ...")
        with get_client(sync_client=True) as client:
            while True:
                counts = client.count_flow_runs(flow_run_filter=_paused_filter())
                peak = {
                    "serve_mb": max(peak["serve_mb"], rss_mb(serve_pid)),
                    "server_mb": max(peak["server_mb"], rss_mb(server_pid)),
                }
                if counts >= args.suspended + args.cases + 1 + args.disruptions:  # every case
                    break
                time.sleep(1)
        after = {"serve_mb": rss_mb(serve_pid), "server_mb": rss_mb(server_pid)}
        results["memory_mb"] = {
            "before": before,
            "peak_while_starting": peak,
            f"with_{counts}_suspended": after,
        }
        say(f"memory (MB): before {before}, peak {peak}, with {counts} suspended {after}")
    finally:
        os.killpg(service.pid, signal.SIGINT)
        service.wait(60)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(json.dumps(results, indent=2))


def disruption_phases(home: Path, n: int, say) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Start `n` planned endings; time the record that completes the phase before the ending."""
    review, told = home / "review.json", home / "told.json"
    review.write_text(
        json.dumps({"reviewed_on": "2026-11-13", "decision": "move", "rationale": "r"})
    )
    told.write_text(json.dumps({"told_on": "2026-11-13", "how": "at the review"}))
    timings = []
    for i in range(n):
        ref = json.loads(
            cli(
                "disruption", "start", "--as", "sw-1", "--child", f"C-D{i}:iro-1:sw-1",
                "--carer", f"FC-D{i}", "--service", "S", "--ssw", "ssw-1", "--team-manager", "tm-1",
                "--type", "long_term", "--ended-by", "carer_notice", "--planned",
                "--ends", "2026-11-20", "--new-placement", "2026-11-20", "--json",
            )
        )["reference"]  # fmt: skip
        cli("record", ref, "care_plan_review", "--as", "sw-1", "--input", str(review), "--json")
        start = time.perf_counter()
        out = json.loads(
            cli("record", ref, "iro_informed", "--as", "sw-1", "--input", str(told), "--json")
        )
        timings.append(time.perf_counter() - start)
        assert out["applied"], out
        say(f"  disruption {i + 1}/{n}: record -> next phase {timings[-1]:.2f} s")
    return {"median": statistics.median(timings), "max": max(timings)}


def long_case(home: Path, steps: int, say) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Take one case through `steps` recorded steps (initial consideration, the meeting, then
    reviews not yet ready for outcome); return each record's time to the next step open."""
    ref = json.loads(cli(*_start_args(9999), "--json"))["reference"]
    held = date(2026, 10, 20)
    plan: list[tuple[str, dict[str, object], str]] = [
        (
            "initial_consideration",
            {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
            "2026-10-19T15:00",
        )
    ]
    for number in range(1, steps):
        day = held + timedelta(days=3 * (number - 1))
        plan.append(
            (
                "allegation_meeting" if number == 1 else "review_meeting",
                {"held_on": day.isoformat(), "attendees": ["lado"], "ready_for_outcome": False},
                f"{day.isoformat()}T15:00",
            )
        )
    timings = []
    for number, (step, data, at) in enumerate(plan, start=1):
        path = home / f"long-{number}.json"
        path.write_text(json.dumps(data))
        start = time.perf_counter()
        out = json.loads(
            cli("record", ref, step, "--as", "lado-1", "--input", str(path), "--at", at, "--json")
        )
        seconds = time.perf_counter() - start
        assert out["applied"], out
        timings.append({"step": number, "name": step, "seconds": round(seconds, 2)})
        say(f"  long case, step {number} ({step}, {number - 1} earlier): {seconds:.2f} s")
    # Inside the run: from "Beginning flow run" to its next suspend, the replay through every
    # earlier step (the serve process's log), without the poll and process start around it.
    replays = replay_seconds(home / "prefect" / "serve.log", ref)
    for timing, replay in zip(timings, replays[1:], strict=False):
        timing["replay_in_run_s"] = round(replay, 3)
    say(f"  replay inside the run, per resume: {', '.join(f'{r:.2f}' for r in replays[1:])} s")
    return timings


def replay_seconds(log: Path, ref: str) -> list[float]:
    """Return, per run of the case's flow, the seconds from its start to its suspend (or end)."""

    def seconds(line: str) -> float:
        h, m, rest = line[:12].split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest)

    found, began = [], None
    for line in log.read_text(errors="ignore").splitlines():
        if f"Flow run '{ref}'" not in line:
            continue
        if "Beginning flow run" in line:
            began = seconds(line)
        elif began is not None and ("Suspending flow run" in line or "Finished in state" in line):
            found.append(seconds(line) - began)
            began = None
    return found


def _paused_filter():  # type: ignore[no-untyped-def]
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )


def _start_args(i: int) -> tuple[str, ...]:
    return (
        "allegation",
        "start",
        "--lado",
        "lado-1",
        "--received",
        "2026-10-19T09:15",
        "--aware",
        "2026-10-19",
        "--carer",
        f"FC-{i}",
        "--service",
        "Bench Fostering",
        "--ssw",
        "ssw-1",
        "--child",
        f"C-{i}:iro-1:sw-1",
        "--category",
        "physical",
        "--summary",
        "benchmark case",
    )


if __name__ == "__main__":
    main()

"""Benchmark the browser app's heaviest pages: the managers' board of 1,000 open cases across the
processes, and the page of a case with 50 steps (and 50 decisions), on SQLite.

    make bench                                 # a table
    .venv/bin/python bench/web_pages.py --json  # for scripts

Each page is requested through the app in this process (Starlette's test client: no network), signed
in as a LADO manager; the time is the server's, from request to the whole page rendered. Goal: under
150 ms at the 95th percentile on this machine (issue 13).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from rich.table import Table  # noqa: E402

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)
PASSWORD = "a long enough bench password"
ALLEGATION_DETAILS = {
    "received_at": "2026-10-01T09:00:00+01:00",
    "aware_on": "2026-10-01",
    "carer": "FC-1",
    "fostering_service": "Northshire Fostering",
    "supervising_social_worker": "sw-1",
    "category": "physical",
    "summary": "-",
}
STEP_OF = {  # an open step of each process, as its case would wait there
    "allegation": "allegation_meeting",
    "disruption": "disruption_meeting",
    "complaint": "stage2_response",
}


def populate(url: str, cases: int) -> str:
    """Fill a fresh database: staff, `cases` open cases (a third late, with notices), and one case
    with 50 steps and 50 decisions; return that case's reference."""
    from models import accounts
    from models.db import make_engine, session_scope, upgrade
    from models.tables import Case, CaseChild, Decision, Notice, Staff, StaffRole, Step

    engine = make_engine(url)
    upgrade(engine)
    opened = datetime(2026, 10, 1, 9, tzinfo=UTC)
    people = [("hos-1", None, "head_of_service"), ("ladom-1", "hos-1", "lado_manager")]
    people += [(f"lado-{i}", "ladom-1", "lado") for i in range(1, 21)]
    people += [("tm-1", "hos-1", "team_manager"), ("iro-1", None, "iro"), ("sw-1", "tm-1", "social_worker")]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Staff),
            [
                {"id": s, "name": s, "line_manager_id": m, "active": True, "created_at": opened}
                for s, m, _ in people
            ],
        )
        conn.execute(sa.insert(StaffRole), [{"staff_id": s, "role": r} for s, _, r in people])
        processes = list(STEP_OF)
        rows = []
        for i in range(cases):
            process = processes[i % 3]
            prefix = {"allegation": "ALG", "disruption": "DIS", "complaint": "CMP"}[process]
            rows.append(
                {
                    "reference": f"{prefix}-2026-{i + 1:05d}",
                    "process": process,
                    "status": "open",
                    "opened_at": opened,
                    "opened_by": "lado-1",
                    "lead_id": f"lado-{i % 20 + 1}",
                    "details": ALLEGATION_DETAILS if process == "allegation" else {},
                    "details_version": 1,
                }
            )
        conn.execute(sa.insert(Case), rows)
        ids = [r[0] for r in conn.execute(sa.select(Case.id).order_by(Case.id))]  # type: ignore[arg-type]
        steps, notices, children = [], [], []
        for n, case_id in enumerate(ids):
            due = date(2026, 11, 10) if n % 3 == 0 else date(2026, 12, 1) + timedelta(days=n % 20)
            process = processes[n % 3]
            steps.append(
                {
                    "case_id": case_id,
                    "name": STEP_OF[process],
                    "sequence": 1,
                    "owner_id": f"lado-{n % 20 + 1}" if n % 7 else None,
                    "status": "open",
                    "opened_at": opened,
                    "due_on": due,
                    "deadline_at": datetime.combine(
                        due + timedelta(days=1), datetime.min.time(), LONDON
                    ),
                }
            )
            children.append({"case_id": case_id, "child_ref": f"C-{n}", "iro_id": "iro-1", "social_worker_id": "sw-1"})  # fmt: skip
        conn.execute(sa.insert(Step), steps)
        conn.execute(sa.insert(CaseChild), children)
        step_ids = [r[0] for r in conn.execute(sa.select(Step.id).order_by(Step.id))]  # type: ignore[arg-type]
        for n, step_id in enumerate(step_ids):
            if n % 3 == 0:
                for rung in (1, 2):
                    notices.append(
                        {
                            "key": f"k-{step_id}-{rung}",
                            "case_id": ids[n],
                            "kind": "lapsed",
                            "clock": f"step:{step_id}@2026-11-10",
                            "matter": f"step:{step_id}@2026-11-10",
                            "rung": rung,
                            "due_at": opened,
                            "created_at": opened,
                            "subject": "LATE",
                            "body_text": "-",
                            "body_html": "-",
                            "detail": {},
                        }
                    )
        conn.execute(sa.insert(Notice), notices)
        # One case with 50 steps (review meetings, closed) and 50 decisions.
        big = ids[0]
        conn.execute(
            sa.insert(Step),
            [
                {
                    "case_id": big,
                    "name": "review_meeting",
                    "sequence": k,
                    "owner_id": "lado-1",
                    "status": "closed",
                    "opened_at": opened + timedelta(days=k),
                    "due_on": date(2026, 10, 1) + timedelta(days=k),
                    "deadline_at": opened + timedelta(days=k + 1),
                    "closed_at": opened + timedelta(days=k, hours=3),
                }
                for k in range(1, 50)
            ],
        )
        conn.execute(
            sa.insert(Decision),
            [
                {
                    "case_id": big,
                    "kind": "told",
                    "value": f"decision {k}",
                    "author_id": "lado-1",
                    "author_role": "lado",
                    "decided_at": opened + timedelta(days=k),
                    "recorded_at": opened + timedelta(days=k),
                }
                for k in range(50)
            ],
        )
    with session_scope(engine) as session:
        accounts.set_password(session, staff_id="ladom-1", password=PASSWORD, now=NOW, actor_id=None)  # fmt: skip
    engine.dispose()
    return rows[0]["reference"]


def measure(url: str, big: str, rounds: int) -> list[dict[str, object]]:
    import re

    from fastapi.testclient import TestClient

    from models.db import make_engine
    from models.policy import load_policy
    from web.app import create_app
    from web.deps import WebDeps

    policy = load_policy()
    engine = make_engine(url)
    app = create_app(WebDeps(engine=engine, policy=policy, calendar=policy.working_calendar(), clock=lambda: NOW, secret=b"b" * 32))  # fmt: skip
    client = TestClient(app, follow_redirects=False)
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/sign-in", data={"staff_id": "ladom-1", "password": PASSWORD, "csrf_token": token, "next": "/board"})  # fmt: skip
    client.get(f"/cases/{big}")  # gives no reason yet: the first view of an allegation asks why
    form = client.get(f"/cases/{big}/reason").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post(f"/cases/{big}/reason", data={"csrf_token": token, "reason": "bench"})
    results = []
    for name, path in (("board, 1,000 open cases", "/board"), (f"case page, 50 steps ({big})", f"/cases/{big}")):  # fmt: skip
        times, size = [], 0
        client.get(path)  # warm
        for _ in track(range(rounds), description=name, transient=True):
            start = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.text[:300]
            size = len(answer.content)
        times.sort()
        results.append(
            {
                "page": name,
                "requests": rounds,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "bytes": size,
            }
        )
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        big = populate(url, args.cases)
        results = measure(url, big, args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"Web pages on SQLite ({args.cases:,} open cases), server time per request")
    for column in ("page", "requests", "median ms", "p95 ms", "page size"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for r in results:
        table.add_row(
            str(r["page"]),
            str(r["requests"]),
            f"{r['median_ms']}",
            f"{r['p95_ms']}",
            f"{int(r['bytes']) / 1024:.0f} KiB",
        )  # type: ignore[call-overload]
    Console().print(table)


if __name__ == "__main__":
    main()

"""Benchmark the sweep: 1,000 / 10,000 / 100,000 open clocks with 1% due, on SQLite and PostgreSQL,
and delivering 1,000 notices to a local SMTP server.

    make bench                                  # tables
    .venv/bin/python bench/sweep.py --json      # for scripts
    .venv/bin/python bench/sweep.py --sizes 1000 --no-postgres

For each database and size, one process fills a fresh database (an SQLite file, or a PostgreSQL
schema dropped afterwards) and a second process runs one sweep as at a moment when 1% of the clocks
have lapsed, so the sweep process's peak memory is its own. It reports:
- load: reading the clocks that can be due (indexed selects; grows with what is due);
- decide: the pure decision over those clocks;
- write: resolving recipients, rendering and writing the notices and their deliveries;
- pure decide over all N clocks in memory (what deciding would cost without the indexed select);
- peak RSS of the sweep process.
Delivery: 1,000 notices (2,000 emails: owner and LADO manager) through Apprise to an aiosmtpd
server in its own process (bench/smtp_sink.py): time, and losses (deliveries not delivered, or emails missing or doubled).

PostgreSQL: SAFEGUARD_BENCH_POSTGRES_URL, else SAFEGUARD_TEST_DATABASE_URL, else the local server at
postgresql+psycopg://postgres@127.0.0.1:5432/test if it answers; otherwise that part is skipped.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 4, 9, 0, tzinfo=LONDON)  # 1% lapsed on Tue 3 Nov
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SIZES = (1_000, 10_000, 100_000)


# --- a database of N open clocks ------------------------------------------------------------------


def populate(url: str, n: int, due_share: float = 0.01, mail: str | None = None) -> None:
    from models.db import make_engine, upgrade
    from models.tables import Case, Staff, StaffAddress, StaffRole, Step

    engine = make_engine(url)
    upgrade(engine)
    opened = datetime(2026, 10, 1, 9, tzinfo=UTC)
    staff = [("hos-1", None, "head_of_service"), ("ladom-1", "hos-1", "lado_manager")] + [
        (f"lado-{i}", "ladom-1", "lado") for i in range(1, 21)
    ]
    due_every = round(1 / due_share)
    lapsed_on, later_on = date(2026, 11, 3), date(2027, 6, 1)
    end = {
        d: datetime.combine(d + timedelta(days=1), datetime.min.time(), LONDON)
        for d in (lapsed_on, later_on)
    }
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Staff),
            [
                {"id": s, "name": s, "line_manager_id": m, "active": True, "created_at": opened}
                for s, m, _ in staff
            ],
        )
        conn.execute(sa.insert(StaffRole), [{"staff_id": s, "role": r} for s, _, r in staff])
        if mail:
            conn.execute(
                sa.insert(StaffAddress),
                [
                    {"staff_id": s, "url": mail.format(who=s), "added_at": opened}
                    for s, _, _ in staff
                ],
            )
        for start in range(0, n, 20_000):
            block = range(start, min(n, start + 20_000))
            conn.execute(
                sa.insert(Case),
                [
                    {
                        "id": i + 1,
                        "reference": f"ALG-2026-{i + 1:06d}",
                        "process": "allegation",
                        "status": "open",
                        "opened_at": opened,
                        "opened_by": f"lado-{i % 20 + 1}",
                        "lead_id": f"lado-{i % 20 + 1}",
                        "details": {},
                        "details_version": 1,
                    }
                    for i in block
                ],
            )
            conn.execute(
                sa.insert(Step),
                [
                    {
                        "case_id": i + 1,
                        "name": "initial_consideration",
                        "sequence": 1,
                        "owner_id": f"lado-{i % 20 + 1}",
                        "status": "open",
                        "opened_at": opened,
                        "due_on": lapsed_on if i % due_every == 0 else later_on,
                        "deadline_at": end[lapsed_on if i % due_every == 0 else later_on],
                    }
                    for i in block
                ],
            )
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": n}
            )
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def sweep_once(url: str, n: int) -> dict[str, Any]:
    """Run one sweep (no network: a sender that accepts everything); return timings and memory."""
    from models.db import make_engine
    from models.escalation import Clocks, StepClock, decide
    from models.policy import load_policy
    from notifications.channels import SendResult
    from notifications.sweep import sweep

    policy = load_policy()
    calendar = policy.working_calendar()
    engine = make_engine(url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = sweep(
        engine,
        policy=policy,
        calendar=calendar,
        now=NOW,
        sender=lambda urls, s, t, h: SendResult(delivered_to=["bench"]),
    )
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.dispose()
    # The pure decision over every clock held in memory (no indexed select in front of it).
    every = Clocks(
        steps=[
            StepClock(
                i,
                i,
                f"ALG-2026-{i:06d}",
                "allegation",
                "initial_consideration",
                1,
                "lado-1",
                date(2026, 11, 3) if i % 100 == 0 else date(2027, 6, 1),
            )
            for i in range(n)
        ]
    )
    start = time.perf_counter()
    decided = decide(every, policy, calendar, NOW)
    pure = time.perf_counter() - start
    return {
        "clocks": n,
        "loaded": report.clocks["steps"],
        "notices": len(report.written),
        "deliveries": report.delivery.delivered if report.delivery else 0,
        "load_s": report.seconds["load"],
        "decide_s": report.seconds["decide"],
        "write_s": report.seconds["write"],
        "deliver_s": report.seconds.get("deliver", 0.0),
        "pure_decide_all_s": pure,
        "pure_due": len(decided),
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": rss_after / 1024,
    }


# --- databases ------------------------------------------------------------------------------------


def postgres_url() -> str | None:
    url = (
        os.environ.get("SAFEGUARD_BENCH_POSTGRES_URL")
        or os.environ.get("SAFEGUARD_TEST_DATABASE_URL")
        or DEFAULT_PG
    )
    try:
        engine = sa.create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
        with engine.connect():
            pass
        engine.dispose()
        return url
    except Exception:
        return None


class Scratch:
    """A fresh database: an SQLite file, or a PostgreSQL schema dropped afterwards."""

    def __init__(self, kind: str, pg: str | None, tmp: Path) -> None:
        self.kind, self.pg = kind, pg
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.db"
        else:
            assert pg is not None
            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            with sa.create_engine(pg).begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            self.url = (
                sa.make_url(pg)
                .update_query_dict({"options": f"-csearch_path={self.schema}"})
                .render_as_string(hide_password=False)
            )

    def drop(self) -> None:
        if self.kind == "postgresql":
            assert self.pg is not None
            with sa.create_engine(self.pg).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))


def child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- delivery to a real SMTP server ---------------------------------------------------------------


def delivery(notices: int, tmp: Path) -> dict[str, Any]:
    """Deliver `notices` notices (two emails each) to an SMTP server running in its own process."""
    from models.db import make_engine
    from models.policy import load_policy
    from models.tables import NoticeDelivery
    from notifications import delivery
    from notifications.sweep import sweep
    from tests.smtp import free_port

    port, log = free_port(), tmp / "received.tsv"
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        url = f"sqlite:///{tmp}/delivery-{uuid.uuid4().hex[:8]}.db"
        mail = f"mailto://127.0.0.1:{port}?from=notices@example.org&to={{who}}@example.org"
        populate(url, notices, due_share=1.0, mail=mail)
        policy = load_policy()
        engine = make_engine(url)
        with Progress(transient=True) as bar:
            task = bar.add_task("delivering", total=None)
            start = time.perf_counter()
            report = sweep(
                engine,
                policy=policy,
                calendar=policy.working_calendar(),
                now=NOW,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            seconds = time.perf_counter() - start
        with sa.orm.Session(engine) as session:
            statuses = Counter(session.scalars(sa.select(NoticeDelivery.status)).all())
        engine.dispose()
    finally:
        sink.terminate()
        sink.wait(30)
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    received = Counter(lines)
    expected = sum(statuses.values())
    return {
        "notices": len(report.written),
        "emails_expected": expected,
        "emails_received": len(lines),
        "doubled": sum(c - 1 for c in received.values() if c > 1),
        "lost": (expected - statuses.get("delivered", 0)) + max(0, expected - len(received)),
        "seconds": seconds,
        "per_email_ms": 1000 * seconds / max(expected, 1),
        "workers": delivery.DELIVERY_WORKERS,
    }


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--deliver", type=int, default=1000, help="notices in the delivery run")
    parser.add_argument("--populate", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--sweep", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate:
        populate(args.populate[0], int(args.populate[1]))
        print(json.dumps({"ok": True}))
        return
    if args.sweep:
        print(json.dumps(sweep_once(args.sweep[0], int(args.sweep[1]))))
        return

    pg = None if args.no_postgres else postgres_url()
    kinds = ["sqlite"] + (["postgresql"] if pg else [])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, Progress(transient=True, disable=args.json) as bar:
        task = bar.add_task("sweeps", total=len(kinds) * len(args.sizes) + 1)
        for kind in kinds:
            for n in args.sizes:
                scratch = Scratch(kind, pg, Path(tmp))
                try:
                    child("--populate", scratch.url, str(n))
                    rows.append({"database": kind, **child("--sweep", scratch.url, str(n))})
                finally:
                    scratch.drop()
                bar.advance(task)
        sent = delivery(args.deliver, Path(tmp))
        bar.advance(task)
    if args.json:
        print(json.dumps({"sweeps": rows, "delivery": sent, "postgresql": bool(pg)}, indent=2))
        return
    console = Console(width=max(Console().width, 110))
    table = Table(title="sweep: open clocks with 1% lapsed (one sweep; medians need several runs)")
    for column in (
        "db",
        "clocks",
        "due",
        "load",
        "decide",
        "load+decide",
        "write",
        "pure, all",
        "RSS",
    ):
        table.add_column(column, justify="left" if column == "db" else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            "PostgreSQL" if r["database"] == "postgresql" else "SQLite",
            f"{r['clocks']:,}",
            f"{r['notices']:,}",
            f"{r['load_s'] * 1000:.0f} ms",
            f"{r['decide_s'] * 1000:.1f} ms",
            f"{(r['load_s'] + r['decide_s']) * 1000:.0f} ms",
            f"{r['write_s'] * 1000:.0f} ms",
            f"{r['pure_decide_all_s'] * 1000:.0f} ms",
            f"{r['rss_peak_mb']:.0f} MB",
        )
    console.print(table)
    if not pg and not args.no_postgres:
        console.print("PostgreSQL: no server answered; skipped (set SAFEGUARD_BENCH_POSTGRES_URL)")
    console.print(
        f"delivery: {sent['notices']:,} notices = {sent['emails_expected']:,} emails through Apprise to "
        f"a local SMTP server in {sent['seconds']:.1f} s ({sent['per_email_ms']:.1f} ms each); "
        f"received {sent['emails_received']:,}, lost {sent['lost']}, doubled {sent['doubled']}"
    )


if __name__ == "__main__":
    main()

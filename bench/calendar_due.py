"""Benchmark the platform's hot paths: building the calendar, loading the policy, due dates.

    make bench                       # a table
    .venv/bin/python bench/calendar_due.py --json   # for scripts

Each figure is the median of several rounds, measured in this process on this machine.
"""

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import track
from rich.table import Table

from models.calendar import WorkingCalendar
from models.durations import CalendarMonths, WorkingDays
from models.policy import load_policy

ROUNDS = 5
DUE_DATES = 10_000


def median_seconds(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    args = parser.parse_args()
    rng = random.Random(2026)
    starts = [date(2026, 1, 1) + timedelta(days=rng.randrange(365 * 3)) for _ in range(DUE_DATES)]

    def fresh_calendar() -> None:
        WorkingCalendar().is_working_day(date(2026, 12, 25))

    calendar = WorkingCalendar()
    calendar.is_working_day(date(2026, 1, 1))
    results = []
    for label, action, count in track(
        [
            ("build the calendar (GB/ENG bank holidays, 1990-2200)", fresh_calendar, 1),
            ("load and validate the policy (defaults)", load_policy, 1),
            (
                f"{DUE_DATES:,} due dates, 1 working day",
                lambda: [calendar.due(s, WorkingDays(1)) for s in starts],
                DUE_DATES,
            ),
            (
                f"{DUE_DATES:,} due dates, 25 working days",
                lambda: [calendar.due(s, WorkingDays(25)) for s in starts],
                DUE_DATES,
            ),
            (
                f"{DUE_DATES:,} due dates, 65 working days",
                lambda: [calendar.due(s, WorkingDays(65)) for s in starts],
                DUE_DATES,
            ),
            (
                f"{DUE_DATES:,} due dates, 12 calendar months",
                lambda: [calendar.due(s, CalendarMonths(12)) for s in starts],
                DUE_DATES,
            ),
            (
                f"{DUE_DATES // 10:,} day-by-day accounts (--explain), 65 working days",
                lambda: [
                    calendar.due(s, WorkingDays(65)).explain() for s in starts[: DUE_DATES // 10]
                ],
                DUE_DATES // 10,
            ),
        ],
        description="measuring",
        disable=args.json,
        transient=True,
    ):
        seconds = median_seconds(action, 3 if count > 1 else ROUNDS)
        results.append(
            {
                "what": label,
                "seconds": round(seconds, 6),
                "per_item_us": round(seconds / count * 1e6, 2),
            }
        )
    if args.json:
        print(json.dumps({"rounds": ROUNDS, "results": results}, indent=2))
        return
    table = Table("what", "median time", "per item", title="Platform benchmarks (median)")
    for r in results:
        table.add_row(r["what"], f"{r['seconds'] * 1000:.1f} ms", f"{r['per_item_us']:.1f} µs")
    Console().print(table)


if __name__ == "__main__":
    main()

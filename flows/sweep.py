"""The sweep (DESIGN rule 6): deadlines are swept, not slept.

Deployed with a schedule (every SAFEGUARD_SWEEP_EVERY_MINUTES, 15 by default) and served by
`make run`. Each run wakes any case whose recorded step was never applied, then reads the clocks
that can be due, writes the notices that are due to the outbox and delivers what is pending, and
keeps each case's run tagged for the Prefect UI (late, the highest rung reached, clock stopped). It
can also be run by hand ("as at" another moment) with `safeguard sweep`.
"""

from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

from tasks.sweep import sweep_clocks, tag_case_runs, wake_recorded_cases


@flow(name="sweep", log_prints=True, persist_result=True)
def sweep(at: str | None = None) -> dict[str, Any]:
    """Run one sweep now (or as at `at`, an ISO date-time); return what it wrote and delivered."""
    woken = wake_recorded_cases()
    report = sweep_clocks(at)
    retagged = tag_case_runs(at)  # late, rung-N, clock-stopped: what a manager filters runs by
    delivery = report["delivery"] or {}
    print(
        f"{report['due']} notice(s) due, {len(report['written'])} written now; "
        f"{delivery.get('delivered', 0)} delivered, {delivery.get('failed', 0)} failed (kept pending); "
        f"{len(woken)} case(s) woken; {len(retagged)} case run(s) retagged"
    )
    create_table_artifact(
        key="sweep",
        table=[
            {
                "notice": w["notice_id"],
                "case": w["reference"],
                "kind": w["kind"],
                "to": ", ".join(w["recipients"]) or "nobody",
                "nobody holds": ", ".join(w["unfilled"]),
            }
            for w in report["written"]
        ]
        or [{"notice": "-", "case": "-", "kind": "nothing due", "to": "-", "nobody holds": ""}],
        description=f"Sweep as at {report['at']}: notices written (case references and staff ids only)",
    )
    return {**report, "woken": woken, "retagged": retagged}

"""The sweep deployment on a real Prefect server: it wakes a case whose recorded step was never
applied, and delivers the notices due through Apprise to a real SMTP server, once."""

import json
from datetime import datetime
from uuid import UUID

import pytest

from models import steps
from models.db import make_engine, session_scope
from models.policy import load_policy
from models.tables import ServiceMark
from safeguard.cli import main
from tests.flows.conftest import until
from tests.smtp import SmtpServer

pytestmark = pytest.mark.flows


def run_sweep(at: str) -> dict:  # type: ignore[type-arg]
    from prefect.deployments import run_deployment

    run = run_deployment("sweep/safeguard", parameters={"at": at}, timeout=120)
    assert run.state is not None and run.state.is_completed(), run.state  # type: ignore[union-attr]
    return run.state.result()  # type: ignore[union-attr,no-any-return]


def test_the_scheduled_sweep_wakes_cases_and_delivers_once(
    served: str, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def cli(*args: str) -> str:
        code = main(list(args))
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    cli("db", "upgrade")
    for sid, role, manager in (
        ("hos-9", "head_of_service", None),
        ("ladom-9", "lado_manager", "hos-9"),
        ("lado-9", "lado", "ladom-9"),
        ("iro-9", "iro", None),
        ("sw-9", "social_worker", None),
        ("ssw-9", "supervising_social_worker", None),
    ):
        args = ["staff", "add", sid, "--name", sid, "--role", role, "--address", smtp.url(sid)]
        cli(*args, *(["--manager", manager] if manager else []))
    started = json.loads(
        cli(
            "allegation",
            "start",
            "--lado",
            "lado-9",
            "--received",
            "2026-11-02T09:15",
            "--aware",
            "2026-11-02",
            "--carer",
            "FC-9",
            "--service",
            "Northshire Fostering",
            "--ssw",
            "ssw-9",
            "--child",
            "C-9:iro-9:sw-9",
            "--category",
            "physical",
            "--summary",
            "Narrative.",
            "--json",
        )
    )
    ref = started["reference"]

    def status() -> dict:  # type: ignore[type-arg]
        rows = json.loads(cli("status", "--json"))
        return next(r for r in rows if r["reference"] == ref)

    assert until(lambda: status()["run_state"] == "Suspended")

    # Stored but never applied (the person's `record` gave up before resuming the run).
    engine = make_engine(served)
    policy = load_policy()
    with session_scope(engine) as session:
        steps.submit(
            session=session,
            policy=policy,
            calendar=policy.working_calendar(),
            reference=ref,
            step_name="initial_consideration",
            author_id="lado-9",
            payload={"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
            at=datetime.fromisoformat("2026-11-04T10:00+00:00"),
            key=None,
            now=datetime.fromisoformat("2026-11-04T10:00+00:00"),
            late_reason="the referral reached the LADO's inbox late",  # done late, with why
        )

    # Wed 4 Nov 09:00, as the sweep sees it: initial consideration lapsed the night before (what
    # was recorded at 10:00 is not yet known "as at" 09:00).
    report = run_sweep("2026-11-04T09:00:00+00:00")
    assert ref in report["woken"]
    with session_scope(engine) as session:  # for /metrics: what the repair found, how long it took
        repaired, swept = session.get(ServiceMark, "repair"), session.get(ServiceMark, "sweep")
        assert repaired is not None and repaired.detail == {"stuck": 1, "carried_on": 1}
        assert swept is not None and swept.seconds is not None and swept.seconds > 0

    def mail(subject: str) -> list[str]:
        return sorted(m.to[0] for m in smtp.received if ref in m.subject and subject in m.subject)

    assert mail("LATE (rung 1)") == ["lado-9@example.org", "ladom-9@example.org"]
    late = next(m for m in smtp.received if m.subject.startswith(f"LATE (rung 1): {ref}"))
    # the notice links to the case's page in the web app, and to its own one-click acknowledgement
    assert f"/cases/{ref}</a>" in late.html and "/acknowledge/" in late.html
    assert until(lambda: status()["step"] == "allegation_meeting, outcome")  # moved on
    # The decision was recorded without its rationale: the flow told the LADO's manager and the
    # child's IRO at once, without waiting for a sweep.
    expected = ["iro-9@example.org", "ladom-9@example.org"]
    assert until(lambda: mail("Decision without rationale") == expected)

    # The same moment again: nothing new is written or sent.
    again = run_sweep("2026-11-04T09:00:00+00:00")
    assert [w for w in again["written"] if w["reference"] == ref] == []
    assert mail("LATE (rung 1)") == ["lado-9@example.org", "ladom-9@example.org"]
    assert mail("Decision without rationale") == expected
    assert len([m for m in smtp.received if ref in m.subject]) == 8
    # the other four: the case's start and the route decided, each told for information to the
    # child's IRO and social worker
    assert sorted(
        m.to[0] for m in smtp.received if m.subject.startswith(f"For information: {ref}")
    ) == [
        "iro-9@example.org",
        "iro-9@example.org",
        "sw-9@example.org",
        "sw-9@example.org",
    ]

    # Tue 10 Nov: the meeting (due Mon 9 Nov) has lapsed: the sweep tags the case's run, so a
    # manager can filter the runs in the Prefect UI (its process, late, the highest rung reached:
    # the rationale's second, 2 working days after its due day, Thu 5 Nov).
    assert ref in run_sweep("2026-11-10T09:00:00+00:00")["retagged"]
    from prefect import get_client

    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(UUID(status()["flow_run_id"])).tags
    assert set(tags) == {"allegation", ref, "late", "rung-2"}
    assert ref not in run_sweep("2026-11-10T09:00:00+00:00")["retagged"]  # right already
    engine.dispose()

"""A process declared only in the tests (tests/toy/: a declaration, a flow, a policy section) runs on
the real engine without any engine module knowing it: registered through SAFEGUARD_PROCESSES,
started with `safeguard start`, recorded, escalated by the served sweep deployment to a real SMTP
server, and closed, on a real Prefect server with its flow served."""

import json
from pathlib import Path

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until, write_json
from tests.flows.test_sweep_flow import run_sweep
from tests.smtp import SmtpServer

pytestmark = pytest.mark.flows


def test_a_process_declared_only_in_the_tests_runs_end_to_end(
    served: str, smtp: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def cli(*args: str, ok: bool = True) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        if ok:
            assert code == 0, out.err
        return code, out.out, out.err

    cli("db", "upgrade")
    for sid, role, manager in (
        ("toy-sm", "service_manager", None),
        ("toy-tm", "team_manager", "toy-sm"),
        ("toy-iro", "iro", None),
        ("toy-sw", "social_worker", "toy-tm"),
        ("toy-io", "investigating_officer", "toy-tm"),
        ("toy-io2", "investigating_officer", "toy-tm"),  # not named in the case: never told
    ):
        args = ["staff", "add", sid, "--name", sid, "--role", role, "--address", smtp.url(sid)]
        cli(*args, *(["--manager", manager] if manager else []))
    raised = {
        "raised_at": "2026-11-02T09:00",  # Monday: assess is due Wed 4 Nov
        "child": "C-77",
        "iro": "toy-iro",
        "social_worker": "toy-sw",
        "summary": "Ophelia Brackenridge's matter",
    }
    code, _, err = cli(
        "start", "toy", "--as", "toy-sw", "--input", write_json(tmp_path, "s", raised), ok=False
    )
    assert code == 2 and "toy-sw may not start a toy matter case" in err  # nothing stored

    _, out, _ = cli(
        "start", "toy", "--as", "toy-tm", "--input", write_json(tmp_path, "s", raised), "--json"
    )
    started = json.loads(out)
    ref = started["reference"]
    assert ref.startswith("TOY-2026-") and started["first_step_open"]
    run_id = started["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "assess-1")

    def show() -> dict:  # type: ignore[type-arg]
        return json.loads(cli("case", "show", ref, "--json")[1])

    case = show()
    assert case["headline"] == "lead toy-tm"
    [assess] = [s for s in case["steps"] if s["status"] == "open"]
    assert (assess["step"], assess["owner"], assess["due"]) == ("assess", "toy-tm", "2026-11-04")
    rows = json.loads(cli("status", "--process", "toy", "--json")[1])
    assert [r["reference"] for r in rows] == [ref]

    # Thu 5 Nov: assess lapsed. The served sweep reaches the toy through the registry alone: the
    # step's owner and the child's IRO get the first rung, by mail.
    report = run_sweep("2026-11-05T09:00:00+00:00")
    mine = [w for w in report["written"] if w["reference"] == ref]
    assert [(w["kind"], w["recipients"]) for w in mine] == [("lapsed", ["toy-iro", "toy-tm"])]
    mails = sorted(m.to[0].split("@")[0] for m in smtp.received if ref in m.subject)
    assert mails == ["toy-iro", "toy-tm"]
    assert not any("Ophelia" in m.text or "Ophelia" in m.html for m in smtp.received)
    run_sweep("2026-11-05T09:30:00+00:00")  # again: nothing twice
    assert len([m for m in smtp.received if ref in m.subject]) == 2

    def record(step: str, data: dict, at: str, who: str = "toy-tm") -> dict:  # type: ignore[type-arg]
        _, out, _ = cli(
            "record",
            ref,
            step,
            "--as",
            who,
            "--input",
            write_json(tmp_path, step, data),
            "--at",
            at,
            "--json",
        )
        result = json.loads(out)
        assert result["applied"], f"{step} was stored but not applied by the flow"
        return result["case"]  # type: ignore[no-any-return]

    assessment = {"verdict": "fix", "rationale": "needs doing", "investigator": "toy-io"}
    case = record("assess", assessment, "2026-11-05T10:00")
    [resolve] = [s for s in case["steps"] if s["status"] == "open"]
    assert (resolve["step"], resolve["owner"]) == ("resolve", "toy-io")  # the person named
    assert case["decisions"][0]["kind"] == "assessment"
    # Resolve (due Tue 10 Nov) lapses: its owner, the one named, and their manager are told.
    report = run_sweep("2026-11-11T09:00:00+00:00")
    mine = [w for w in report["written"] if w["reference"] == ref]
    assert [(w["kind"], w["recipients"]) for w in mine] == [("lapsed", ["toy-io", "toy-tm"])]
    code, _, err = cli(
        "record",
        ref,
        "resolve",
        "--as",
        "toy-sw",
        "--input",
        write_json(tmp_path, "r", {"resolved_on": "2026-11-01", "note": "done"}),
        "--at",
        "2026-11-06T10:00",
        ok=False,
    )
    assert code == 2 and "resolved_on: 2026-11-01 must fall between 2026-11-05" in err
    case = record(
        "resolve", {"resolved_on": "2026-11-06", "note": "done"}, "2026-11-06T10:00", "toy-sw"
    )
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")

    # Prefect never received a name, narrative or an address: not in the run's
    # parameters, not in its logs (DESIGN rule 2).
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(run_id)]))
        )
    assert logs and run.parameters == {"case_id": run.parameters["case_id"]}
    seen = " ".join(log.message for log in logs) + json.dumps(run.parameters)
    for secret in ("Ophelia", "Brackenridge", "needs doing", "mailto:"):
        assert secret not in seen

"""A record stored while its case's run is still running, before it suspends to wait for it, is
taken within seconds, not at the next sweep (issue 22, part 6): `safeguard record --wait 0`
returns at once and leaves a detached process nudging the run (safeguard/nudge.py) until the flow
has applied the record. On a real Prefect server with the deployment served: the run is caught
Running when the record is stored (its state set so), then suspends; no sweep runs."""

import json
from pathlib import Path
from uuid import UUID

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until

pytestmark = pytest.mark.flows


def test_a_record_made_while_the_run_is_between_waits_is_taken(
    served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect import get_client
    from prefect.states import Running

    def cli(*args: str) -> str:
        code = main(list(args))
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    cli("db", "upgrade")
    for sid, role in (("ndg-lado", "lado"), ("ndg-iro", "iro"), ("ndg-sw", "social_worker"), ("ndg-ssw", "supervising_social_worker")):  # fmt: skip
        cli("staff", "add", sid, "--name", sid, "--role", role)
    started = json.loads(
        cli(
            "allegation", "start", "--lado", "ndg-lado", "--received", "2026-11-02T09:15",
            "--aware", "2026-11-02", "--carer", "FC-6", "--service", "S", "--ssw", "ndg-ssw",
            "--child", "C-61:ndg-iro:ndg-sw", "--category", "physical", "--summary", "s", "--json",
        )
    )  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    assert until(lambda: state_of(run_id).type == "PAUSED")
    with get_client(sync_client=True) as client:
        waiting = client.read_flow_run(UUID(run_id)).state
        assert waiting is not None
        # The run is caught between its waits: still Running when the record is stored...
        client.set_flow_run_state(UUID(run_id), Running(), force=True)
    record = tmp_path / "consideration.json"
    record.write_text(json.dumps({"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}))  # fmt: skip
    said = cli("record", ref, "initial_consideration", "--as", "ndg-lado", "--input", str(record), "--at", "2026-11-02T15:00", "--wait", "0")  # fmt: skip
    assert "the flow takes it in a moment" in said
    with get_client(sync_client=True) as client:  # ...and suspends a moment later, as it would
        client.set_flow_run_state(UUID(run_id), waiting.model_copy(update={"id": None}), force=True)  # fmt: skip

    def open_steps() -> list[str]:
        case = json.loads(cli("case", "show", ref, "--json"))
        return sorted(s["step"] for s in case["steps"] if s["status"] == "open")

    # no sweep runs: the nudge carries it on
    assert until(lambda: open_steps() == ["allegation_meeting", "outcome"], 60)
    case = json.loads(cli("case", "show", ref, "--json"))
    assert [d["kind"] for d in case["decisions"]] == ["threshold_and_route"]  # applied once

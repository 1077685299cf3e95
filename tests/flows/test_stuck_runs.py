"""No case left stuck, on a real Prefect server: a run that dies before it applies a stored step
(the serve process killed outright while the run was starting leaves it Pending for ever) is
recognised, by `case repair` and by the served sweep, and carried on; nothing recorded is lost or
applied twice."""

import json
import time
from datetime import UTC, datetime
from uuid import UUID

import pytest

from models import steps
from models.db import make_engine, session_scope
from models.policy import load_policy
from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until
from tests.flows.test_sweep_flow import run_sweep

pytestmark = pytest.mark.flows


def test_a_run_left_pending_is_carried_on_by_repair_and_by_the_sweep(
    served: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import get_client
    from prefect.states import Pending

    monkeypatch.setenv("SAFEGUARD_STUCK_AFTER_SECONDS", "0")  # any Pending run counts as dead

    def cli(*args: str) -> str:
        code = main(list(args))
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    cli("db", "upgrade")
    for sid, role in (
        ("stk-lado", "lado"),
        ("stk-iro", "iro"),
        ("stk-sw", "social_worker"),
        ("stk-ssw", "supervising_social_worker"),
    ):
        cli("staff", "add", sid, "--name", sid, "--role", role)
    engine = make_engine(served)
    policy = load_policy()

    def stuck_case(child: str) -> tuple[str, str]:
        """A case whose initial consideration is stored, with its run left Pending."""
        started = json.loads(
            cli(
                "allegation", "start", "--lado", "stk-lado", "--received", "2026-11-02T09:15",
                "--aware", "2026-11-02", "--carer", "FC-5", "--service", "S", "--ssw", "stk-ssw",
                "--child", f"{child}:stk-iro:stk-sw", "--category", "physical",
                "--summary", "s", "--json",
            )
        )  # fmt: skip
        ref, run_id = started["reference"], started["flow_run_id"]
        assert until(lambda: state_of(run_id).type == "PAUSED")
        with session_scope(engine) as session:
            steps.submit(
                session=session,
                policy=policy,
                calendar=policy.working_calendar(),
                reference=ref,
                step_name="initial_consideration",
                author_id="stk-lado",
                payload={"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
                at=datetime(2026, 11, 2, 15, tzinfo=UTC),
                key=None,
                now=datetime(2026, 11, 2, 15, tzinfo=UTC),
            )
        with get_client(sync_client=True) as client:  # resumed, then the service was killed
            client.set_flow_run_state(UUID(run_id), Pending(), force=True)
        assert state_of(run_id).type == "PENDING"
        return ref, run_id

    def open_steps(ref: str) -> list[str]:
        case = json.loads(cli("case", "show", ref, "--json"))
        return [s["step"] for s in case["steps"] if s["status"] == "open"]

    ref, run_id = stuck_case("C-51")
    time.sleep(0.1)  # its Pending state is older than the (zero) grace
    out = cli("case", "repair", ref)
    assert "the pending (nothing behind it) run is scheduled again" in out
    assert until(lambda: sorted(open_steps(ref)) == ["allegation_meeting", "outcome"])
    assert until(lambda: state_of(run_id).type == "PAUSED")

    ref, run_id = stuck_case("C-52")
    report = run_sweep(datetime.now(UTC).isoformat())
    assert ref in report["woken"]
    assert until(lambda: sorted(open_steps(ref)) == ["allegation_meeting", "outcome"])
    case = json.loads(cli("case", "show", ref, "--json"))
    assert [d["kind"] for d in case["decisions"]] == ["threshold_and_route"]  # applied once
    engine.dispose()

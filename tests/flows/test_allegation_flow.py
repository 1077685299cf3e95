"""Whole allegation cases driven through the CLI against a real Prefect server, with the deployment
served by a Runner. No sleeps for deadlines: every date is given with --at and in the inputs."""

import json
from pathlib import Path

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until, write_json

pytestmark = pytest.mark.flows


@pytest.fixture
def cli(served: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def team(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("db", "upgrade")
    assert code == 0, err
    if cli("staff", "show", "lado-1")[0] == 0:
        return
    for args in (
        ("hos-1", "--name", "Head", "--role", "head_of_service"),
        ("ladom-1", "--name", "Lado Manager", "--role", "lado_manager", "--manager", "hos-1"),
        ("lado-1", "--name", "Lado One", "--role", "lado", "--manager", "ladom-1"),
        ("iro-1", "--name", "Iro One", "--role", "iro"),
        ("sw-1", "--name", "Social Worker", "--role", "social_worker"),
        ("ssw-1", "--name", "Supervising SW", "--role", "supervising_social_worker"),
        ("tm-1", "--name", "Team Manager", "--role", "team_manager", "--manager", "hos-1"),
        (
            "adm-1",
            "--name",
            "Agency Decision Maker",
            "--role",
            "agency_decision_maker",
            "--manager",
            "hos-1",
        ),
    ):
        assert cli("staff", "add", *args)[0] == 0


def start(cli, received: str = "2026-10-19T09:15") -> str:  # type: ignore[no-untyped-def]
    code, out, err = cli(
        "allegation",
        "start",
        "--lado",
        "lado-1",
        "--received",
        received,
        "--aware",
        "2026-10-19",
        "--carer",
        "FC-0042",
        "--service",
        "Northshire Fostering",
        "--ssw",
        "ssw-1",
        "--child",
        "C-1042:iro-1:sw-1",
        "--category",
        "physical",
        "--summary",
        "A child said a carer grabbed their arm.",
        "--json",
    )
    assert code == 0, err
    return json.loads(out)["reference"]


def record(
    cli, tmp_path: Path, ref: str, step: str, data: dict, at: str, who: str = "lado-1"
) -> dict:  # type: ignore[no-untyped-def]
    code, out, err = cli(
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
    assert code == 0, err
    result = json.loads(out)
    assert result["applied"], f"{step} was stored but not applied by the flow"
    return result["case"]


def open_steps(case: dict) -> list[str]:  # type: ignore[type-arg]
    return [s["step"] for s in case["steps"] if s["status"] == "open"]


def test_a_case_from_referral_to_closure(cli, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = start(cli)
    row = next(
        r
        for r in json.loads(cli("status", "--process", "allegation", "--json")[1])
        if r["reference"] == ref
    )
    assert row["step"] == "initial_consideration, outcome"  # the outcome's clock runs from now
    assert row["due"] == "2026-10-20" and row["overdue"]
    assert until(lambda: _status_row(cli, ref)["run_state"] == "Suspended")
    assert ref in [r["reference"] for r in json.loads(cli("status", "--overdue", "--json")[1])]
    case = record(
        cli,
        tmp_path,
        ref,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm", "offence"], "route": "allegation_meeting"},
        "2026-10-19T15:00",
    )
    # The outcome's clock has run since the referral (L10); the meeting opens now.
    assert sorted(open_steps(case)) == ["allegation_meeting", "outcome"]
    assert case["decisions"][0]["rationale_due"] is not None  # recorded without rationale

    case = record(
        cli,
        tmp_path,
        ref,
        "allegation_meeting",
        {
            "held_on": "2026-10-22",
            "attendees": ["lado", "police", "supervising_social_worker"],
            "decisions": ["police to lead"],
            "actions": [
                {"title": "Police interview", "owner": "lado-1", "due": 5},
                {"title": "Visit the child", "owner": "sw-1", "due": "2026-10-27"},
                {"title": "Support offer to carer", "owner": "ssw-1", "due": 3},
            ],
        },
        "2026-10-22T16:00",
    )
    # Beside the meetings: the placements decision (the carer is not told yet: the police first).
    assert sorted(open_steps(case)) == ["outcome", "review_meeting", "suspension_decision"]
    assert [a["due"] for a in case["actions"]] == ["2026-10-29", "2026-10-27", "2026-10-27"]
    review = next(s for s in case["steps"] if s["step"] == "review_meeting")
    assert review["due"] == "2026-11-19"  # 28 calendar days after the meeting
    ids = [a["id"] for a in case["actions"]]

    # A review that leaves an action unaccounted for is refused, naming it; nothing is stored.
    refused = {
        "held_on": "2026-11-17",
        "attendees": ["lado"],
        "carer_told_on": "2026-11-17",  # the carer's support now runs, from this day (L15)
        "ready_for_outcome": True,
        "accounted": [
            {"action_id": ids[0], "status": "done"},
            {"action_id": ids[1], "status": "done"},
        ],
    }
    code, _, err = cli(
        "record",
        ref,
        "review_meeting",
        "--as",
        "lado-1",
        "--input",
        write_json(tmp_path, "refused", refused),
        "--at",
        "2026-11-17T12:00",
    )
    assert code == 2 and f"unaccounted for: {ids[2]} (Support offer to carer)" in err

    refused["accounted"].append(
        {
            "action_id": ids[2],
            "status": "carried_forward",
            "reason": "carer away",
            "new_due": "2026-12-10",
        }
    )
    case = record(cli, tmp_path, ref, "review_meeting", refused, "2026-11-17T12:00")
    assert sorted(open_steps(case)) == ["carer_support", "outcome", "suspension_decision"]
    assert [a["status"] for a in case["actions"]] == ["done", "done", "open"]

    case = record(
        cli,
        tmp_path,
        ref,
        "outcome",
        {
            "category": "unsubstantiated",
            "rationale": "no corroboration",
            "dbs_referral": False,
            "dbs_reason": "harm test not met",
        },
        "2026-11-18T10:00",
    )
    assert sorted(open_steps(case)) == [
        "approval_review",
        "carer_support",
        "outcome_notification",
        "suspension_decision",
    ]
    assert case["time_to_outcome"]["within"] == "1 calendar month"

    # Both are one phase: the flow waits for the two together, under one key, in either order.
    run_id = case["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "after-outcome-1")
    case = record(
        cli,
        tmp_path,
        ref,
        "approval_review",
        {
            "presented_to_panel_on": "2026-11-26",
            "panel_recommendation": "continue approval",
            "decision": "continue",
            "decided_by": "adm-1",
            "reasons": "the allegation was unsubstantiated; the carer's practice is sound",
        },
        "2026-11-26T15:00",
        who="ssw-1",
    )
    assert case["status"] == "open"
    assert sorted(open_steps(case)) == [
        "carer_support",
        "outcome_notification",
        "suspension_decision",
    ]
    # Resumed with the phase still partial: it waits again, for the step still to record.
    assert until(lambda: state_of(run_id).pause_key == "after-outcome-1-again-1")
    case = record(
        cli,
        tmp_path,
        ref,
        "outcome_notification",
        {
            "carer_told_on": "2026-11-19",
            "fostering_service_told_on": "2026-11-19",
            "children": [
                {
                    "child": "C-1042",
                    "social_worker_told_on": "2026-11-19",
                    "iro_told_on": "2026-11-19",
                    "parents_told_on": "2026-11-20",
                }
            ],
        },
        "2026-11-26T16:00",
    )
    case = record(
        cli,
        tmp_path,
        ref,
        "suspension_decision",
        {
            "decided_on": "2026-10-22",
            "decision": "children_removed",
            "children_removed": ["C-1042"],
            "removals": [
                {
                    "child": "C-1042",
                    "ends_on": "2026-10-22",
                    "new_placement_on": "2026-10-22",
                    "placement_type": "long_term",
                    "placement_began_on": "2025-04-01",
                    "team_manager": "tm-1",
                }
            ],
            "alternatives": [{"alternative": "a safety plan", "why_rejected": "the police asked"}],
            "rationale": "the child moves while the police look into it",
            "approved_by": "hos-1",
            "named_contact": "supervising social worker",
            "confirmed_to_carer_on": "2026-10-23",
        },
        "2026-11-26T16:10",
    )
    # The removal started the child's placement disruption case, linked, with a run of its own.
    started = next(d for d in case["decisions"] if d["kind"] == "disruption_started")
    disruption = started["value"].split(": ")[1]
    assert [link["reference"] for link in case["links"]] == [disruption]
    assert until(lambda: bool(_show(cli, disruption)["flow_run_id"]))
    assert until(lambda: bool(open_steps(_show(cli, disruption))))
    assert _show(cli, disruption)["lead"] == "tm-1"
    case = record(
        cli,
        tmp_path,
        ref,
        "carer_support",
        {
            "support_offered_on": "2026-11-18",
            "offered_by": "FosterTalk",
            "allowances": "continue",
            "fees": "continue",
            "rationale": "no reason to stop them",
        },
        "2026-11-26T16:20",
        who="ssw-1",
    )
    # The support offer to the carer was carried forward at the review: still open, so the case
    # waits for the closing account (nothing open is forgotten).
    assert case["status"] == "open" and open_steps(case) == ["closure"]
    case = record(
        cli,
        tmp_path,
        ref,
        "closure",
        {
            "closed_on": "2026-11-27",
            "accounted": [{"action_id": ids[2], "status": "done"}],
        },
        "2026-11-27T10:00",
    )
    assert case["status"] == "closed"
    assert state_of(case["flow_run_id"]).type == "COMPLETED" or _completes(case["flow_run_id"])


def _completes(flow_run_id: str) -> bool:
    """True once the run is Completed (it finishes just after it closes the case)."""
    return until(lambda: state_of(flow_run_id).type == "COMPLETED")


def test_no_further_action_closes_at_once(cli, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = start(cli, "2026-10-20T10:00")
    case = record(
        cli,
        tmp_path,
        ref,
        "initial_consideration",
        {
            "threshold_met": False,
            "route": "no_further_action",
            "rationale": "patently unfounded",
            "approved_by": "ladom-1",
        },
        "2026-10-20T12:00",
    )
    assert case["status"] == "closed"
    assert _completes(case["flow_run_id"])


def test_a_crashed_run_is_repaired_without_losing_or_repeating_records(
    cli, team, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from uuid import UUID

    from prefect import get_client
    from prefect.states import Crashed

    ref = start(cli, "2026-10-21T10:00")
    case = record(
        cli,
        tmp_path,
        ref,
        "initial_consideration",
        {
            "threshold_met": True,
            "limbs": ["risk"],
            "route": "allegation_meeting",
            "rationale": "r",
        },
        "2026-10-21T12:00",
    )
    run_id = case["flow_run_id"]
    with get_client(
        sync_client=True
    ) as client:  # the worker died while the case waited for its meeting
        client.set_flow_run_state(UUID(run_id), Crashed(message="worker lost"), force=True)
    meeting = {
        "held_on": "2026-10-23",
        "attendees": ["lado"],
        "actions": [{"title": "Visit", "owner": "sw-1", "due": 2}],
    }
    code, out, err = cli(
        "record",
        ref,
        "allegation_meeting",
        "--as",
        "lado-1",
        "--input",
        write_json(tmp_path, "meeting", meeting),
        "--at",
        "2026-10-23T15:00",
        "--wait",
        "2",
        "--key",
        "meeting-once",
    )
    assert code == 0, err
    assert "has not applied it" in out  # stored; the crashed run cannot apply it

    code, out, err = cli("case", "repair", ref)
    assert code == 0 and "scheduled again" in out, err
    assert until(lambda: "review_meeting" in open_steps(_show(cli, ref)))
    again = cli(
        "record",
        ref,
        "allegation_meeting",
        "--as",
        "lado-1",
        "--input",
        write_json(tmp_path, "meeting", meeting),
        "--at",
        "2026-10-23T15:00",
        "--key",
        "meeting-once",
        "--json",
    )
    assert again[0] == 0  # the same key: stored once, not refused
    case = _show(cli, ref)
    assert [d["kind"] for d in case["decisions"]] == ["threshold_and_route"]
    assert [a["title"] for a in case["actions"]] == ["Visit"]
    assert [s["step"] for s in case["steps"]].count("allegation_meeting") == 1
    # The step is opened a moment before the run suspends at it: wait for that, as a user would.
    assert until(lambda: state_of(run_id).type == "PAUSED")
    assert state_of(run_id).pause_key == "review-meeting-1"


def _status_row(cli, ref: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return next(r for r in json.loads(cli("status", "--json")[1]) if r["reference"] == ref)


def _show(cli, ref: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    code, out, err = cli("case", "show", ref, "--json")
    assert code == 0, err
    return json.loads(out)


def test_resuming_from_the_ui_with_nothing_recorded_waits_again(cli, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    ref = start(cli, "2026-10-22T10:00")
    run_id = _show(cli, ref)["flow_run_id"]
    assert until(lambda: state_of(run_id).type == "PAUSED")  # the UI offers Resume only then
    resume_flow_run(UUID(run_id))  # what the UI's Resume button does
    assert until(lambda: state_of(run_id).pause_key == "initial-consideration-1-again-1")
    case = record(
        cli,
        tmp_path,
        ref,
        "initial_consideration",
        {
            "threshold_met": False,
            "route": "advice",
            "rationale": "single-agency action",
            "approved_by": "ladom-1",
            "follow_up": "supervision visit",
        },
        "2026-10-22T12:00",
    )
    assert case["status"] == "closed"
    kinds = [d["kind"] for d in case["decisions"]]
    assert kinds == ["threshold_and_route", "closure_approved", "advice_follow_up"]


def test_the_police_strand_is_followed_round_by_round_before_the_outcome(
    cli, team, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The police investigate: each review opens the next (a fortnight on) until the police
    charge or close; the flow follows the strand to its end before it waits for the outcome."""
    ref = start(cli, "2026-10-26T10:00")
    case = record(
        cli,
        tmp_path,
        ref,
        "initial_consideration",
        {
            "threshold_met": True,
            "limbs": ["offence"],
            "route": "strategy_discussion",
            "rationale": "possible offence: the police lead",
            "police_investigating": True,
        },
        "2026-10-26T12:00",
    )
    review = next(s for s in case["steps"] if s["step"] == "police_review")
    assert review["due"] == "2026-11-23"  # 4 weeks after the initial evaluation
    # Routed to a s47 strategy discussion: it is the case's first meeting (L4, L5).
    assert "strategy_discussion" in open_steps(case) and "allegation_meeting" not in open_steps(
        case
    )
    meeting = {"held_on": "2026-10-28", "attendees": ["CSC", "lado", "police", "health"], "section_47": True, "section_47_reason": "significant harm", "carer_told_on": "2026-10-28", "ready_for_outcome": True}  # fmt: skip
    case = record(cli, tmp_path, ref, "strategy_discussion", meeting, "2026-10-28T16:00")
    run_id = case["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "police-review-1")  # the strand first
    case = record(cli, tmp_path, ref, "police_review", {"held_on": "2026-11-20", "decision": "continue", "notes": "awaiting forensics"}, "2026-11-20T12:00")  # fmt: skip
    assert until(lambda: state_of(run_id).pause_key == "police-review-2")
    case = _show(cli, ref)
    second = next(s for s in case["steps"] if s["step"] == "police_review" and s["sequence"] == 2)
    assert second["due"] == "2026-12-04"  # a fortnight on
    case = record(cli, tmp_path, ref, "police_review", {"held_on": "2026-11-27", "decision": "close", "notes": "no further police action", "next_steps": "the LADO moves to the outcome"}, "2026-11-27T12:00")  # fmt: skip
    assert until(lambda: state_of(run_id).pause_key == "outcome-1")  # the strand ended
    assert "police_review" not in open_steps(_show(cli, ref))


def test_a_step_recorded_in_the_browser_moves_the_case_on(cli, team) -> None:  # type: ignore[no-untyped-def]
    """The web app's one real path to Prefect: a case started in the browser gets its flow run in
    the background (orchestration.launch_by_id); a record answers as soon as it is stored, and the
    flow, nudged in the background (orchestration.nudge), applies it and opens the next step."""
    import re
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from models import accounts
    from models.db import session_scope
    from safeguard import wiring
    from safeguard.settings import get_settings
    from web.service import app_from_settings

    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        accounts.set_password(session, staff_id="lado-1", password="a browser password here", now=datetime.now(UTC), actor_id=None)  # fmt: skip
    client = TestClient(app_from_settings(), follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    client.post("/sign-in", data={"staff_id": "lado-1", "password": "a browser password here", "csrf_token": token, "next": "/my-work"})  # fmt: skip
    form = client.get("/start/allegation").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    started = client.post(
        "/start/allegation",
        data={
            "csrf_token": token,
            "form_key": "start-once",
            "received_at-day": "19",
            "received_at-month": "10",
            "received_at-year": "2026",
            "received_at-time": "09:15",
            "aware_on-day": "19",
            "aware_on-month": "10",
            "aware_on-year": "2026",
            "carer": "FC-0042",
            "fostering_service": "Northshire Fostering",
            "supervising_social_worker": "ssw-1",
            "children-count": "1",
            "children-0-child": "C-1042",
            "children-0-iro": "iro-1",
            "children-0-social_worker": "sw-1",
            "category": "physical",
            "summary": "A child said a carer grabbed their arm.",
        },
    )
    assert started.status_code == 303, started.text
    ref = started.headers["location"].removeprefix("/cases/")
    assert until(lambda: "Record: Initial consideration" in client.get(f"/cases/{ref}").text)
    form = client.get(f"/cases/{ref}/record/initial_consideration").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post(
        f"/cases/{ref}/record/initial_consideration",
        data={
            "csrf_token": token,
            "threshold_met": "yes",
            "limbs": "harm",
            "route": "allegation_meeting",
            "rationale": "a mark seen at school",
            "save": "1",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/cases/{ref}?recorded=initial_consideration"  # fmt: skip
    assert until(lambda: "Record: Allegation management" in client.get(f"/cases/{ref}").text)
    page = client.get(f"/cases/{ref}").text
    assert "Being applied" not in page and "a mark seen at school" in page

"""The IRO's challenge driven through the CLI against a real Prefect server with the flow served,
and notices to a real SMTP server: the informal stage unresolved, the team manager's response late
and escalated, a stage passed over with its reason, a Cafcass referral beside the stages, the
concern resolved and the case closed; a challenge that climbs to the director, its 20 working
days lapsing before the stage it is at, ending with the Cafcass prompt; and one opened by a
placement disruption whose recommendation was carried forward past its limit. No notice carries a
name or the issue raised."""

import json
from pathlib import Path
from typing import Any

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until, write_json
from tests.smtp import SmtpServer

pytestmark = pytest.mark.flows

SECRET = "contact with Grandma Philippa stopped"
TEAM = [
    ("i-dir", "director", None),
    ("i-hos", "head_of_service", "i-dir"),
    ("i-sm", "service_manager", "i-hos"),
    ("i-tm", "team_manager", "i-sm"),
    ("i-sw", "social_worker", "i-tm"),
    ("i-ssw", "supervising_social_worker", "i-tm"),
    ("i-irom", "iro_manager", "i-hos"),
    ("i-iro", "iro", "i-irom"),
]


@pytest.fixture
def cli(served: str, mailbox: SmtpServer, capsys: pytest.CaptureFixture[str], monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        if ok:
            assert code == 0, out.err
        return code, out.out, out.err

    run("db", "upgrade")
    if run("staff", "show", "i-iro", ok=False)[0] != 0:
        for sid, role, manager in TEAM:
            args = ["staff", "add", sid, "--name", sid, "--role", role, "--address", mailbox.url(sid)]  # fmt: skip
            run(*args, *(["--manager", manager] if manager else []))
    return run


def start(cli, child: str, raised: str, *more: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    _, out, _ = cli(
        "iro", "challenge", "--as", "i-iro", "--child", f"{child}:i-iro:i-sw",
        "--team-manager", "i-tm", "--category", "contact", "--issue", SECRET,
        "--seeks", "contact restarted within two weeks", "--raised", raised, *more, "--json",
    )  # fmt: skip
    started = json.loads(out)
    assert started["first_step_open"]
    return started["reference"], started["flow_run_id"]


def recorder(cli, tmp_path: Path, ref: str):  # type: ignore[no-untyped-def]
    def record(step: str, data: dict[str, Any], who: str, at: str) -> dict[str, Any]:
        _, out, _ = cli(
            "record", ref, step, "--as", who, "--input", write_json(tmp_path, step, data),
            "--at", at, "--json",
        )  # fmt: skip
        result = json.loads(out)
        assert result["applied"], f"{step} was stored but not applied by the flow"
        return result["case"]  # type: ignore[no-any-return]

    def refuse(step: str, data: dict[str, Any], who: str, at: str, message: str) -> None:
        code, _, err = cli(
            "record", ref, step, "--as", who, "--input", write_json(tmp_path, step, data),
            "--at", at, ok=False,
        )  # fmt: skip
        assert code == 2 and message in err, err

    return record, refuse


def open_steps(case: dict[str, Any]) -> list[str]:
    """The steps open with a timescale (not the Cafcass referral, open to record if it comes)."""
    return sorted(s["step"] for s in case["steps"] if s["status"] == "open" and s["due"])


def lapsed(cli, ref: str, at: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Sweep as at `at`; return, per step of the case that lapsed (known by its due day), who was
    told."""
    report = json.loads(cli("sweep", "--at", at, "--json")[1])
    case = json.loads(cli("case", "show", ref, "--json")[1])
    by_due = {s["due"]: s["step"] for s in case["steps"] if s["due"]}
    told: dict[str, list[str]] = {}
    for written in report["written"]:
        if written["reference"] == ref and written["kind"] == "lapsed":
            told[by_due[written["key"].split("@")[1].split("/")[0]]] = sorted(written["recipients"])
    return told


def test_informal_then_formal_a_stage_passed_over_cafcass_and_resolved(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    ref, run_id = start(cli, "C-81", "2026-10-01")
    assert ref.startswith("IRO-2026-")
    record, refuse = recorder(cli, tmp_path, ref)
    informal = {"raised_with": "both", "discussed_on": "2026-10-06", "answer": "no worker free", "resolved": False, "why": "no date given"}  # fmt: skip
    refuse("informal_resolution", informal, "i-iro", "2026-10-06T16:00", "Select who the formal alert goes to")  # fmt: skip
    refuse("informal_resolution", informal, "i-tm", "2026-10-06T16:00", "may not record")
    case = record("informal_resolution", {**informal, "next_stage": "team_manager", "alerted_on": "2026-10-07"}, "i-iro", "2026-10-07T09:00")  # fmt: skip
    assert open_steps(case) == ["formal_team_manager", "formal_total"]
    due = {s["step"]: s["due"] for s in case["steps"] if s["status"] == "open"}
    # each clock from its own alert: the stage 5 working days, the whole 20
    assert (due["formal_team_manager"], due["formal_total"]) == ("2026-10-14", "2026-11-04")
    tm = next(s for s in case["steps"] if s["step"] == "formal_team_manager")
    assert tm["owner"] == "i-tm"

    # Fri 16 Oct: the team manager's response is late: they, their own manager, the IRO and the
    # IRO's manager are told.
    assert lapsed(cli, ref, "2026-10-16T09:00") == {"formal_team_manager": ["i-iro", "i-irom", "i-sm", "i-tm"]}  # fmt: skip
    record("formal_team_manager", {"responded_on": "2026-10-20", "decision": "not now", "reasons": "staffing"}, "i-tm", "2026-10-20T12:00")  # fmt: skip
    assert until(lambda: state_of(run_id).pause_key == "response-considered-1")
    # Beside the stages: a referral to Cafcass, with its day and reason; the stages go on.
    case = record("cafcass_referral", {"referred_on": "2026-10-21", "reason": "the plan is not being implemented"}, "i-iro", "2026-10-21T10:00")  # fmt: skip
    assert open_steps(case) == ["formal_total", "response_considered"]
    moved = {"considered_on": "2026-10-21", "resolved": False, "why": "staffing is not an answer", "next_stage": "head_of_service", "responder": "i-hos", "alerted_on": "2026-10-21"}  # fmt: skip
    refuse("response_considered", {**moved, "next_stage": "team_manager", "responder": None}, "i-iro", "2026-10-21T11:00", "The alert goes up")  # fmt: skip
    refuse("response_considered", moved, "i-iro", "2026-10-21T11:00", "Enter why you are going past a stage")  # fmt: skip
    refuse("response_considered", {**moved, "passed_over_because": "urgent", "responder": "i-sm"}, "i-iro", "2026-10-21T11:00", "i-sm")  # fmt: skip
    case = record("response_considered", {**moved, "passed_over_because": "the service manager is away: urgent"}, "i-iro", "2026-10-21T11:00")  # fmt: skip
    assert open_steps(case) == ["formal_head_of_service", "formal_total"]
    hos = next(s for s in case["steps"] if s["step"] == "formal_head_of_service")
    assert (hos["owner"], hos["due"]) == ("i-hos", "2026-10-28")
    passed = [(d["kind"], d["value"]) for d in case["decisions"] if d["kind"] == "stage passed over"]  # fmt: skip
    assert passed == [("stage passed over", "Service manager")]
    record("formal_head_of_service", {"responded_on": "2026-10-27", "decision": "contact restarts", "reasons": "the plan says so"}, "i-hos", "2026-10-27T15:00")  # fmt: skip
    case = record("response_considered", {"considered_on": "2026-10-28", "resolved": True, "why": "contact restarts on 2 November"}, "i-iro", "2026-10-28T09:00")  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    timely = {s["step"]: (s["status"], s["timeliness"]) for s in case["steps"]}
    assert timely["formal_team_manager"] == ("closed", "late")
    assert timely["formal_head_of_service"] == ("closed", "in time")
    assert timely["formal_total"] == ("closed", "in time")  # the resolution met the 20 days
    assert "formal_service_manager" not in timely  # passed over: never opened
    shown = cli("case", "show", ref)[1]
    assert "resolved" in shown and "C-81" in shown
    # The informal stage is on the child's record: with whom, what they answered, not resolved.
    child = json.loads(cli("child", "show", "C-81", "--json")[1])
    [filed] = [r for r in child["reports"] if r["case"] == ref]
    assert filed["what"] == "not resolved (raised with the social worker and the team manager)"
    assert filed["summary"].startswith("They answered: no worker free")
    for mail in mailbox.received:
        assert SECRET not in mail.text + mail.html and "staffing" not in mail.text


def test_the_20_working_days_lapse_first_and_the_director_leaves_it_unresolved(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    ref, run_id = start(cli, "C-82", "2026-09-01")
    record, refuse = recorder(cli, tmp_path, ref)
    record("informal_resolution", {"raised_with": "not_raised", "discussed_on": "2026-09-03", "resolved": False, "why": "serious", "passed_over_because": "the child is at risk now", "next_stage": "team_manager", "alerted_on": "2026-09-03"}, "i-iro", "2026-09-03T10:00")  # fmt: skip
    record("formal_team_manager", {"responded_on": "2026-09-09", "decision": "no", "reasons": "r"}, "i-tm", "2026-09-09T10:00")  # fmt: skip
    record("response_considered", {"considered_on": "2026-09-14", "resolved": False, "why": "w", "next_stage": "service_manager", "responder": "i-sm", "alerted_on": "2026-09-14"}, "i-iro", "2026-09-14T10:00")  # fmt: skip
    record("formal_service_manager", {"responded_on": "2026-09-18", "decision": "no", "reasons": "r"}, "i-sm", "2026-09-18T10:00")  # fmt: skip
    case = record("response_considered", {"considered_on": "2026-09-25", "resolved": False, "why": "w", "next_stage": "head_of_service", "responder": "i-hos", "alerted_on": "2026-09-25"}, "i-iro", "2026-09-25T10:00")  # fmt: skip
    due = {s["step"]: s["due"] for s in case["steps"] if s["status"] == "open" and s["due"]}
    assert due == {"formal_head_of_service": "2026-10-02", "formal_total": "2026-10-01"}
    # Fri 2 Oct: the 20 working days ran out yesterday; the head of service has until today. The
    # whole process's limit escalates first: the IRO's manager (who owns it), the IRO, the director.
    assert lapsed(cli, ref, "2026-10-02T09:00") == {"formal_total": ["i-dir", "i-iro", "i-irom"]}
    record("formal_head_of_service", {"responded_on": "2026-10-02", "decision": "no", "reasons": "r"}, "i-hos", "2026-10-02T16:00")  # fmt: skip
    record("response_considered", {"considered_on": "2026-10-05", "resolved": False, "why": "w", "next_stage": "director", "responder": "i-dir", "alerted_on": "2026-10-05"}, "i-iro", "2026-10-05T10:00")  # fmt: skip
    record("formal_director", {"responded_on": "2026-10-09", "decision": "no", "reasons": "r"}, "i-dir", "2026-10-09T10:00")  # fmt: skip
    refuse("response_considered", {"considered_on": "2026-10-12", "resolved": False, "why": "w", "next_stage": "director", "responder": "i-dir", "alerted_on": "2026-10-12"}, "i-iro", "2026-10-12T10:00", "The director's stage is the last")  # fmt: skip
    case = record("response_considered", {"considered_on": "2026-10-12", "resolved": False, "why": "still not implemented"}, "i-iro", "2026-10-12T10:00")  # fmt: skip
    # The formal process has ended unresolved: the IRO's prompt is Cafcass.
    assert open_steps(case) == ["cafcass_decision"]
    timely = {s["step"]: s["timeliness"] for s in case["steps"]}
    assert timely["formal_total"] == "late"
    refuse("cafcass_decision", {"refer": True, "decided_on": "2026-10-13", "reason": "r"}, "i-iro", "2026-10-13T10:00", "Enter the date you referred it")  # fmt: skip
    case = record("cafcass_decision", {"refer": True, "decided_on": "2026-10-13", "referred_on": "2026-10-13", "reason": "the plan is still not implemented"}, "i-iro", "2026-10-13T10:00")  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    assert [d["value"] for d in case["decisions"] if d["kind"] == "Cafcass"] == ["referred"]
    # The IRO service's figures count it (`safeguard report iro`, over the days it ran).
    report = json.loads(cli("report", "iro", "--json")[1])
    said = {f["figure"]: f["value"] for f in report["figures"]}
    assert (
        said["Not resolved after the director's stage"] >= 1 and said["Referrals to Cafcass"] >= 1
    )
    assert said["Formal processes ended after 20 working days"] >= 1
    assert all(SECRET not in m.text + m.html for m in mailbox.received)


def test_a_recommendation_carried_forward_past_its_limit_opens_the_iros_challenge(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    """A planned ending's disruption meeting recommends life story work; it is carried forward at
    two reviews, and at the third the child's IRO escalates it: the challenge starts, its flow runs,
    linked both ways, filled in with the child, the team manager and the recommendation."""
    _, out, _ = cli(
        "disruption", "start", "--as", "i-sw", "--child", "C-83:i-iro:i-sw", "--carer", "FC-83",
        "--service", "Northshire Fostering", "--ssw", "i-ssw", "--team-manager", "i-tm",
        "--type", "short_term", "--ended-by", "carer_notice", "--reason-for-change", "CREQO",
        "--planned", "--ends", "2026-11-20",
        "--new-placement", "2026-11-20", "--began", "2024-09-02", "--json",
    )  # fmt: skip
    disruption = json.loads(out)["reference"]
    record, _ = recorder(cli, tmp_path, disruption)
    record("care_plan_review", {"reviewed_on": "2026-11-13", "decision": "move", "rationale": "carer's notice"}, "i-sw", "2026-11-20T09:00")  # fmt: skip
    record("iro_informed", {"told_on": "2026-11-13", "how": "at the review"}, "i-sw", "2026-11-20T09:05")  # fmt: skip
    record("notice_of_intention", {"sent_on": "2026-11-13", "to": ["carers", "parents"]}, "i-sw", "2026-11-20T09:10")  # fmt: skip
    record("meeting_decision", {"hold": True}, "i-tm", "2026-11-23T10:00")
    meeting = {"held_on": "2026-11-25", "chair": "i-iro", "attendees": ["iro", "social worker"], "sequence_of_events": "...", "the_match": "...", "support_given": "...", "childs_view": "...", "recommendations": [{"title": "Life story work", "owner": "i-sw", "due": "2026-12-18"}]}  # fmt: skip
    case = record("disruption_meeting", meeting, "i-tm", "2026-11-25T15:00")
    [action] = case["actions"]
    record("meeting_report", {"filed_on": "2026-11-26", "on_child_record": True, "on_carer_record": True, "summary": "...", "next_review_on": "2026-11-27"}, "i-tm", "2026-11-26T12:00")  # fmt: skip
    carried = {"action_id": action["id"], "status": "carried_forward", "reason": "no worker", "new_due": "2027-01-15"}  # fmt: skip
    record("follow_through", {"held_on": "2026-11-27", "review": "looked_after_review", "accounted": [carried], "next_review_on": "2026-11-30"}, "i-sw", "2026-11-27T12:00")  # fmt: skip
    record("follow_through", {"held_on": "2026-11-30", "review": "looked_after_review", "accounted": [carried], "next_review_on": "2026-12-01"}, "i-sw", "2026-11-30T12:00")  # fmt: skip
    escalated = {"action_id": action["id"], "decision": "dispute_resolution", "reasons": "carried forward three times: the child waits", "iro": "i-iro"}  # fmt: skip
    record("follow_through", {"held_on": "2026-12-01", "review": "looked_after_review", "accounted": [carried], "iro_decisions": [escalated], "next_review_on": "2026-12-04"}, "i-sw", "2026-12-01T12:00")  # fmt: skip
    shown = json.loads(cli("case", "show", disruption, "--json")[1])
    [challenge] = [link["reference"] for link in shown["links"] if link["reference"].startswith("IRO-")]  # fmt: skip
    seen = json.loads(cli("case", "show", challenge, "--json")[1])
    assert [link["reference"] for link in seen["links"]] == [disruption]
    assert (seen["lead"], seen["flow_run_id"] is not None) == ("i-iro", True)  # its flow run made
    about = seen["challenge"]
    assert (about["about_case"], about["category"], about["first_raised_on"]) == (disruption, "An action not taken", "2026-12-01")  # fmt: skip
    assert until(lambda: state_of(json.loads(cli("case", "show", challenge, "--json")[1])["flow_run_id"]).pause_key == "informal-resolution-1")  # fmt: skip
    informal = next(s for s in json.loads(cli("case", "show", challenge, "--json")[1])["steps"] if s["step"] == "informal_resolution")  # fmt: skip
    assert (informal["owner"], informal["status"]) == ("i-tm", "open")  # fmt: skip
    # the disruption's other cases of the child show the challenge open
    assert [f["reference"] for f in json.loads(cli("case", "show", disruption, "--json")[1])["flags"]] == [challenge]  # fmt: skip

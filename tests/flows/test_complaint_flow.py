"""Stage 2 complaints driven through the CLI against a real Prefect server with the flow served, and
notices to a real SMTP server: stage 2 answered in time, point by point, a remedy reviewed, no
review panel, the case closed; and a complaint taken to stage 3 with the stage 2 independent person
refused for the panel, the panel's report and the authority's response, the stage 2 independent
person told, the case closed. No notice carries a name, a complaint's text or a finding."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until, write_json
from tests.smtp import SmtpServer

pytestmark = pytest.mark.flows

SECRET = "Mrs Hepzibah Quillfeather"
TEAM = [
    ("c-dir", "director", None, False),
    ("c-hos", "head_of_service", "c-dir", False),
    ("c-sm", "service_manager", "c-hos", False),
    ("c-cm", "complaints_manager", "c-hos", False),
    ("c-io", "investigating_officer", "c-cm", False),
    ("c-irom", "iro_manager", "c-hos", False),
    ("c-iro", "iro", "c-irom", False),
    ("c-sw", "social_worker", "c-sm", False),
    ("c-ip1", "independent_person", None, True),
    ("c-ip2", "independent_person", None, True),
    ("c-ip3", "independent_person", None, True),
    ("c-ip4", "independent_person", None, True),
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
    if run("staff", "show", "c-cm", ok=False)[0] != 0:
        for sid, role, manager, independent in TEAM:
            args = [
                "staff",
                "add",
                sid,
                "--name",
                sid,
                "--role",
                role,
                "--address",
                mailbox.url(sid),
            ]
            run(*args, *(["--manager", manager] if manager else []), *(["--independent"] if independent else []))  # fmt: skip
    return run


def start(cli, child: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    _, out, _ = cli(
        "complaint", "start", "--as", "c-cm", "--complainant", SECRET, "--standing", "foster_carer",
        "--child", f"{child}:c-iro:c-sw", "--advocacy-offered", "--advocacy", "declined",
        "--received", "2026-10-01", "--known", "2026-09-20", "--stage1-received", "2026-10-01",
        "--stage1-answered", "2026-10-14", "--stage1-response", "not upheld",
        "--requested", "2026-10-21", "--manager", "c-cm",
        "--summary", f"{SECRET} says the plan ignored her", "--json",
    )  # fmt: skip
    started = json.loads(out)
    assert started["first_step_open"]
    return started["reference"], started["flow_run_id"]


def recorder(cli, tmp_path: Path, ref: str):  # type: ignore[no-untyped-def]
    def record(step: str, data: dict[str, Any], who: str = "c-cm") -> dict[str, Any]:
        _, out, _ = cli(
            "record", ref, step, "--as", who, "--input", write_json(tmp_path, step, data), "--json"
        )
        result = json.loads(out)
        assert result["applied"], f"{step} was stored but not applied by the flow"
        return result["case"]  # type: ignore[no-any-return]

    def refuse(step: str, data: dict[str, Any], message: str) -> None:
        code, _, err = cli(
            "record",
            ref,
            step,
            "--as",
            "c-cm",
            "--input",
            write_json(tmp_path, step, data),
            ok=False,
        )
        assert code == 2 and message in err, err

    return record, refuse


def open_steps(case: dict[str, Any]) -> list[str]:
    """The steps open with a timescale (not the withdrawal, open to record if it comes)."""
    return sorted(s["step"] for s in case["steps"] if s["status"] == "open" and s["due"])


STATEMENT = {
    "agreed_on": "2026-10-23",
    "points": [
        {"number": 1, "text": "the plan ignored her view"},
        {"number": 2, "text": "no reply"},
    ],
    "investigating_officer": "c-io",
    "independent_person": "c-ip1",
}
RESPONSE = {
    "io_report_on": "2026-11-16",
    "ip_report_on": "2026-11-16",
    "adjudicated_on": "2026-11-18",
    "adjudicating_officer": "c-sm",
    "findings": [
        {"point": 1, "finding": "partly_upheld", "rationale": "noted, not weighed"},
        {"point": 2, "finding": "upheld", "rationale": "letters unanswered"},
    ],
    "remedies": [{"title": "Apology", "owner": "c-sw", "due": "2026-11-25"}],
    "remedies_review_on": "2026-11-27",
    "response_sent_on": "2026-11-19",
    "stage3_rights_stated": True,
    "ombudsman_stated": True,
}


def test_stage_2_in_time_remedy_reviewed_and_closed(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    ref, run_id = start(cli, "C-61")
    assert until(lambda: any(m.subject.startswith(f"For information: {ref}") for m in mailbox.received))  # fmt: skip
    record, refuse = recorder(cli, tmp_path, ref)
    record("acknowledgement", {"acknowledged_on": "2026-10-22"})
    case = record("eligibility", {"accepted": True})
    assert open_steps(case) == ["stage2_appointments", "stage2_outer_limit"]
    case = record("stage2_appointments", STATEMENT)
    assert "stage2_response" in open_steps(case)
    # Due Fri 27 Nov: an extension decided today, after that day, is refused; one decided on
    # Thu 26 Nov (--at), the complainant told on Fri 20 Nov, moves the due day on.
    extend = ("clock", "extend", ref, "stage2_response", "--to", "45", "--told-on", "2026-11-20", "--reason", "more interviews", "--approver", "c-cm")  # fmt: skip
    code, _, err = cli(*extend, ok=False)
    assert code == 2 and "was due on 27 November 2026 and this extension is dated" in err, err
    cli(*extend, "--at", "2026-11-26T10:00")
    refuse("stage2_response", {**RESPONSE, "findings": RESPONSE["findings"][:1]}, "point(s) 2 of the statement have no finding")  # fmt: skip
    case = record("stage2_response", RESPONSE)
    assert open_steps(case) == ["remedies_review", "stage3_request"]  # the outer limit is met
    case = record("stage3_request", {"requested": False})
    [remedy] = case["actions"]
    case = record("remedies_review", {"held_on": "2026-11-27", "accounted": [{"action_id": remedy["id"], "status": "done"}]})  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    timely = {s["step"]: s["timeliness"] for s in case["steps"]}
    assert timely["stage2_response"] == "in time" and timely["stage2_outer_limit"] == "in time"
    [extension] = next(s for s in case["steps"] if s["step"] == "stage2_response")["extensions"]
    assert (extension["to"], extension["from_due"]) == ("45 working days", "2026-11-27")
    _, out, _ = cli("report", "timeliness", "--process", "complaint", "--json")
    rows = {r["step"]: r for r in json.loads(out)["steps"]}
    assert rows["stage2_response"]["in time"] >= 1
    for mail in mailbox.received:
        assert SECRET not in mail.text + mail.html and "ignored" not in mail.text
        assert "partly_upheld" not in mail.text


def test_stage_3_without_the_stage_2_independent_person(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    """The panel's two recommendations: one accepted (a remedy, reviewed), one not (reasons)."""
    ref, run_id = start(cli, "C-62")
    record, refuse = recorder(cli, tmp_path, ref)
    record("acknowledgement", {"acknowledged_on": "2026-10-22"})
    record("eligibility", {"accepted": True})
    record("stage2_appointments", STATEMENT)
    record("stage2_response", {**RESPONSE, "remedies": [], "remedies_review_on": None})
    case = record("stage3_request", {"requested": True, "requested_on": "2026-11-20"})
    assert "stage3_panel" in open_steps(case)
    refuse("stage3_panel", {"held_on": "2026-11-27", "members": ["c-ip1", "c-ip2", "c-ip3"], "chair": "c-ip2"}, "c-ip1 was the stage 2 independent person")  # fmt: skip
    case = record("stage3_panel", {"held_on": "2026-11-27", "members": ["c-ip2", "c-ip3", "c-ip4"], "chair": "c-ip2"})  # fmt: skip
    assert open_steps(case) == ["panel_report"]
    case = record("panel_report", {"received_on": "2026-11-27", "recommendations": ["apologise", "a new social worker"]})  # fmt: skip
    assert open_steps(case) == ["stage3_response"]
    answer = {"responded_on": "2026-12-02", "decided_with_stage2_ip": True, "ombudsman_stated": True, "remedies_review_on": "2026-12-18"}  # fmt: skip
    accepted = {"number": 1, "accepted": True, "owner": "c-sw", "due": "2026-12-11"}
    refuse("stage3_response", {**answer, "recommendations": [accepted]}, "recommendation(s) 2 of the panel have no answer")  # fmt: skip
    refuse("stage3_response", {**answer, "recommendations": [accepted, {"number": 2, "accepted": False}]}, "recommendation 2 is not accepted: give the reasons")  # fmt: skip
    case = record("stage3_response", {**answer, "recommendations": [accepted, {"number": 2, "accepted": False, "reasons": "the allocation is the team's"}]}, who="c-dir")  # fmt: skip
    answers = [(d["value"], d["author"]) for d in case["decisions"] if d["kind"] == "recommendation"]  # fmt: skip
    assert answers == [("recommendation 1: accepted", "c-dir"), ("recommendation 2: not accepted", "c-dir")]  # fmt: skip
    [remedy] = case["actions"]
    assert (remedy["title"], remedy["owner"], remedy["due"]) == ("Review panel recommendation 1", "c-sw", "2026-12-11")  # fmt: skip
    assert open_steps(case) == ["remedies_review"]  # the remedies review runs after stage 3 too
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()  # the review opened today
    case = record("remedies_review", {"held_on": today, "accounted": [{"action_id": remedy["id"], "status": "done"}]})  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    # The stage 2 independent person is sent the response, for information, and the child's IRO
    # told of it (as of the stage 2 response); the panel is not.
    told = lambda: sorted(m.to[0].split("@")[0] for m in mailbox.received if m.subject.startswith(f"For information: {ref} Local authority response"))  # noqa: E731  # fmt: skip
    assert until(lambda: told() == ["c-ip1", "c-iro"]), told()
    stage2 = lambda: sorted(m.to[0].split("@")[0] for m in mailbox.received if m.subject.startswith(f"For information: {ref} Stage 2 investigation"))  # noqa: E731  # fmt: skip
    assert stage2() == ["c-iro"]


def test_the_complainants_window_closes_itself_when_it_has_run_out(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    """Sent Mon 2 Nov, taken as received Wed 4 Nov: the 20 working days ran out on Wed 2 Dec. The
    flow opens the window, finds it closed, and goes on without anyone recording "no request"."""
    ref, run_id = start(cli, "C-63")
    record, _ = recorder(cli, tmp_path, ref)
    record("acknowledgement", {"acknowledged_on": "2026-10-22"})
    record("eligibility", {"accepted": True})
    record("stage2_appointments", STATEMENT)
    answered = {**RESPONSE, "io_report_on": "2026-10-29", "ip_report_on": "2026-10-29", "adjudicated_on": "2026-10-30", "response_sent_on": "2026-11-02", "remedies": [], "remedies_review_on": None}  # fmt: skip
    case = record("stage2_response", answered)
    assert case["status"] == "closed"
    window = next(s for s in case["steps"] if s["step"] == "stage3_request")
    assert (window["status"], window["due"], window["timeliness"]) == ("lapsed", "2026-12-02", "window closed")  # fmt: skip
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    _, out, _ = cli("report", "timeliness", "--process", "complaint", "--json")
    assert "stage3_request" not in {r["step"] for r in json.loads(out)["steps"]}
    assert not [m for m in mailbox.received if ref in m.subject and "review panel" in m.subject]


def test_a_complaint_withdrawn_at_stage_2_closes_with_every_clock_stopped(
    cli, tmp_path: Path, mailbox: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    ref, run_id = start(cli, "C-64")
    record, _ = recorder(cli, tmp_path, ref)
    record("acknowledgement", {"acknowledged_on": "2026-10-22"})
    record("eligibility", {"accepted": True})
    case = record("stage2_appointments", STATEMENT)
    assert "stage2_response" in open_steps(case)
    case = record("withdrawn_or_resolved", {"how": "withdrawn", "on": "2026-11-16", "words": f"{SECRET} no longer wishes to go on"})  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    status = {s["step"]: s["status"] for s in case["steps"]}
    assert (status["stage2_response"], status["stage2_outer_limit"]) == ("ended", "ended")
    _, out, _ = cli("sweep", "--json")
    report = json.loads(out)
    assert not [w for w in report["written"] if w["reference"] == ref and w["kind"] == "lapsed"]
    assert all(SECRET not in m.text + m.html for m in mailbox.received)

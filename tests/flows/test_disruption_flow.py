"""Placement disruptions driven through the CLI against a real Prefect server with the flow served,
and notices delivered to a real SMTP server: a planned ending done right, from the care plan review
to the last recommendation followed through; an emergency ending after an allegation, linked both
ways, with the IRO told late (the IRO and their manager hear at once); steps recorded alongside the
one the flow waits at are applied as they come."""

import json
from pathlib import Path
from typing import Any

import pytest

from safeguard.cli import main
from safeguard.orchestration import state_of
from tests.flows.conftest import until, write_json
from tests.smtp import SmtpServer

pytestmark = pytest.mark.flows

TEAM = [
    ("d-hos", "head_of_service", None),
    ("d-sm", "service_manager", "d-hos"),
    ("d-tm", "team_manager", "d-sm"),
    ("d-sw", "social_worker", "d-tm"),
    ("d-ssw", "supervising_social_worker", "d-tm"),
    ("d-irom", "iro_manager", "d-hos"),
    ("d-iro", "iro", "d-irom"),
    ("d-ladom", "lado_manager", "d-hos"),
    ("d-lado", "lado", "d-ladom"),
]


@pytest.fixture
def smtp(mailbox: SmtpServer) -> SmtpServer:
    return mailbox


@pytest.fixture
def cli(served: str, smtp: SmtpServer, capsys: pytest.CaptureFixture[str], monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        if ok:
            assert code == 0, out.err
        return code, out.out, out.err

    run("db", "upgrade")
    if run("staff", "show", "d-hos", ok=False)[0] != 0:
        for sid, role, manager in TEAM:
            args = ["staff", "add", sid, "--name", sid, "--role", role, "--address", smtp.url(sid)]
            run(*args, *(["--manager", manager] if manager else []))
    return run


def start(cli, *options: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    _, out, _ = cli(
        "disruption", "start", "--as", "d-sw", "--child", "C-31:d-iro:d-sw", "--carer", "FC-31",
        "--service", "Northshire Fostering", "--ssw", "d-ssw", "--team-manager", "d-tm",
        *(() if "--began" in options else ("--began", "2024-09-02")), *options, "--json",
    )  # fmt: skip
    started = json.loads(out)
    assert started["first_step_open"]
    return started  # type: ignore[no-any-return]


def recorder(cli, tmp_path: Path, ref: str):  # type: ignore[no-untyped-def]
    def record(
        step: str, data: dict[str, Any], who: str = "d-sw", at: str | None = None
    ) -> dict[str, Any]:
        _, out, _ = cli(
            "record", ref, step, "--as", who, "--input", write_json(tmp_path, step, data),
            *(["--at", at] if at else []), "--json",
        )  # fmt: skip
        result = json.loads(out)
        assert result["applied"], f"{step} was stored but not applied by the flow"
        return result["case"]  # type: ignore[no-any-return]

    return record


def refuser(cli, tmp_path: Path, ref: str):  # type: ignore[no-untyped-def]
    def refuse(step: str, data: dict[str, Any], who: str, message: str) -> None:
        code, _, err = cli(
            "record", ref, step, "--as", who, "--input", write_json(tmp_path, step, data), ok=False
        )
        assert code == 2 and message in err, err

    return refuse


def open_steps(case: dict[str, Any]) -> list[str]:
    return sorted(s["step"] for s in case["steps"] if s["status"] == "open")


def test_a_planned_ending_done_right(cli, tmp_path: Path, smtp: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    """A Key Stage 4 child's planned move: approved before it, the school heard; a looked-after
    sibling placed apart with a service manager's approval; everything by its day."""
    started = start(
        cli, "--type", "long_term", "--ended-by", "carer_notice", "--reason-for-change", "CREQO",
        "--planned", "--ends", "2026-11-20", "--new-placement", "2026-11-20", "--key-stage-4",
        "--looked-after-sibling", "C-32", "--began", "2024-09-02",
    )  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "before-ending-1")
    record = recorder(cli, tmp_path, ref)

    # A step alongside is applied as it comes, while the flow waits for the ending's own steps.
    case = record("placement_plan", {"agreed_on": "2026-11-19", "childs_wishes": "to keep her school", "carer_signed_on": "2026-11-19"})  # fmt: skip
    assert "placement_plan" not in open_steps(case)
    assert until(lambda: (state_of(run_id).pause_key or "").startswith("before-ending-1-again-"))
    record("education_approval", {"approved_on": "2026-11-18", "nominated_officer": "d-sm", "iro_consulted_on": "2026-11-17", "designated_teacher_consulted_on": "2026-11-16", "pep_considered": True, "rationale": "the same school, a bus ride away"}, who="d-tm")  # fmt: skip
    record("care_plan_review", {"reviewed_on": "2026-11-13", "decision": "move to a new long-term placement", "rationale": "carer's notice; matched carers found"})  # fmt: skip
    record("iro_informed", {"told_on": "2026-11-13", "how": "at the review"})
    case = record("notice_of_intention", {"sent_on": "2026-11-13", "to": ["carers", "parents", "school"]})  # fmt: skip
    assert open_steps(case) == ["meeting_decision", "new_placement_notice", "social_worker_visit", "written_notice"]  # fmt: skip
    record("written_notice", {"sent_on": "2026-11-23", "to": ["parents", "school"]})
    apart = {"sibling": "C-32", "together": False, "assessed_on": "2026-11-06", "approved_by": "d-sm", "reasons": "C-32 needs a specialist placement"}  # fmt: skip
    record("new_placement_notice", {"notified_on": "2026-11-20", "notified": ["iro", "parents"], "siblings": [apart]})  # fmt: skip
    record("social_worker_visit", {"visited_on": "2026-11-24", "seen_alone": True})
    refuse = refuser(cli, tmp_path, ref)
    refuse("meeting_decision", {"hold": False, "reasons": "carer retired"}, "d-tm",
           "a disruption meeting is required for a long-term placement")  # fmt: skip
    case = record("meeting_decision", {"hold": True}, who="d-tm", at="2026-11-23T10:00")
    assert open_steps(case) == ["disruption_meeting"]
    meeting = {
        "held_on": "2026-11-25",
        "attendees": ["iro", "social worker", "carers", "supervising social worker"],
        "sequence_of_events": "...",
        "the_match": "...",
        "support_given": "...",
        "childs_view": "...",
        "recommendations": [{"title": "Life story work", "owner": "d-sw", "due": "2026-12-18"}],
    }
    refuse("disruption_meeting", {**meeting, "chair": "d-sw"}, "d-tm",
           "d-sw is the child's social worker: the chair must be independent")  # fmt: skip
    case = record(
        "disruption_meeting",
        {
            "held_on": "2026-11-25",
            "chair": "d-iro",
            "attendees": ["iro", "social worker", "carers", "supervising social worker"],
            "sequence_of_events": "...",
            "the_match": "...",
            "support_given": "...",
            "childs_view": "...",
            "recommendations": [{"title": "Life story work", "owner": "d-sw", "due": "2026-12-18"}],
        },
        who="d-tm",
    )
    record("meeting_report", {"filed_on": "2026-11-26", "on_child_record": True, "on_carer_record": True, "summary": "...", "next_review_on": "2026-11-27"}, who="d-tm")  # fmt: skip
    [action] = case["actions"]
    first = {"held_on": "2026-11-27", "review": "looked_after_review"}
    refuse("follow_through", {**first, "accounted": []}, "d-sw",
           f"unaccounted for: {action['id']} (Life story work)")  # fmt: skip
    carried = {"action_id": action["id"], "status": "carried_forward", "reason": "after Christmas", "new_due": "2027-01-15"}  # fmt: skip
    case = record("follow_through", {**first, "accounted": [carried], "next_review_on": "2026-11-28"})  # fmt: skip
    assert case["status"] == "open" and open_steps(case) == ["follow_through"]  # still to account
    case = record("follow_through", {"held_on": "2026-11-28", "review": "approval_review", "accounted": [{"action_id": action["id"], "status": "done"}]})  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")
    assert {s["step"]: s["timeliness"] for s in case["steps"] if s["timeliness"] != "in time"} == {}
    child = json.loads(cli("child", "show", "C-31", "--json")[1])
    assert ref in [c["reference"] for c in child["cases"]]
    assert [r["case"] for r in child["reports"]].count(ref) == 1  # the report, on the record
    # All in time: nobody chased. The child's IRO heard of the case and of the meeting's report.
    assert not [m for m in smtp.received if ref in m.subject and not m.subject.startswith("For information")]  # fmt: skip
    told = [(m.to[0].split("@")[0], m.subject) for m in smtp.received if ref in m.subject]
    about = sorted((who, next(k for k in ("started", "new placement", "Minutes and report") if k in subject)) for who, subject in told)  # fmt: skip
    assert about == [("d-iro", "Minutes and report"), ("d-iro", "new placement"), ("d-iro", "started")], told  # fmt: skip
    [apart] = [d for d in case["decisions"] if d["kind"] == "sibling_apart"]
    assert (apart["value"], apart["author"]) == ("C-32 placed apart (assessed 6 November 2026)", "d-sm")  # fmt: skip
    assert case["placement"]["length_in_days"] == 809


def test_an_emergency_ending_after_an_allegation_with_the_iro_told_late(
    cli, tmp_path: Path, smtp: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = cli(
        "allegation", "start", "--lado", "d-lado", "--received", "2026-11-23T09:00",
        "--aware", "2026-11-23", "--carer", "FC-31", "--service", "S", "--ssw", "d-ssw", "--child", "C-31:d-iro:d-sw",
        "--category", "physical", "--summary", "s", "--json",
    )  # fmt: skip
    allegation = json.loads(out)["reference"]
    started = start(
        cli, "--type", "short_term", "--ended-by", "allegation", "--allegation", allegation,
        "--emergency", "--ends", "2026-11-24", "--new-placement", "2026-11-24",
    )  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    shown = cli("case", "show", ref)[1]
    assert f"linked: {allegation} (allegation): the allegation that led to the ending" in shown
    assert f"linked: {ref} (disruption)" in cli("case", "show", allegation)[1]
    assert until(lambda: state_of(run_id).pause_key == "emergency-ending-1")
    record = recorder(cli, tmp_path, ref)
    code, _, err = cli(
        "record", ref, "emergency_ending", "--as", "d-sw", "--input",
        write_json(tmp_path, "e", {"ground": "significant_harm", "rationale": "bruising", "approved_by": "d-tm"}),
        ok=False,
    )  # fmt: skip
    assert code == 2 and "d-tm (team manager) is too junior" in err
    record("emergency_ending", {"ground": "significant_harm", "rationale": "bruising seen at school", "approved_by": "d-sm"})  # fmt: skip
    # Due by the end of Wed 25 Nov (the next working day); told on Thu 26: late, and told at once.
    case = record("iro_informed_emergency", {"told_on": "2026-11-26", "how": "by phone"})
    told = next(s for s in case["steps"] if s["step"] == "iro_informed_emergency")
    assert told["timeliness"] == "late"

    def late_mail() -> list[str]:
        return sorted(m.to[0].split("@")[0] for m in smtp.received if m.subject.startswith(f"Done late: {ref}"))  # fmt: skip

    assert until(lambda: late_mail() == ["d-iro", "d-irom"])
    assert "meeting_decision" in open_steps(case)  # a short-term placement: no meeting required
    case = record("meeting_decision", {"hold": False, "reasons": "emergency move; review at LAC review"}, who="d-tm")  # fmt: skip
    decision = next(d for d in case["decisions"] if d["kind"] == "disruption_meeting")
    assert decision["value"] == "not held" and decision["rationale"]
    assert all("FC-31" not in m.text and "C-31" not in m.text for m in smtp.received)


def test_a_placement_at_risk_kept_with_a_support_plan(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    started = start(cli, "--type", "long_term", "--at-risk", "2026-11-16", "--concern", "carer exhausted")  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "stability-meeting-1")
    record = recorder(cli, tmp_path, ref)
    case = record(
        "stability_meeting",
        {
            "held_on": "2026-11-18",
            "attendees": ["social worker", "supervising social worker", "carers"],
            "decision": "stable",
            "rationale": "respite and extra visits should hold it",
            "support_plan": [{"title": "Respite weekend", "owner": "d-ssw", "due": "2026-11-24"}],
            "review_on": "2026-11-27",
        },
        who="d-tm",
    )
    assert open_steps(case) == ["follow_through"]
    [action] = case["actions"]
    case = record(
        "follow_through",
        {"held_on": "2026-11-27", "review": "approval_review", "accounted": [{"action_id": action["id"], "status": "done"}]},
        who="d-ssw",
    )  # fmt: skip
    assert case["status"] == "closed"
    assert until(lambda: state_of(run_id).type == "COMPLETED")


def test_a_second_unplanned_ending_in_12_months_prompts_a_meeting(cli) -> None:  # type: ignore[no-untyped-def]
    def emergency(ends: str) -> str:
        _, out, _ = cli(
            "disruption", "start", "--as", "d-sw", "--child", "C-41:d-iro:d-sw", "--carer", "FC-41",
            "--service", "S", "--ssw", "d-ssw", "--team-manager", "d-tm", "--type", "short_term",
            "--began", "2024-09-02",
            "--ended-by", "child", "--emergency", "--ends", ends, "--new-placement", ends,
            "--json", "--wait", "0",
        )  # fmt: skip
        return json.loads(out)["reference"]  # type: ignore[no-any-return]

    first = emergency("2026-06-01")
    second = emergency("2026-11-02")
    shown = json.loads(cli("case", "show", second, "--json")[1])
    assert shown["meeting"] == {
        "required": False,
        "prompted_by": {"child": [first], "carer": [first]},
    }
    assert (
        f"disruption meeting prompted (unplanned endings in 12 months: {first})"
        in (shown["headline"])
    )
    assert f"earlier cases of this child or carer: {first}" in cli("case", "show", second)[1]


def test_a_planned_moves_plan_done_late_with_its_reason(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    started = start(
        cli, "--type", "short_term", "--ended-by", "authority", "--reason-for-change", "CARPL",
        "--planned", "--ends", "2026-11-27", "--new-placement", "2026-11-30",
    )  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "before-ending-1")
    plan = write_json(tmp_path, "plan", {"agreed_on": "2026-12-03", "childs_wishes": "to see her brother weekly", "carer_signed_on": "2026-12-03"})  # fmt: skip
    code, _, err = cli("record", ref, "placement_plan", "--as", "d-sw", "--input", plan, ok=False)
    assert code == 2 and "--late-reason: say why it was not reasonably practicable sooner" in err, err  # fmt: skip
    _, out, _ = cli("record", ref, "placement_plan", "--as", "d-sw", "--input", plan, "--late-reason", "the new carers returned from leave on Wednesday", "--json")  # fmt: skip
    case = json.loads(out)["case"]
    assert {s["step"]: s["timeliness"] for s in case["steps"]}["placement_plan"] == "late"
    [late] = [d for d in case["decisions"] if d["kind"] == "late"]
    assert [r["text"] for r in late["rationale"]] == ["the new carers returned from leave on Wednesday"]  # fmt: skip


def test_an_emergency_on_no_reg_14_3_ground(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A carer's notice overnight: recorded as another emergency; the new placement's paperwork in
    5 working days, the Key Stage 4 child's education arranged, the IRO decides on the review."""
    started = start(
        cli, "--type", "short_term", "--ended-by", "carer_notice", "--reason-for-change", "CREQB",
        "--emergency", "--ends", "2026-12-03", "--new-placement", "2026-12-03", "--key-stage-4",
    )  # fmt: skip
    ref, run_id = started["reference"], started["flow_run_id"]
    assert until(lambda: state_of(run_id).pause_key == "emergency-ending-1")
    record = recorder(cli, tmp_path, ref)
    record("emergency_ending", {"ground": "other_emergency", "rationale": "the carer would not keep her overnight", "approved_by": "d-sm"})  # fmt: skip
    case = record("iro_informed_emergency", {"told_on": "2026-12-04", "how": "by phone"})
    due = {s["step"]: s["due"] for s in case["steps"] if s["status"] == "open"}
    assert {
        k: due[k]
        for k in (
            "new_placement_notice_emergency",
            "placement_plan_emergency",
            "education_arrangements",
            "review_brought_forward",
        )
    } == {
        "new_placement_notice_emergency": "2026-12-10",
        "placement_plan_emergency": "2026-12-10",
        "education_arrangements": "2026-12-10",
        "review_brought_forward": "2026-12-10",
    }
    case = record("education_arrangements", {"arranged_on": "2026-12-04", "arrangements": "taxi to her school", "nominated_officer_told_on": "2026-12-04"})  # fmt: skip
    case = record("review_brought_forward", {"decided_on": "2026-12-07", "bring_forward": False, "reasons": "reviewed last month; the plan stands"}, who="d-iro")  # fmt: skip
    kinds = {d["kind"]: d["value"] for d in case["decisions"]}
    assert kinds["emergency_ending"] == "other_emergency (not a reg 14(3) ground)"
    assert kinds["review_brought_forward"] == "not brought forward"

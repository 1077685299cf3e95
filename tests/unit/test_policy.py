"""Clock policy: the England defaults load, overrides apply, and each kind of bad entry fails at
load with one line naming the file, the entry and what is wrong."""

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.durations import CalendarDays, CalendarMonths, WorkingDays
from models.enums import Role
from models.policy import Confidence, PolicyError, StepPolicy, load_policy


def write(tmp_path: Path, text: str, name: str = "local.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_england_defaults_cover_every_process_with_sources() -> None:
    policy = load_policy()
    assert set(policy.processes) == {"allegation", "disruption", "complaint", "iro_dispute"}
    for process in policy.processes.values():
        for name, step in process.steps.items():
            assert step.source.strip(), name
            assert step.ref, name
            assert step.measured_only or step.window or step.unscheduled or step.escalation, name


def test_confidence_is_no_higher_than_the_sources_bear() -> None:
    """A second review against the sources (issue 19, item 9): one Ombudsman decision, one local
    procedure or a range of local ones is not 'medium'."""
    policy = load_policy()
    confidence = {
        (process, step): policy.process(process).step(step).confidence.value
        for process, step in [
            ("complaint", "stage2_outer_limit"),
            ("allegation", "strategy_discussion"),
            ("allegation", "review_meeting"),
            ("iro_dispute", "informal_resolution"),
        ]
    }
    assert confidence == {
        ("complaint", "stage2_outer_limit"): "low",
        ("allegation", "strategy_discussion"): "design",
        ("allegation", "review_meeting"): "low",
        ("iro_dispute", "informal_resolution"): "low",
    }


def test_a_window_is_never_a_staff_deadline() -> None:
    """The complainant's windows are measured: no escalation, and a window with one is refused."""
    policy = load_policy()
    complaint = policy.process("complaint")
    for name in ("stage2_request_window", "stage3_request"):
        assert complaint.step(name).window and not complaint.step(name).escalation, name
    with pytest.raises(ValidationError, match="a window is the person's own time to act"):
        StepPolicy.model_validate(
            {
                **complaint.step("stage3_request").model_dump(exclude_defaults=True),
                "escalation": [{"after": "0 working days", "notify": ["owner"]}],
            }
        )


def test_england_defaults_hold_the_statutory_numbers() -> None:
    policy = load_policy()
    allegation = policy.process("allegation")
    assert allegation.step("initial_consideration").due == WorkingDays(1)
    assert allegation.step("allegation_meeting").due == WorkingDays(5)
    assert allegation.step("review_meeting").due == CalendarDays(28)
    assert allegation.step("review_meeting").agreed_by == "review_agreed"
    assert allegation.step("review_meeting").repeats
    assert allegation.step("outcome").targets == (
        CalendarMonths(1),
        CalendarMonths(3),
        CalendarMonths(12),
    )
    assert allegation.step("outcome_notification").due == WorkingDays(5)
    assert allegation.step("approval_review").due == WorkingDays(28)
    complaint = policy.process("complaint")
    assert complaint.step("stage1_response").due == WorkingDays(10)
    assert complaint.step("stage1_response").extendable_to == WorkingDays(20)
    assert complaint.step("stage2_response").due == WorkingDays(25)
    assert complaint.step("stage2_response").extendable_to == WorkingDays(65)
    assert complaint.step("stage3_panel").due == WorkingDays(30)
    assert complaint.step("stage3_panel").confidence is Confidence.high
    assert complaint.step("panel_report").due == WorkingDays(5)
    assert complaint.step("stage3_response").due == WorkingDays(15)
    disruption = policy.process("disruption")
    assert disruption.step("written_notice").due == WorkingDays(10)
    # A planned move's paperwork by the day the new placement starts (regs 9(2), 13(1)), late only
    # with the reason; an emergency's within 5 working days of its start.
    for name in ("new_placement_notice", "placement_plan"):
        assert (disruption.step(name).due, disruption.step(name).late_needs_reason) == (WorkingDays(0), True)  # fmt: skip
        assert disruption.step(f"{name}_emergency").due == WorkingDays(5)
    assert disruption.step("notice_of_intention").counts_from == "placement_ended"
    assert disruption.step("education_approval").counts_from == "placement_ended"
    assert policy.process("iro_dispute").step("formal_total").due == WorkingDays(20)
    assert policy.rationale.due == WorkingDays(1)


def test_an_override_changes_values_and_adds_closure_days(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        """
        [[calendar.closures]]
        date = 2026-12-24
        name = "Christmas Eve closure"

        [processes.allegation.steps.allegation_meeting]
        due = "2 working days"
        source = "Local procedure 4.2: strategy meeting within 2 working days"
        """,
    )
    policy = load_policy(override)
    meeting = policy.process("allegation").step("allegation_meeting")
    assert meeting.due == WorkingDays(2)
    assert meeting.source.startswith("Local procedure")
    assert meeting.owner is Role.lado  # untouched values keep their defaults
    assert policy.files == ("policy/england.toml", str(override))
    calendar = policy.working_calendar()
    assert calendar.closed_because(date(2026, 12, 24)) == "local closure: Christmas Eve closure"


def test_the_policy_is_frozen() -> None:
    step = load_policy().process("allegation").step("outcome")
    with pytest.raises(Exception, match="frozen"):
        step.due = WorkingDays(3)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[processes.allegation.steps.allegation_meeting]\ndue = "5 wd"',
            "local.toml: processes.allegation.steps.allegation_meeting.due: '5 wd' is not a duration",
        ),
        (
            '[processes.allegation.steps.outcome]\ncounts_from = "referal"',
            "local.toml: processes.allegation.steps.outcome.counts_from: 'referal' is not an event of this process",
        ),
        (
            '[processes.allegation.steps.initial_considerations]\ndue = "1 working day"',
            "local.toml: processes.allegation.steps.initial_considerations: there is no step",
        ),
        (
            '[processes.adoption]\ntitle = "Adoption"',
            "local.toml: processes.adoption: there is no process 'adoption'",
        ),
        (
            '[processes.allegation.steps.outcome]\ndew = "2 working days"',
            "local.toml: processes.allegation.steps.outcome.dew: is not a setting here",
        ),
        (
            '[processes.complaint.steps.stage2_response]\nowner = "boss"',
            "local.toml: processes.complaint.steps.stage2_response.owner: 'boss'",
        ),
        (
            '[processes.complaint.steps.stage2_response]\nextendable_to = "20 working days"',
            "extendable_to (20 working days) must be longer than due",
        ),
        (
            '[processes.complaint.steps.stage2_response]\nextendable_to = "3 calendar months"',
            "extendable_to must be in the same unit as due",
        ),
        (
            "[[processes.allegation.steps.outcome.escalation]]\n"
            'after = "0 working days"\nnotify = ["lado_manger"]',
            "local.toml: processes.allegation.steps.outcome.escalation.0.notify.0: 'lado_manger' is not someone who can be told",
        ),
        (
            "[processes.allegation.steps.initial_consideration]\nescalation = ["
            '{after = "2 working days", notify = ["lado_manager"]}, '
            '{after = "1 working day", notify = ["director"]}]',
            "escalation rungs must climb",
        ),
        (
            "[[processes.allegation.steps.outcome.escalation]]\n"
            'after = "2 calendar days"\nnotify = ["director"]',
            "must be counted in working days",
        ),
        (
            '[processes.allegation.steps.outcome]\nreminders = ["0 working days"]',
            "a reminder comes before the due day",
        ),
        (
            "[processes.allegation.steps.outcome]\nescalation = []",
            "a timed step needs an escalation ladder",
        ),
        (
            '[processes.allegation.steps.initial_consideration]\nstop_approver = "lado_manager"',
            "stop_* settings need 'stoppable = true'",
        ),
        (
            '[processes.allegation.steps.outcome]\nsource = ""',
            "processes.allegation.steps.outcome.source",
        ),
        (
            '[processes.allegation.steps.outcome]\nconfidence = "certain"',
            "processes.allegation.steps.outcome.confidence: 'certain'",
        ),
        (
            '[[calendar.closures]]\ndate = 2026-12-24\nname = "Eve"\n'
            '[[calendar.closures]]\ndate = 2026-12-24\nname = "Eve again"',
            "closure day listed twice: 2026-12-24",
        ),
        (
            '[[calendar.closures]]\ndate = "24/12/2026"\nname = "Eve"',
            "local.toml: calendar.closures.0.date",
        ),
        (
            "[processes.allegation.steps.outcome\ndue = 1",
            "local.toml: not valid TOML",
        ),
        (
            '[rationale]\ndue = "1 calendar day"',
            "local.toml: rationale.due: '1 calendar day' must be counted in working days",
        ),
    ],
)
def test_a_bad_override_names_the_file_the_entry_and_the_fault(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert message in str(caught.value).replace(str(tmp_path) + "/", "")
    assert "\n" not in str(caught.value)


def test_a_missing_override_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "missing.toml")

"""Local closure days never stretch a clock the law sets (RPR 2006 reg 2, CPPCR): only design
figures, and figures an authority sets itself, count them. `calendar due --clock` and `policy
show` say which calendar a clock uses; `policy show` prints a confidence beside every number."""

import json
from datetime import date
from pathlib import Path

import pytest

from models.durations import WorkingDays
from models.policy import Confidence, load_policy
from safeguard.cli import main

CLOSED = """
[[calendar.closures]]
date = 2026-12-29
name = "Christmas closure"
"""


@pytest.fixture
def local(tmp_path: Path) -> Path:
    path = tmp_path / "local.toml"
    path.write_text(CLOSED, encoding="utf-8")
    return path


def test_a_legal_clock_ignores_local_closures_a_design_one_counts_them(local: Path) -> None:
    policy = load_policy(local)
    calendar = policy.working_calendar()
    complaint = policy.process("complaint")
    legal, design = complaint.step("stage2_response"), complaint.step("acknowledgement")
    assert (legal.confidence, design.confidence) == (Confidence.medium, Confidence.design)
    assert (legal.local_days, design.local_days) == (False, True)
    # Thu 24 Dec + 2 working days (Christmas, the weekend and Boxing Day substitute Mon 28 Dec
    # skipped): Wed 30 Dec by law; Thu 31 Dec where Tue 29 Dec is closed.
    assert legal.clock_calendar(calendar).due(date(2026, 12, 24), WorkingDays(2)).due == date(2026, 12, 30)  # fmt: skip
    assert design.clock_calendar(calendar).due(date(2026, 12, 24), WorkingDays(2)).due == date(2026, 12, 31)  # fmt: skip


def test_a_figure_the_authority_sets_is_local_unless_it_says_otherwise(
    local: Path, tmp_path: Path
) -> None:
    over = tmp_path / "over.toml"
    over.write_text(
        CLOSED
        + """
[processes.allegation.steps.allegation_meeting]
due = "3 working days"
source = "Local safeguarding procedure 4.2"

[processes.complaint.steps.stage2_response]
source = "RPR 2006 reg 17, as our procedure quotes it"
calendar = "legal"
""",
        encoding="utf-8",
    )
    policy = load_policy(over)
    assert policy.process("allegation").step("allegation_meeting").local_days
    assert not policy.process("complaint").step("stage2_response").local_days
    assert not policy.process("allegation").step("outcome").local_days  # untouched: legal


def test_the_review_labels_match_their_sources() -> None:
    policy = load_policy()
    label = {
        (p, s): policy.process(p).step(s).confidence
        for p, s in [
            ("allegation", "initial_consideration"),
            ("allegation", "approval_review"),
            ("disruption", "disruption_meeting"),
            ("disruption", "iro_informed"),
            ("disruption", "placement_plan"),
        ]
    }
    assert label == {
        ("allegation", "initial_consideration"): Confidence.design,
        ("allegation", "approval_review"): Confidence.low,
        ("disruption", "disruption_meeting"): Confidence.low,
        ("disruption", "iro_informed"): Confidence.design,
        ("disruption", "placement_plan"): Confidence.high,
    }
    assert "CPPCR 2010 reg 9(2)" in policy.process("disruption").step("placement_plan").source


def test_the_cli_says_which_calendar(
    local: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAFEGUARD_POLICY_FILE", str(local))
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["calendar", "due", "2026-12-24", "2", "--clock", "complaint.stage2_response"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Wednesday 30 December 2026" in out and "the legal working day" in out
    assert main(["calendar", "due", "2026-12-24", "2", "--clock", "complaint.acknowledgement", "--json"]) == 0  # fmt: skip
    seen = json.loads(capsys.readouterr().out)
    assert (seen["due"], seen["calendar"]) == ("2026-12-31", "local closures counted")
    assert main(["calendar", "due", "2026-12-24", "2", "--clock", "complaint"]) == 2
    assert "write PROCESS.STEP" in capsys.readouterr().err
    assert main(["policy", "show", "complaint", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["processes"]["complaint"]["steps"]
    assert (steps["stage2_response"]["calendar"], steps["acknowledgement"]["calendar"]) == ("legal", "local")  # fmt: skip
    assert main(["policy", "show", "allegation"]) == 0
    out = capsys.readouterr().out
    assert "(legal working days)" in out and "(local closures count)" in out
    assert "(design)" in out  # the rationale, notice and action ladders carry theirs too

"""The complaints annual report (issue 23, item 3, as far as the records go), on SQLite and
PostgreSQL: `safeguard report complaints` over a year from 1 April, every figure checked against a
hand count of three complaints: a foster carer's, through stage 1 here, two points found partly
upheld and upheld in time, a remedy agreed, stage 3 asked for; a parent's, withdrawn; a child's,
not considered at stage 2. Counts only: no name, reference or narrative."""

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.integration.test_cli import Run
from tests.integration.test_cli import run as run
from tests.integration.test_complaint import RESPONSE, SECRET, STATEMENT, start, submit, take
from tests.integration.test_complaint import team as team
from tests.integration.test_complaint_law import open_alongside

__all__ = ["run", "team"]  # the fixtures, used by name
YEAR = ("--from", "2026-04-01", "--to", "2027-03-31")


@pytest.fixture
def complaints(team: Engine) -> Engine:
    carer = start(team)  # START: a foster carer, advocacy declined, stage 1 here first
    take(team, carer, ["eligibility"])
    submit(team, carer, "eligibility", {"accepted": True})
    take(team, carer, ["eligibility"])
    take(team, carer, ["stage2_appointments"])
    submit(team, carer, "stage2_appointments", STATEMENT)
    take(team, carer, ["stage2_appointments"])
    take(team, carer, ["stage2_response"])
    submit(team, carer, "stage2_response", RESPONSE)  # points 1 partly upheld, 2 upheld; a remedy
    take(team, carer, ["stage2_response"])
    take(team, carer, ["stage3_request"])
    submit(team, carer, "stage3_request", {"requested": True, "requested_on": "2026-11-10"})
    take(team, carer, ["stage3_request"])

    parent: dict[str, Any] = {"complainant": {"reference": "P-1", "standing": "parent"}, "stage1": None, "advocacy_offered": False, "advocacy": "not_applicable", "stage2_requested_on": "2026-09-30"}  # fmt: skip
    withdrawn = start(team, parent)
    open_alongside(team, withdrawn, ["withdrawn_or_resolved"])
    take(team, withdrawn, ["eligibility"])
    submit(team, withdrawn, "eligibility", {"accepted": True})
    take(team, withdrawn, ["eligibility"])
    submit(team, withdrawn, "withdrawn_or_resolved", {"how": "withdrawn", "on": "2026-11-20", "words": "no longer needed"})  # fmt: skip
    take(team, withdrawn, ["stage2_appointments"])

    child = start(team, {"complainant": {"reference": "Y-1", "standing": "child"}, "stage1": None, "received_on": "2026-09-01"})  # fmt: skip
    take(team, child, ["eligibility"])
    submit(team, child, "eligibility", {"accepted": False, "ombudsman_stated": True, "out_of_scope": "court_proceedings", "reasons": "the matter is before the court"})  # fmt: skip
    take(team, child, ["eligibility"])
    return team


def test_every_figure_against_a_hand_count(complaints: Engine, run: Run, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    said = run("report", "complaints", *YEAR, "--json")
    assert said.code == 0, said
    found = json.loads(said.out)
    assert found["title"] == "The complaints annual report"
    figures = {(f["section"], f["figure"]): f["value"] for f in found["figures"]}
    expected = {
        ("Complaints received (stage 2 asked for)", "Complaints received"): 3,
        ("Complaints received (stage 2 asked for)", "Dealt with at stage 1 here first"): 1,
        ("Who made them (Children Act 1989 s26(3))", "A foster carer"): 1,
        ("Who made them (Children Act 1989 s26(3))", "A parent"): 1,
        ("Who made them (Children Act 1989 s26(3))", "The child or young person"): 1,
        ("Who made them (Children Act 1989 s26(3))", "Someone with parental responsibility"): 0,
        ("Advocacy (s26A)", "Advocacy offered"): 2,
        ("Advocacy (s26A)", "Advocacy declined"): 2,
        ("Advocacy (s26A)", "Advocacy accepted"): 0,
        ("Stage 2", "Considered at stage 2"): 2,
        ("Stage 2", "Not considered at stage 2 (the Ombudsman route stated)"): 1,
        ("Stage 2", "Stage 2 responses sent"): 1,
        ("Stage 2", "Stage 2 responses in time (25 working days, or as extended)"): 1,
        ("Stage 2", "Stage 2 responses late"): 0,
        ("Stage 2", "Withdrawn by the complainant"): 1,
        ("Stage 2", "Resolved with terms agreed"): 0,
        ("Stage 2", "Stage 3 asked for"): 1,
        ("Findings on the points of complaint", "Points decided"): 2,
        ("Findings on the points of complaint", "Upheld"): 1,
        ("Findings on the points of complaint", "Partly upheld"): 1,
        ("Findings on the points of complaint", "Not upheld"): 0,
        ("Remedies agreed", "Remedies agreed"): 1,
        ("Remedies agreed", "Still open"): 1,
        ("Remedies agreed", "Done"): 0,
    }
    assert {k: figures[k] for k in expected} == expected
    assert SECRET not in said.out and "CMP-" not in said.out  # counts only
    before = json.loads(run("report", "complaints", "--from", "2025-04-01", "--to", "2026-03-31", "--json").out)  # fmt: skip
    assert {f["figure"]: f["value"] for f in before["figures"]}["Complaints received"] == 0

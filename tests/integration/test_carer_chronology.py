"""A foster carer's chronology (issue 23, item 6), on SQLite and PostgreSQL: every case about the
carer, oldest first, with what was decided and what was recommended and whether it was followed;
an allegation found malicious (the carer not consenting to its being kept) is left out, as the law
says; a restricted case is left out for a reader who may not open it (and without a reader);
each case shown is kept in its access log with the chronology as the reason. From the CLI and in
the browser (managers, the LADO, supervising social workers, the agency decision maker)."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import accounts, restriction
from models.cases import get_case
from models.db import session_scope
from models.tables import CaseView
from tests.cases import CALENDAR, CARER_NAME, POLICY, at, open_step, record, start_case
from tests.integration.test_allegation_procedure import found_ready, team, to_the_meeting
from tests.integration.test_cli import Run
from tests.integration.test_cli import run as run
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps

__all__ = ["run", "team"]  # the fixtures, used by name
CARER = f"FC-77 {CARER_NAME}"
OUTCOME = {"rationale": "r", "dbs_referral": False, "dbs_reason": "x"}


@pytest.fixture
def history(team: Engine) -> list[str]:
    """Three allegations about the carer: one found malicious (off the record), one with the
    meeting's recommendation done, one still open and restricted."""
    malicious = start_case(team)
    open_step(team, malicious, "outcome")
    found_ready(team, malicious)
    record(team, malicious, "outcome", {**OUTCOME, "category": "malicious"}, at("2026-11-05T10:00"))  # fmt: skip
    followed = start_case(team)
    open_step(team, followed, "outcome")
    to_the_meeting(team, followed)
    meeting = {"held_on": "2026-11-04", "attendees": ["lado"], "carer_told_on": "2026-11-04", "ready_for_outcome": True, "actions": [{"title": "Carer's training on safe care", "owner": "ssw-1", "due": "2026-11-20"}, {"title": "Review the household's sleeping arrangements", "owner": "ssw-1", "due": "2026-11-06"}]}  # fmt: skip
    record(team, followed, "allegation_meeting", meeting, at("2026-11-04T15:00"))
    restricted = start_case(team)
    with session_scope(team) as session:
        restriction.restrict(session, case=get_case(session, restricted), by="ladom-1", ground="related", reason="The carer's son works here.", now=at("2026-11-05T09:00"))  # fmt: skip
    return [malicious, followed, restricted]


def test_the_chronology_from_the_terminal(history: list[str], team: Engine, run: Run, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)

    def run_cli(*args: str) -> str:
        done = run(*args)
        assert done.code == 0, done
        return done.out

    _, followed, restricted = history
    found = json.loads(run_cli("carer", "chronology", CARER, "--as", "adm-1", "--json"))
    shown = [c["reference"] for c in found["cases"]]
    assert shown == [followed]  # malicious: off the record; restricted: adm-1 has no part in it
    case = found["cases"][0]
    assert ("Threshold and route", "Threshold met (harm); next: an allegation management meeting") in [(d["what"], d["decided"]) for d in case["decisions"]]  # fmt: skip
    assert [(r["title"], r["status"]) for r in case["asked_for"]] == [
        ("Carer's training on safe care", "overdue"),  # by today's date: both past their due day
        ("Review the household's sleeping arrangements", "overdue"),
    ]
    assert case["followed"] == {"overdue": 2}
    for insider in ("lado-1", "ssw-1"):  # its lead; the carer's supervising social worker
        seen = json.loads(run_cli("carer", "chronology", CARER, "--as", insider, "--json"))
        assert [c["reference"] for c in seen["cases"]] == [followed, restricted]
    nobody = json.loads(run_cli("carer", "chronology", CARER, "--json"))
    assert [c["reference"] for c in nobody["cases"]] == [followed]
    with Session(team) as session:
        views = session.exec(select(CaseView).where(col(CaseView.staff_id) == "adm-1")).all()
    assert [(v.reason, v.via) for v in views] == [("the carer's chronology", "cli")]
    said = run_cli("carer", "chronology", CARER, "--as", "adm-1")
    assert "Carer's training on safe care" in said and "overdue" in said


def test_the_chronology_in_the_browser(history: list[str], team: Engine) -> None:
    _, followed, _ = history
    with session_scope(team) as session:
        for who in ("ssw-1", "iro-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    deps = WebDeps(engine=team, policy=POLICY, calendar=CALENDAR, clock=Clock(at("2026-11-10T10:00")), secret=b"h" * 32)  # fmt: skip
    site = TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)
    sign_in(site, "iro-1")
    assert site.get(f"/carers/{CARER}/chronology").status_code == 403  # not for an IRO
    sign_in(site, "ssw-1")
    page = site.get(f"/carers/{CARER}/chronology")
    assert page.status_code == 200
    assert (
        f'href="/cases/{followed}"' in page.text
        and "Carer&#39;s training on safe care" in page.text
    )
    assert "1 done" not in page.text and "0 done, 0 not needed, 0 carried on in another case, 1 open, 1 overdue" in page.text  # fmt: skip
    case = site.get(f"/cases/{followed}")
    assert 'id="chronology"' in case.text

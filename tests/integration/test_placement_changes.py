"""Placement changes for the children looked after return (issue 23, item 5), on SQLite and
PostgreSQL: a disruption's ending records the return's reason for the change (REASON_PLACE_CHANGE:
the twelve codes the DfE's validator accepts; an allegation or the child's own request go without
saying, any other ending must say which); `safeguard report placement-changes` counts the period's
changes by reason and the children they were (three or more changes counted apart), and gives the
rows under the return's column names; the managers' page shows the same, with both downloads.
Every figure is checked against a hand count."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from models import accounts
from models.db import session_scope
from models.errors import InputError
from tests.cases import CALENDAR, POLICY, at
from tests.integration.test_cli import Run
from tests.integration.test_cli import run as run
from tests.integration.test_disruption import START, start
from tests.integration.test_disruption import team as team
from tests.web.test_web_security import PASSWORD, sign_in
from web.app import create_app
from web.deps import WebDeps


def ending(ends_on: str, **more: Any) -> dict[str, Any]:
    return {"ending": {**START["ending"], "ends_on": ends_on, "new_placement_on": ends_on, **more}}


@pytest.fixture
def changes(team: Engine) -> Engine:
    """In 2026-27 (1 April to 31 March): C-7 moved three times (CREQB, STAND, CHILD), C-8 once
    (CARPL); one more of C-8's ended before the year (not counted)."""
    start(team, ending("2026-05-04", reason_for_change="CREQB"))
    start(team, ending("2026-08-10", reason_for_change="STAND"))
    start(
        team, ending("2026-11-20", ended_by="child", reason_for_change=None)
    )  # CHILD: said by who
    c8 = {"child": {**START["child"], "child": "C-8"}}
    start(team, {**c8, **ending("2026-06-01", ended_by="authority", reason_for_change="CARPL")})
    start(team, {**c8, **ending("2026-03-20", reason_for_change="CREQO")})  # the year before
    return team


def test_an_ending_must_say_why_the_placement_changed(team: Engine) -> None:
    with pytest.raises(InputError) as refused:
        start(team, ending("2026-11-20", reason_for_change=None))  # the carer's notice: which?
    assert "ending.reason_for_change" in str(refused.value)
    with pytest.raises(InputError) as refused:
        start(team, ending("2026-11-20", reason_for_change="BORED"))
    assert "ending.reason_for_change" in str(refused.value)


def test_the_placement_changes_report(changes: Engine, run: Run, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    year = ("--from", "2026-04-01", "--to", "2027-03-31")
    found = json.loads(run("report", "placement-changes", *year, "--json").out)
    figures = {f["figure"]: f["value"] for f in found["figures"]}
    assert figures["Placements that ended"] == 4
    assert figures["CREQB: The carer asked for it to end because of the child's behaviour"] == 1
    assert figures["STAND: A concern about the standards of care"] == 1
    assert figures["CHILD: The child asked for it to end"] == 1
    assert figures["CARPL: A change to, or carrying out, the care plan"] == 1
    assert (
        figures["CREQO: The carer asked for it to end for another reason"] == 0
    )  # the year before
    assert figures["Children whose placement changed"] == 2
    assert figures["Children with three or more placement changes"] == 1
    rows = list(csv.reader(io.StringIO(run("report", "placement-changes", *year, "--rows", "--csv").out)))  # fmt: skip
    assert rows[0] == ["CHILD", "DEC", "REASON_PLACE_CHANGE", "DECOM", "CASE"]
    assert [r[:4] for r in rows[1:]] == [
        ["C-7", "04/05/2026", "CREQB", "04/05/2026"],
        ["C-8", "01/06/2026", "CARPL", "01/06/2026"],
        ["C-7", "10/08/2026", "STAND", "10/08/2026"],
        ["C-7", "20/11/2026", "CHILD", "20/11/2026"],
    ]
    assert all(r[4].startswith("DIS-") for r in rows[1:])
    said = run("report", "placement-changes", *year, "--rows").out
    assert "Placement changes: 4" in said and "REASON_PLACE_CHANGE" in said


def test_the_managers_page_and_its_downloads(changes: Engine) -> None:
    with session_scope(changes) as session:
        accounts.set_password(session, staff_id="sm-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    deps = WebDeps(engine=changes, policy=POLICY, calendar=CALENDAR, clock=lambda: at("2027-01-04T10:00"), secret=b"p" * 32)  # fmt: skip
    site = TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)
    sign_in(site, "sm-1")
    page = site.get("/reports/placement-changes", params={"from": "2026-04-01", "to": "2027-03-31"})
    assert page.status_code == 200
    assert "Placement changes, under the return&#39;s column names" in page.text
    assert "REASON_PLACE_CHANGE" in page.text and "20/11/2026" in page.text
    rows = site.get("/reports/placement-changes.csv", params={"from": "2026-04-01", "to": "2027-03-31", "rows": "yes"})  # fmt: skip
    assert rows.text.splitlines()[0] == "CHILD,DEC,REASON_PLACE_CHANGE,DECOM,CASE"
    assert len(rows.text.splitlines()) == 5


def test_the_report_as_a_spreadsheet(changes: Engine, run: Run, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`--xlsx FILE` (openpyxl): the figures on one sheet, the rows under the return's column
    names on another; an existing file is never overwritten; the managers' page's download is the
    same workbook."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    year = ("--from", "2026-04-01", "--to", "2027-03-31")
    path = tmp_path / "changes.xlsx"
    done = run("report", "placement-changes", *year, "--xlsx", str(path))
    assert done.code == 0 and f"written to {path}" in done.out
    book = load_workbook(path)
    assert book.sheetnames == ["Figures", "Placement changes"]
    figures = {row[1]: row[2] for row in book["Figures"].iter_rows(min_row=2, values_only=True)}
    assert figures["Placements that ended"] == 4 and figures["Children whose placement changed"] == 2  # fmt: skip
    rows = list(book["Placement changes"].iter_rows(values_only=True))
    assert rows[0] == ("CHILD", "DEC", "REASON_PLACE_CHANGE", "DECOM", "CASE") and len(rows) == 5
    again = run("report", "placement-changes", *year, "--xlsx", str(path))
    assert again.code == 2 and "the file exists; give a new name (nothing was overwritten)" in again.err  # fmt: skip
    wrong = run("report", "placement-changes", *year, "--xlsx", str(tmp_path / "changes.csv"))
    assert wrong.code == 2 and "give a file name ending .xlsx" in wrong.err
    timeliness = tmp_path / "timeliness.xlsx"
    assert run("report", "timeliness", "--process", "disruption", *year, "--xlsx", str(timeliness)).code == 0  # fmt: skip
    header = next(load_workbook(timeliness).active.iter_rows(values_only=True))
    assert header[:4] == ("kind", "name", "done", "in time")
    with session_scope(changes) as session:
        accounts.set_password(session, staff_id="sm-1", password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    deps = WebDeps(engine=changes, policy=POLICY, calendar=CALENDAR, clock=lambda: at("2027-01-04T10:00"), secret=b"p" * 32)  # fmt: skip
    site = TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)
    sign_in(site, "sm-1")
    got = site.get("/reports/placement-changes.xlsx", params={"from": "2026-04-01", "to": "2027-03-31"})  # fmt: skip
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")  # fmt: skip
    assert load_workbook(io.BytesIO(got.content)).sheetnames == ["Figures", "Placement changes"]

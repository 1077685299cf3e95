"""The CLI as a user meets it: answers, JSON for scripts, and for bad input one line on stderr,
exit status 2 and no change to the database."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from safeguard.cli import main

SECRET = "s3cret-pass"
ADDRESS = f"mailto://notices:{SECRET}@mail.example.org?to=lado@example.org"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COLUMNS", "200")

    def _run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


def refused(result: Result, *fragments: str) -> None:
    """Exit status 2 and one clear line on stderr containing every fragment."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- calendar -----------------------------------------------------------------------------------


def test_calendar_due_gives_the_issue_example(run: Run) -> None:
    result = run("calendar", "due", "2026-12-24", "1")
    assert result.code == 0
    assert result.out.startswith(
        "Tuesday 29 December 2026: 1 working day after Thursday 24 December 2026."
    )


def test_calendar_explain_lists_every_day_and_why(run: Run) -> None:
    out = run("calendar", "due", "2026-12-24", "1", "--explain").out
    for expected in (
        "Christmas Day",
        "Saturday; Boxing Day",
        "Sunday",
        "Boxing Day (substitute day)",
        "day 1",
    ):
        assert expected in out


def test_calendar_json_is_for_scripts(run: Run) -> None:
    data = run("calendar", "due", "2026-04-02T17:45", "1", "--json").json()
    assert data["due"] == "2026-04-07"
    assert [d["skipped"] for d in data["days"]] == [
        "Good Friday",
        "Saturday",
        "Sunday",
        "Easter Monday",
        None,
    ]


def test_calendar_counts_an_authoritys_closure_days(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "local.toml"
    override.write_text('[[calendar.closures]]\ndate = 2026-12-23\nname = "Staff training day"\n')
    monkeypatch.setenv("SAFEGUARD_POLICY_FILE", str(override))
    result = run("calendar", "due", "2026-12-22", "1", "--explain")
    assert "Thursday 24 December 2026" in result.out
    assert "local closure: Staff training day" in result.out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("2026-02-30", "1"), ("'2026-02-30' is not a real FROM", "day is out of range")),
        (("2026-12-24", "-3"), ("N cannot be negative (-3)",)),
        (("2026-12-24", "three"), ("N 'three' is not a whole number",)),
        (("1066-10-14", "1"), ("outside the calendar",)),
        (("2026-12-24",), ("Missing argument 'N'", "safeguard calendar due --help")),
        (("2026-12-24", "1", "--unit", "weeks"), ("'weeks' is not one of",)),
    ],
)
def test_calendar_refuses_bad_input(
    run: Run, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    refused(run("calendar", "due", *args), *fragments)


# --- policy ---------------------------------------------------------------------------------------


def test_policy_show_prints_every_step_with_its_source(run: Run) -> None:
    out = run("policy", "show").out
    for expected in (
        "initial_consideration",
        "stage2_response",
        "65 working days",
        "[S27]",
        "RPR 2006 reg 19",
    ):
        assert expected in out


def test_policy_show_one_process_as_json(run: Run) -> None:
    data = run("policy", "show", "complaint", "--json").json()
    assert list(data["processes"]) == ["complaint"]
    assert (
        data["processes"]["complaint"]["steps"]["stage2_response"]["extendable_to"]
        == "65 working days"
    )


def test_policy_check(run: Run, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[processes.allegation.steps.allegation_meeting]\ndue = "2 working days"\n')
    assert run("policy", "check", str(good)).code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[processes.allegation.steps.allegation_meeting]\ndue = "2 days"\n')
    refused(
        run("policy", "check", str(bad)),
        "bad.toml: processes.allegation.steps.allegation_meeting.due",
    )


def test_a_broken_policy_file_in_force_is_refused_everywhere(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[processes.allegation.steps.outcome]\nowner = 'nobody'\n")
    monkeypatch.setenv("SAFEGUARD_POLICY_FILE", str(bad))
    refused(run("policy", "show"), "bad.toml: processes.allegation.steps.outcome.owner: 'nobody'")
    refused(run("calendar", "due", "2026-12-24", "1"), "bad.toml")


def test_policy_show_refuses_an_unknown_process(run: Run) -> None:
    refused(run("policy", "show", "adoption"), "'adoption' is not a process")


def test_a_bad_setting_names_the_variable(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEGUARD_TIMEZONE", "Mars/Olympus")
    refused(run("calendar", "due", "2026-12-24", "1"), "SAFEGUARD_TIMEZONE", "Mars/Olympus")


# --- staff and the database ---------------------------------------------------------------------


@pytest.fixture
def db(run: Run, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    first = run("db", "upgrade")
    assert first.code == 0 and "migrated from empty to" in first.out
    assert "is up to date" in run("db", "upgrade").out
    return database_url


def directory(run: Run) -> object:
    return run("staff", "list", "--json").json()


def test_staff_needs_a_migrated_database(
    run: Run, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    refused(run("staff", "list"), "the database is not set up: run 'safeguard db upgrade'")


def test_staff_add_list_show(run: Run, db: str) -> None:
    assert run("staff", "add", "hos-1", "--name", "Pat Head", "--role", "head_of_service").code == 0
    added = run(
        "staff",
        "add",
        "lado-1",
        "--name",
        "Alex Lado",
        "--role",
        "lado",
        "--role",
        "lado_manager",
        "--manager",
        "hos-1",
        "--address",
        ADDRESS,
    )
    assert added.code == 0 and "added lado-1 (Alex Lado): lado, lado_manager" in added.out
    shown = run("staff", "show", "lado-1")
    assert "reports to: hos-1 (Pat Head)" in shown.out
    assert "mailto://…#" in shown.out
    people = directory(run)
    assert [p["id"] for p in people] == ["hos-1", "lado-1"]
    assert people[1]["roles"] == ["lado", "lado_manager"]
    assert run("staff", "show", "lado-1", "--json").json()["management_chain"] == ["hos-1"]
    assert [p["id"] for p in run("staff", "list", "--role", "lado", "--json").json()] == ["lado-1"]
    for output in (added.out, shown.out, run("staff", "list").out, json.dumps(people)):
        assert SECRET not in output and "lado@example.org" not in output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("lado-1", "--name", "Again", "--role", "lado"), ("staff id already exists: lado-1",)),
        (("x-1", "--name", "X", "--role", "wizard"), ("'wizard' is not a role",)),
        (
            ("x-1", "--name", "X", "--role", "iro", "--manager", "ghost"),
            ("line manager not in the directory: ghost",),
        ),
        (("Bad Id", "--name", "X", "--role", "iro"), ("'Bad Id' is not a valid staff id",)),
        (
            ("x-1", "--name", "X", "--role", "iro", "--address", "slack://half"),
            ("cannot be parsed by Apprise",),
        ),
        (("x-1", "--role", "iro"), ("Missing option '--name'",)),
    ],
)
def test_staff_add_refuses_bad_input_and_changes_nothing(
    run: Run, db: str, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    run("staff", "add", "lado-1", "--name", "Alex Lado", "--role", "lado")
    before = directory(run)
    result = run("staff", "add", *args)
    refused(result, *fragments)
    assert "half" not in result.err
    assert directory(run) == before


def test_staff_import_a_whole_team(run: Run, db: str, tmp_path: Path) -> None:
    team = tmp_path / "team.csv"
    team.write_text(
        "id,name,roles,line_manager,addresses\n"
        "iro-1,Sam Iro,iro,irom-1,\n"
        f"irom-1,Jo Manager,iro_manager,,{ADDRESS}\n"
    )
    result = run("staff", "import", str(team))
    assert result.code == 0 and "imported 2" in result.out and SECRET not in result.out
    assert [p["id"] for p in directory(run)] == ["iro-1", "irom-1"]
    refused(run("staff", "show", "nobody"), "no staff member with id 'nobody'")


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        (
            "team.csv",
            "id,name,roles\nnew-1,New,iro\nlado-1,Dup,lado\n",
            "staff id already exists: lado-1",
        ),
        (
            "team.csv",
            "id,name,roles\nnew-1,New,iro\nnew-2,New,wizard\n",
            "line 3: roles: 'wizard' is not a role",
        ),
        (
            "team.yaml",
            "- {id: new-1, name: N, roles: [iro], line_manager: new-2}\n"
            "- {id: new-2, name: M, roles: [iro_manager], line_manager: new-1}\n",
            "line managers form a loop",
        ),
        ("team.yaml", "- {id: new-1, name: N, roles: [iro]\n", "not valid YAML"),
        (
            "team.csv",
            "id,name,roles,addresses\nnew-1,N,iro,slack://x\n",
            "staff 'new-1': notification address",
        ),
    ],
)
def test_a_bad_import_adds_nobody(
    run: Run, db: str, tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    run("staff", "add", "lado-1", "--name", "Alex Lado", "--role", "lado")
    before = directory(run)
    path = tmp_path / name
    path.write_text(text)
    refused(run("staff", "import", str(path)), fragment)
    assert directory(run) == before


def test_staff_sign_in_ids_link_people_to_their_council_accounts(
    run: Run, db: str, tmp_path: Path
) -> None:
    """`staff add --sign-in-id`, the import's sign_in_id column and `staff sign-in-id`: kept
    lower-case, one person each; a clash or a bad value refused, changing nothing."""
    added = run("staff", "add", "iro-1", "--name", "Sam Iro", "--role", "iro", "--sign-in-id", "Sam.Iro@Northshire.gov.uk")  # fmt: skip
    assert added.code == 0, added
    assert "signs in with the council account: sam.iro@northshire.gov.uk" in run("staff", "show", "iro-1").out  # fmt: skip
    team = tmp_path / "team.csv"
    team.write_text(
        "id,name,roles,sign_in_id\nirom-1,Robin Iro,iro_manager,robin@northshire.gov.uk\n"
    )
    assert run("staff", "import", str(team)).code == 0
    before = directory(run)
    refused(
        run(
            "staff",
            "add",
            "x-1",
            "--name",
            "X",
            "--role",
            "iro",
            "--sign-in-id",
            "ROBIN@northshire.gov.uk",
        ),
        "sign-in id robin@northshire.gov.uk already belongs to irom-1",
    )
    refused(run("staff", "sign-in-id", "iro-1", "robin@northshire.gov.uk"), "already belongs to irom-1")  # fmt: skip
    refused(run("staff", "sign-in-id", "iro-1", "two words"), "with no spaces")
    refused(run("staff", "sign-in-id", "iro-1"), "give the sign-in id to link")
    refused(run("staff", "sign-in-id", "ghost", "g@x.org"), "no staff member with id 'ghost'")
    assert directory(run) == before
    linked = run("staff", "sign-in-id", "iro-1", "sam@northshire.gov.uk", "--as", "irom-1")
    assert linked.code == 0 and "iro-1 signs in with the council account sam@northshire.gov.uk" in linked.out  # fmt: skip
    assert run("staff", "show", "iro-1", "--json").json()["sign_in_id"] == "sam@northshire.gov.uk"
    assert run("staff", "sign-in-id", "iro-1", "--clear").code == 0
    assert run("staff", "show", "iro-1", "--json").json()["sign_in_id"] is None


# --- casework commands: bad input refused before anything is stored ---------------------------------


@pytest.fixture
def lado_team(run: Run, db: str) -> None:
    for args in (
        ("lado-1", "--name", "L", "--role", "lado"),
        ("iro-1", "--name", "I", "--role", "iro"),
        ("sw-1", "--name", "S", "--role", "social_worker"),
        ("ssw-1", "--name", "SSW", "--role", "supervising_social_worker"),
    ):
        assert run("staff", "add", *args).code == 0


START = (
    "allegation",
    "start",
    "--lado",
    "lado-1",
    "--received",
    "2026-10-19T09:15",
    "--aware",
    "2026-10-19",
    "--carer",
    "FC-1",
    "--service",
    "S",
    "--ssw",
    "ssw-1",
    "--child",
    "C-1:iro-1:sw-1",
    "--category",
    "physical",
    "--summary",
    "s",
)


def test_starting_a_case_while_prefect_is_down_stores_nothing(
    run: Run, lado_team: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    refused(run(*START), "Prefect does not answer at http://127.0.0.1:9/api", "make run")
    assert run("status", "--json").json() == []


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (("--received", "2026-10-19"), ("--received needs a time as well as a date",)),
        (("--child", "C-1:iro-1"), ("write CHILD_REF:IRO_ID:SOCIAL_WORKER_ID",)),
        (("--aware", "2026-13-01"), ("'2026-13-01' is not a real --aware",)),
        (("--child", "C-1:sw-1:sw-1"), ("--child 1 (iro): sw-1 does not hold the role IRO",)),
        (("--received", "2027-10-19T09:15"), ("--received: 2027-10-19 09:15 is in the future",)),
        (("--summary", " "), ("--summary: is required (it is blank)",)),
    ],
)
def test_allegation_start_refuses_bad_options(
    run: Run, lado_team: None, change: tuple[str, str], fragments: tuple[str, ...]
) -> None:
    args = list(START)
    args[args.index(change[0]) + 1] = change[1]
    refused(run(*args), *fragments)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not valid JSON"), (None, "cannot be read")],
)
def test_record_refuses_an_unreadable_input_file(
    run: Run, lado_team: None, tmp_path: Path, content: str | None, fragment: str
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    refused(
        run(
            "record",
            "ALG-2026-0001",
            "initial_consideration",
            "--as",
            "lado-1",
            "--input",
            str(path),
        ),
        fragment,
    )


def test_record_refuses_an_unknown_case(
    run: Run, lado_team: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "input.json"
    path.write_text('{"threshold_met": false, "route": "advice"}')
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    refused(
        run(
            "record",
            "ALG-2026-0404",
            "initial_consideration",
            "--as",
            "lado-1",
            "--input",
            str(path),
        ),
        "no case 'ALG-2026-0404'",
    )


def test_case_commands_refuse_unknown_ids(run: Run, lado_team: None) -> None:
    refused(run("case", "show", "ALG-2026-0404"), "no case 'ALG-2026-0404'")
    refused(run("rationale", "7", "--text", "why", "--as", "lado-1"), "no decision 7")
    refused(run("action", "update", "7", "--status", "done", "--as", "lado-1"), "no action 7")
    assert run("status").code == 0

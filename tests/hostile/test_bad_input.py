"""Bad input as a hostile user or a broken file would give it, on SQLite and PostgreSQL: one line on
stderr naming the field, exit status 2 (1 for "cannot reach the database"), never a traceback,
nothing stored, and never a secret or a piece of narrative in what is printed."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import departures, steps
from models.db import session_scope
from models.errors import InputError
from models.tables import Action, AuditEntry, Case, ClockStop, Staff, Submission
from tests.cases import CALENDAR, POLICY, add_team, at, open_step, record, start_case
from tests.integration.test_cli import Result, Run, refused
from tests.integration.test_cli import run as run
from tests.smtp import SmtpServer

PASSWORD = "Pa55w0rd-planted"
NAME = "Ophelia Brackenridge"


@pytest.fixture
def case(
    engine: Engine, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A team and an allegation case at its initial consideration; the CLI on the same database."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # never reached: refused first
    add_team(engine, smtp)
    return start_case(engine)


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(t)).one()
            for t in (Staff, Case, Submission, Action, ClockStop, AuditEntry)
        )


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.err + result.out, result.err


def record_with(
    run: Run, tmp_path: Path, ref: str, content: bytes, step: str = "outcome"
) -> Result:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    return run("record", ref, step, "--as", "lado-1", "--input", str(path))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
        ('{"category": "false"}'.encode("utf-16"), "not UTF-8 text"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"a":' * 30 + b"1" + b"}" * 30, "nested more than 20 deep"),
        (b'{"category": "' + b"9" * 5000 + b'"}', "category"),
        (b'{"x": ' + b"9" * 5000 + b"}", "cannot be read as JSON"),
        (b'{"rationale": "a\\u0000b"}', "rationale contains a NUL character"),
    ],
    ids=["binary", "utf-16", "deep-json", "deep-object", "long-string", "huge-int", "nul"],
)
def test_an_unreadable_input_file_is_one_line(
    run: Run, case: str, engine: Engine, tmp_path: Path, content: bytes, fragment: str
) -> None:
    open_step(engine, case, "outcome")
    before = counts(engine)
    result = record_with(run, tmp_path, case, content)
    no_traceback(result)
    refused(result, fragment)
    assert counts(engine) == before


def test_huge_numbers_in_an_input_or_as_ids_are_one_line(
    run: Run, case: str, engine: Engine, tmp_path: Path
) -> None:
    record(
        engine,
        case,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-02T15:00"),
    )
    open_step(engine, case, "allegation_meeting")
    record(
        engine,
        case,
        "allegation_meeting",
        {"held_on": "2026-11-03", "attendees": ["lado"]},
        at("2026-11-03T15:00"),
    )
    review = {
        "held_on": "2026-11-04",
        "attendees": ["lado"],
        "accounted": [{"action_id": 10**30, "status": "done"}],
    }
    open_step(engine, case, "review_meeting", now=at("2026-11-03T15:05"))
    before = counts(engine)
    result = record_with(run, tmp_path, case, json.dumps(review).encode(), "review_meeting")
    refused(result, "accounted.0.action_id")
    for args in (
        ("rationale", "99999999999999999999", "--text", "why", "--as", "lado-1"),
        ("action", "update", "99999999999999999999", "--status", "done", "--as", "lado-1"),
        ("ack", "99999999999999999999", "--as", "lado-1"),
        ("rationale", "2147483648", "--text", "why", "--as", "lado-1"),
    ):
        result = run(*args)
        no_traceback(result)
        refused(result, "Invalid value")
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("roles", "fragment"),
    [
        ("5", "give the roles as a list"),
        ("[[lado]]", "['lado'] is not a role"),
        ("{lado: 1}", "give the roles as a list"),
        ("[lado, 7]", "7 is not a role"),
    ],
)
def test_a_staff_file_with_roles_of_the_wrong_type_is_refused(
    run: Run, case: str, engine: Engine, tmp_path: Path, roles: str, fragment: str
) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(f"- id: new-1\n  name: New\n  roles: {roles}\n")
    before = counts(engine)
    result = run("staff", "import", str(path))
    no_traceback(result)
    refused(result, "entry 1: roles", fragment)
    assert counts(engine) == before


def test_values_over_a_columns_length_are_refused_at_input(
    run: Run, case: str, engine: Engine, tmp_path: Path
) -> None:
    record(  # a decision recorded without its rationale: decision 1
        engine,
        case,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-02T15:00"),
    )
    open_step(engine, case, "allegation_meeting")
    before = counts(engine)
    long_address = f"mailto://u:{PASSWORD}@mail.example.org?to=" + "x" * 2100 + "@example.org"
    result = run(
        "staff", "add", "new-1", "--name", "N", "--role", "lado", "--address", long_address
    )
    refused(result, "addresses.0")
    refused(run("staff", "add", "new-1", "--name", "N" * 201, "--role", "lado"), "name")
    path = tmp_path / "start.json"
    start = {
        "received_at": "2026-11-02T09:00",
        "aware_on": "2026-11-02",
        "carer": f"FC-{NAME}-" + "x" * 80,
        "fostering_service": "S",
        "supervising_social_worker": "ssw-1",
        "children": [{"child": "C-1", "iro": "iro-1", "social_worker": "sw-1"}],
        "category": "physical",
        "summary": f"{NAME} did it",
    }
    path.write_text(json.dumps(start))
    result = run("start", "allegation", "--as", "lado-1", "--input", str(path))
    refused(result, "allegation start: carer:", "at most 64 characters")
    assert NAME not in result.err.split("example input")[0]
    result = run("rationale", "1", "--text", "x" * 120_000, "--as", "lado-1")
    refused(result, "at most 4,000")
    path.write_text(json.dumps({"held_on": "2026-11-03", "attendees": ["lado"]}))
    result = run(
        "record", case, "allegation_meeting", "--as", "lado-1", "--input", str(path),
        "--key", "k" * 200,
    )  # fmt: skip
    refused(result, "--key is 200 characters")
    assert counts(engine) == before
    for result_text in (result.out, result.err):
        assert PASSWORD not in result_text


def test_serve_and_database_urls_that_cannot_work_are_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("serve", "--port", "99999")
    no_traceback(result)
    refused(result, "Invalid value for '--port'")
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", f"mysql+mysqldb://app:{PASSWORD}@db.example/x")
    result = run("staff", "list")
    refused(result, "its driver is not installed")
    assert PASSWORD not in result.err
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", f"not a url {PASSWORD}")
    result = run("staff", "list")
    refused(result, "the database URL cannot be read")
    assert PASSWORD not in result.err
    monkeypatch.setenv(
        "SAFEGUARD_DATABASE_URL", f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:1/x"
    )
    result = run("staff", "list")
    assert result.code == 1 and "cannot reach the database" in result.err
    assert PASSWORD not in result.err and len(result.err.strip().splitlines()) == 1


def test_stored_text_is_printed_as_text(
    run: Run, case: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    odd = "Pat [/] Head [bold]x \x1b[31mred\x1b[0m \u202eevil"
    assert run("staff", "add", "odd-1", "--name", odd, "--role", "lado").code == 0
    listed = run("staff", "list")
    assert listed.code == 0 and "Pat [/] Head [bold]x" in listed.out
    assert "\x1b[31m" not in listed.out and "\\x1b[31mred" in listed.out
    assert "\u202e" not in listed.out and "\\u202eevil" in listed.out
    record(
        engine,
        case,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-02T15:00"),
    )
    open_step(engine, case, "allegation_meeting")
    record(
        engine,
        case,
        "allegation_meeting",
        {
            "held_on": "2026-11-03",
            "attendees": ["lado"],
            "actions": [
                {"title": "Visit [/] the [red]home\x1b]0;pwned\x07", "owner": "sw-1", "due": 2}
            ],
        },
        at("2026-11-03T15:00"),
    )
    shown = run("case", "show", case)
    assert shown.code == 0, shown.err
    assert "Visit [/] the [red]home\\x1b]0;pwned\\x07" in shown.out
    assert "\x1b" not in shown.out and "\x07" not in shown.out


# --- the record cannot be falsified: clocks and actions ---------------------------------------------


def test_a_clock_cannot_stop_before_its_step_opened_in_the_future_or_over_another_stop(
    engine: Engine, case: str
) -> None:
    open_step(engine, case, "outcome")  # counts from the referral: opened Mon 2 Nov 09:15

    def stop(when: str, recorded: str = "2026-11-27T12:00") -> ClockStop:
        with session_scope(engine) as session:
            return departures.stop(
                session,
                policy=POLICY,
                calendar=CALENDAR,
                reference=case,
                step_name="outcome",
                reason="police investigation",
                approver_id="ladom-1",
                recorded_by="lado-1",
                now=at(when),
                recorded_at=at(recorded),
            )

    def resume(when: str) -> None:
        with session_scope(engine) as session:
            departures.resume(
                session,
                policy=POLICY,
                calendar=CALENDAR,
                reference=case,
                step_name="outcome",
                recorded_by="lado-1",
                now=at(when),
                recorded_at=at("2026-11-27T12:00"),
            )

    with pytest.raises(InputError, match="before the outcome step opened"):
        stop("2026-10-01T10:00")
    with pytest.raises(InputError, match="is in the future"):
        stop("2026-11-28T10:00")
    stop("2026-11-05T10:00")
    with pytest.raises(InputError, match="before it was stopped"):
        resume("2026-11-04T10:00")
    resume("2026-11-12T10:00")
    with pytest.raises(InputError, match="stops of one clock cannot overlap"):
        stop("2026-11-10T10:00")
    stop("2026-11-13T10:00")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ClockStop)).one() == 2


@pytest.mark.parametrize(
    ("due", "fragment"),
    [
        ("9999-12-31", "later than the policy allows"),
        ("2027-06-01", "later than the policy allows"),
        (260, "later than the policy allows"),
    ],
)
def test_an_action_cannot_be_due_beyond_the_policys_limit(
    engine: Engine, case: str, due: object, fragment: str
) -> None:
    record(
        engine,
        case,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-02T15:00"),
    )
    open_step(engine, case, "allegation_meeting")
    meeting = {
        "held_on": "2026-11-03",
        "attendees": ["lado"],
        "actions": [{"title": "Visit", "owner": "sw-1", "due": due}],
    }
    before = counts(engine)
    with pytest.raises(InputError, match=fragment), session_scope(engine) as session:
        steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=case,
            step_name="allegation_meeting",
            author_id="lado-1",
            payload=meeting,
            at=at("2026-11-03T15:00"),
            key=None,
            now=at("2026-11-03T15:00"),
        )
    assert counts(engine) == before
    meeting["actions"] = [{"title": "Visit", "owner": "sw-1", "due": "2027-04-30"}]
    record(engine, case, "allegation_meeting", meeting, at("2026-11-03T15:00"))  # within 6 months
    with Session(engine) as session:
        assert session.exec(select(Action.due_on)).one() == date(2027, 4, 30)


# --- no error path prints secrets or narrative ------------------------------------------------------


def test_a_database_error_never_carries_its_values(engine: Engine, case: str) -> None:
    """Every engine hides SQL parameters: an error raised anywhere (a command, a flow run's task,
    so Prefect's logs) carries the statement's shape, never the names or addresses in it."""
    import sqlalchemy as sa

    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO staff (id, name, active, created_at) VALUES (:id, :name, :a, :at)"
            ),
            {"id": "lado-1", "name": f"{NAME} {PASSWORD}", "a": True, "at": "2026-11-02 09:00"},
        )
    assert NAME not in str(caught.value) and PASSWORD not in str(caught.value)


def test_the_cli_reports_a_database_error_without_its_statement_or_values(
    run: Run, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    import models.staff

    def refuse(*_: object, **__: object) -> object:
        raise sa.exc.DataError(
            f"INSERT INTO staff_addresses (url) VALUES ('mailto://u:{PASSWORD}@x')",
            {"url": f"mailto://u:{PASSWORD}@x", "name": NAME},
            Exception("value too long for type character varying(2000)"),
        )

    monkeypatch.setattr(models.staff, "_views", refuse)
    result = run("staff", "list")
    refused(result, "the database refused this: value too long for type character varying(2000)")
    assert PASSWORD not in result.err + result.out and NAME not in result.err + result.out
    assert "INSERT" not in result.err

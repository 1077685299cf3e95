"""Every number a command takes has a range a database (and a person) can hold: each numeric
option or argument of every command is bounded both ways, and each option given a huge number, a
negative one or text is refused in words (exit 2), never a traceback. A busy database says so."""

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy.exc as sa_exc
import typer

from safeguard.cli import add_process_commands, app, main, notices


def commands() -> Iterator[tuple[list[str], Any]]:
    """Every command of the CLI with its path (`["staff", "invite"]`), process commands too."""
    add_process_commands()

    def walk(path: list[str], command: Any) -> Iterator[tuple[list[str], Any]]:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk([*path, name], sub)
        else:
            yield path, command

    yield from walk([], typer.main.get_command(app))


def numeric(param: Any) -> bool:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation in (int, float)


NUMERIC = [(path, p) for path, command in commands() for p in command.params if numeric(p)]
OPTIONS = [(path, p) for path, p in NUMERIC if p.opts and p.opts[0].startswith("--")]


def named(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value.name)


def test_there_are_numbers_to_check() -> None:
    found = {(" ".join(path), p.name) for path, p in NUMERIC}
    for expected in [("notices", "limit"), ("record", "wait"), ("ack", "notice_id"), ("staff invite", "valid_hours"), ("iro challenge", "wait")]:  # fmt: skip
        assert expected in found


@pytest.mark.parametrize(("path", "param"), NUMERIC, ids=named)
def test_every_number_is_bounded_both_ways(path: list[str], param: Any) -> None:
    where = f"{' '.join(path)} {param.opts[0]}"
    assert param.min is not None and param.max is not None, f"{where}: give it min= and max="
    assert param.max <= 2**31 - 1, f"{where}: more than an integer column holds"


@pytest.mark.parametrize(("path", "param"), OPTIONS, ids=named)
@pytest.mark.parametrize("given", ["99999999999999999999", "-5", "ten"])
def test_a_wild_number_is_refused_in_words(
    path: list[str], param: Any, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*path, param.opts[0], given])
    said = capsys.readouterr().err
    assert code == 2, said
    assert f"Invalid value for '{param.opts[0]}'" in said and "Traceback" not in said


def test_a_busy_database_is_not_called_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's "database is locked" (another writer past the busy timeout) says so, and try again;
    it is not "cannot reach the database ... check SAFEGUARD_DATABASE_URL"."""

    def busy(*args: object, **kwargs: object) -> None:
        raise sa_exc.OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(notices, "get_settings", busy)
    assert main(["notices"]) == 1
    said = capsys.readouterr().err
    assert "the database is busy" in said and "try again" in said
    assert "SAFEGUARD_DATABASE_URL" not in said

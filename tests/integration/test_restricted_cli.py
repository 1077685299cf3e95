"""Restricted records from the command line (issue 22, part 5), on SQLite and PostgreSQL:
`safeguard case restrict` and `case lift-restriction` by a LADO manager only, with a ground and a
reason; `case show --as` refused for someone outside the case (exit 2, the attempt kept), and
shown, with the refused attempt in its access log, to the LADO manager."""

import json

import pytest
from sqlalchemy.engine import Engine

from safeguard.cli import main
from tests.cases import CHILD_NAME, add_team, start_case
from tests.smtp import SmtpServer


def test_restricting_and_opening_from_the_terminal(
    engine: Engine, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    add_team(engine, smtp)
    ref = start_case(engine)
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        said = capsys.readouterr()
        return code, said.out + said.err

    code, said = run(
        "case", "restrict", ref, "--as", "lado-1", "--ground", "staff", "--reason", "x"
    )
    assert code == 2 and "only a LADO manager may restrict a case (lado-1 is not one)" in said
    code, said = run("case", "restrict", ref, "--as", "ladom-1", "--ground", "cousin", "--reason", "x")  # fmt: skip
    assert code == 2 and "--ground: choose staff or related, not 'cousin'" in said
    code, said = run("case", "restrict", ref, "--as", "ladom-1", "--ground", "staff", "--reason", "The carer works in our fostering team.")  # fmt: skip
    assert code == 0 and f"{ref} is restricted: the carer or a child is a member of staff" in said
    code, said = run("case", "show", ref, "--as", "lado-2", "--reason", "curious")
    assert code == 2 and f"{ref} is restricted: only the people working on it" in said
    assert CHILD_NAME not in said
    code, said = run("case", "show", ref, "--as", "ladom-1", "--reason", "I restricted it")
    assert code == 0 and "RESTRICTED: only the people working on it" in said
    assert "restricted: The carer or a child is a member of staff, by ladom-1" in said
    assert "REFUSED: the case is restricted" in said  # lado-2's attempt, in the access log
    code, said = run("case", "show", ref, "--as", "ladom-1", "--reason", "checking", "--json")
    view = json.loads(said)
    assert view["restricted"] is True and view["restrictions"][0]["ground"].startswith("The carer")
    refused = [v for v in view["access_log"] if v["refused"]]
    assert [(v["who"], v["via"]) for v in refused] == [("lado-2", "cli")]
    code, said = run("case", "lift-restriction", ref, "--as", "ladom-1", "--reason", "She has left.")  # fmt: skip
    assert code == 0 and f"{ref} is no longer restricted" in said
    code, said = run("case", "lift-restriction", ref, "--as", "ladom-1", "--reason", "again")
    assert code == 2 and f"{ref} is not restricted" in said
    code, said = run("case", "show", ref, "--as", "lado-2", "--reason", "covering for lado-1")
    assert code == 0

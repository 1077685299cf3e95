"""`safeguard doctor`: each check one line, ok or what to fix, exit 1 when anything needs fixing:
the database and its migrations, the clock policy, every active person's addresses (one that no
longer parses, a person with none), the Prefect API, the web address; a test notice on request,
delivered to a real SMTP server."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from models.db import make_engine
from safeguard.cli import main
from tests.flows.conftest import until
from tests.oidc_provider import running_provider
from tests.smtp import SmtpServer


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the standard library names it
        self.send_response(200 if self.path.endswith("/health") else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def prefect_health() -> Iterator[str]:
    """Something answering /health where the Prefect API is said to be (the real server is
    driven in tests/flows; here only its answer matters)."""
    server = HTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()


def test_doctor_says_what_to_fix(
    tmp_path: Path, smtp: SmtpServer, prefect_health: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    database = f"sqlite:///{tmp_path}/safeguard.db"
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database)
    monkeypatch.setenv("PREFECT_API_URL", prefect_health)
    monkeypatch.delenv("SAFEGUARD_WEB_URL", raising=False)

    def doctor(*more: str) -> tuple[int, dict[str, tuple[bool, str]]]:
        code = main(["doctor", "--json", *more])
        found = json.loads(capsys.readouterr().out)
        return code, {f["check"]: (f["ok"], f["said"]) for f in found}

    code, found = doctor()
    assert code == 1 and found["migrations"][0] is False
    assert "run 'safeguard db upgrade'" in found["migrations"][1]
    assert main(["db", "upgrade"]) == 0
    assert main(["staff", "add", "pat", "--name", "Pat", "--role", "lado", "--address", smtp.url("pat")]) == 0  # fmt: skip
    capsys.readouterr()
    code, found = doctor()
    assert code == 1 and [k for k, (ok, _) in found.items() if not ok] == ["web address"]
    monkeypatch.setenv("SAFEGUARD_WEB_URL", "https://safeguard.example.gov.uk")
    code, found = doctor("--send-to", "pat")
    assert code == 0, found
    assert found["staff addresses"] == (True, "1 active people, every address parses")
    assert found["test notice to pat"] == (True, "delivered")
    assert until(lambda: any(m.subject == "Safeguard: a test notice" for m in smtp.received), 10)
    # An address that no longer parses (written before a check existed), a person with none.
    engine = make_engine(database)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE staff_addresses SET url = 'nonsense://x' WHERE staff_id = 'pat'")
        )
    engine.dispose()
    assert main(["staff", "add", "sam", "--name", "Sam", "--role", "iro"]) in (0, 2)
    capsys.readouterr()
    code, found = doctor()
    assert code == 1
    said = found["staff addresses"][1]
    assert "pat: nonsense://" in said and "does not parse" in said and "nonsense://x" not in said
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    code, found = doctor()
    assert found["Prefect API"][0] is False and "Prefect does not answer" in found["Prefect API"][1]


def test_doctor_checks_the_council_identity_provider(
    tmp_path: Path, prefect_health: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    """SAFEGUARD_SIGN_IN=oidc: the provider answers (a real one, tests/oidc_provider.py), and who
    in the directory has no sign-in id (they could not sign in); an issuer that does not answer."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/safeguard.db")
    monkeypatch.setenv("PREFECT_API_URL", prefect_health)
    monkeypatch.setenv("SAFEGUARD_WEB_URL", "https://safeguard.example.gov.uk")
    assert main(["db", "upgrade"]) == 0
    assert main(["staff", "add", "pat", "--name", "Pat", "--role", "lado", "--sign-in-id", "pat@x.gov.uk"]) == 0  # fmt: skip
    assert main(["staff", "add", "sam", "--name", "Sam", "--role", "iro"]) == 0
    capsys.readouterr()
    with running_provider() as provider:
        monkeypatch.setenv("SAFEGUARD_SIGN_IN", "oidc")
        monkeypatch.setenv("SAFEGUARD_OIDC_ISSUER", provider.issuer)
        monkeypatch.setenv("SAFEGUARD_OIDC_CLIENT_ID", "safeguard")
        code = main(["doctor", "--json"])
        found = {f["check"]: (f["ok"], f["said"]) for f in json.loads(capsys.readouterr().out)}
        assert found["identity provider"] == (True, f"{provider.issuer} answers (1 signing key(s) published)")  # fmt: skip
        assert found["sign-in ids"] == (False, "1 cannot sign in (no sign-in id): sam")
        assert code == 1
    monkeypatch.setenv("SAFEGUARD_OIDC_ISSUER", "http://127.0.0.1:9")
    code = main(["doctor", "--json"])
    found = {f["check"]: (f["ok"], f["said"]) for f in json.loads(capsys.readouterr().out)}
    assert found["identity provider"] == (False, "http://127.0.0.1:9: discovery unreachable; check SAFEGUARD_OIDC_ISSUER")  # fmt: skip
    monkeypatch.delenv("SAFEGUARD_OIDC_CLIENT_ID")
    assert main(["doctor"]) == 2
    assert "needs SAFEGUARD_OIDC_CLIENT_ID" in capsys.readouterr().err

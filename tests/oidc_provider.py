"""A real OpenID Connect provider for the tests: `oidc-provider-mock` (Authlib's authorization
server, on a port, discovery, keys, the authorization and token endpoints, end session), started
in a thread.

Beside it, what a test needs to see and to break: the token requests it received (their PKCE
verifier), and a `tamper` switch that re-signs the next ID tokens as a misbehaving or hostile
provider would send them: for another audience (signed with the provider's own key) or signed
with a key the provider never published (a bad signature).
"""

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import flask
import httpx
import oidc_provider_mock
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Provider:
    """The running provider: its issuer URL, what reached its token endpoint, and the switch."""

    issuer: str
    token_requests: list[dict[str, str]] = field(default_factory=list)
    tamper: str | None = None  # None, "audience" or "signature"

    def add_person(self, sub: str, **claims: Any) -> None:
        """Tell the provider who `sub` is (their claims: email, preferred_username, oid...)."""
        answer = httpx.put(f"{self.issuer}/users/{quote(sub)}", json=claims, timeout=10)
        assert answer.status_code == 204, answer.text

    def authorize(self, url: str, sub: str) -> str:
        """Sign in at the provider's own form as `sub`; return where it sends the browser back."""
        answer = httpx.post(url, data={"sub": sub}, timeout=10)
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["location"]


def _claims_of(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = id_token.split(".")

    def part(text: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return found

    return part(header), part(payload)


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Start the provider on a free port of this machine; stop it afterwards."""
    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    provider = Provider(issuer=f"http://127.0.0.1:{server.server_port}")
    stranger = RSAKey.generate_key(2048)  # a key the provider never published

    @app.after_request
    def seen_and_tampered(response: flask.Response) -> flask.Response:
        if flask.request.path != "/oauth2/token" or response.status_code != 200:
            return response
        provider.token_requests.append(dict(flask.request.form))
        if provider.tamper is None:
            return response
        body = json.loads(response.get_data())
        header, claims = _claims_of(body["id_token"])
        if provider.tamper == "audience":
            claims["aud"] = "another-service"
            own = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
            key = RSAKey.import_key(own)
        else:
            key = stranger
        body["id_token"] = jwt.encode(header, claims, key)
        response.set_data(json.dumps(body))
        return response

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()

"""A local service that speaks GOV.UK Notify's API (the one part that cannot run here): POST
/v2/notifications/email and /sms, GET /v2/notifications/ID, on a port.

Like Notify, it checks each request's JSON Web Token: HS256, signed with the key's secret, its
issuer the service id, issued within 30 seconds of now; anything else is a 403 with Notify's
error. It knows its templates (another is a 400: "Template not found"). What happens to a message
is set per recipient, one outcome per request in turn (the last repeats): "delivered",
"temporary-failure" or "permanent-failure" (the status a later GET reports), or "429" / "500" (the
request itself refused). It records every request it accepted.
"""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt


@dataclass
class NotifyDouble:
    url: str
    service_id: str
    secret: str
    templates: set[str]
    outcomes: dict[str, list[str]] = field(default_factory=dict)  # recipient -> outcomes in turn
    sent: list[dict[str, Any]] = field(default_factory=list)  # what it accepted
    tried: list[str] = field(default_factory=list)  # every recipient a request named
    statuses: dict[str, str] = field(default_factory=dict)  # notification id -> status

    @property
    def api_key(self) -> str:
        return f"safeguard_test-{self.service_id}-{self.secret}"

    def outcome(self, to: str) -> str:
        queue = self.outcomes.get(to, ["delivered"])
        return queue.pop(0) if len(queue) > 1 else queue[0]


class _Handler(BaseHTTPRequestHandler):
    double: NotifyDouble

    def do_POST(self) -> None:  # the standard library names it
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        kind = self.path.rsplit("/", 1)[-1]
        to = body.get("email_address") if kind == "email" else body.get("phone_number")
        if kind not in ("email", "sms") or not to:
            return self._error(400, "ValidationError", f"{kind}: a recipient is required")
        if body.get("template_id") not in self.double.templates:
            return self._error(400, "BadRequestError", "Template not found")
        self.double.tried.append(to)
        outcome = self.double.outcome(to)
        if outcome in ("429", "500"):
            return self._error(int(outcome), "RateLimitError" if outcome == "429" else "Exception", "try again later")  # fmt: skip
        notification_id = str(uuid.uuid4())
        self.double.statuses[notification_id] = outcome
        self.double.sent.append({"type": kind, "to": to, "id": notification_id, **body})
        self._answer(201, {"id": notification_id, "reference": body.get("reference"), "template": {"id": body["template_id"]}})  # fmt: skip

    def do_GET(self) -> None:  # the standard library names it
        if not self._authorised():
            return
        notification_id = self.path.rsplit("/", 1)[-1]
        status = self.double.statuses.get(notification_id)
        if status is None:
            return self._error(404, "NoResultFound", "No result found")
        self._answer(200, {"id": notification_id, "status": status})

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, self.double.secret, algorithms=["HS256"], options={"verify_iat": False})  # fmt: skip
        except jwt.PyJWTError as wrong:
            self._error(403, "AuthError", f"Invalid token: {type(wrong).__name__}")
            return False
        if claims.get("iss") != self.double.service_id:
            self._error(403, "AuthError", "Invalid token: service not found")
            return False
        if abs(time.time() - float(claims.get("iat", 0))) > 30:
            self._error(403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")  # fmt: skip
            return False
        return True

    def _error(self, status: int, error: str, message: str) -> None:
        self._answer(status, {"status_code": status, "errors": [{"error": error, "message": message}]})  # fmt: skip

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def running_notify(templates: set[str]) -> Iterator[NotifyDouble]:
    """Start the double on a free port; stop it afterwards."""
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    double = NotifyDouble(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        service_id=str(uuid.uuid4()),
        secret=str(uuid.uuid4()),
        templates=templates,
    )
    handler.double = double  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()

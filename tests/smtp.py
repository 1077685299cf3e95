"""A real SMTP server for tests (aiosmtpd), recording every message it accepts."""

import email
import email.policy
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    """An SMTP server on 127.0.0.1; `stop()` and `start()` again on the same port."""

    port: int = field(default_factory=free_port)
    received: list[Mail] = field(default_factory=list)
    on_message: Callable[[Mail], None] | None = None
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        parts = {
            p.get_content_type(): p.get_content() for p in message.walk() if not p.is_multipart()
        }
        mail = Mail(
            to=tuple(envelope.rcpt_tos),
            subject=str(message["Subject"]),
            text=str(parts.get("text/plain", "")),
            html=str(parts.get("text/html", "")),
        )
        self.received.append(mail)
        if self.on_message:
            self.on_message(mail)
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, who: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=notices@example.org&to={who}@example.org"

    def to(self, who: str) -> list[Mail]:
        return [m for m in self.received if f"{who}@example.org" in m.to]

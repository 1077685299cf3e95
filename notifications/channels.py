"""How a notice reaches one person: through Apprise to each of their addresses, reading Apprise's answer.

Email addresses (`mailto://`, `mailtos://`) get the HTML notice; chat and other services the text.
Each address is sent separately so the result says which ones took it. Apprise's warnings for the
call become the error recorded in the outbox (with the address masked).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import apprise

from notifications.addresses import mask


@dataclass
class SendResult:
    delivered_to: list[str] = field(default_factory=list)  # masked addresses that took it
    errors: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.delivered_to)


class Sender(Protocol):
    def __call__(self, urls: Sequence[str], subject: str, text: str, html: str) -> SendResult: ...


def send_with_apprise(urls: Sequence[str], subject: str, text: str, html: str) -> SendResult:
    """Send to every address; the notice is delivered when at least one address took it."""
    result = SendResult()
    if not urls:
        result.errors.append(
            "no notification address on record: add one with 'safeguard staff add'"
        )
        return result
    for url in urls:
        email = url.lower().startswith(("mailto:", "mailtos:"))
        notifier = apprise.Apprise()
        if not notifier.add(url):
            result.errors.append(f"{mask(url)}: not a usable Apprise URL")
            continue
        said: list[str] = []  # this call's own warnings (thread-safe, unlike the shared logger)

        def heard(entry: Any, _service: Any, said: list[str] = said) -> None:
            said.append(entry.message)

        outcome = notifier.notify(
            title=subject,
            body=html if email else text,
            body_format=apprise.NotifyFormat.HTML if email else apprise.NotifyFormat.TEXT,
            log_callback=heard,
            log_level=logging.WARNING,
        )
        if outcome:
            result.delivered_to.append(mask(url))
            continue
        reason = " ".join(" ".join(said).split()) or "Apprise reported failure"
        result.errors.append(f"{mask(url)}: {reason[:300]}")
    return result

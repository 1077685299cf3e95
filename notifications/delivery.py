"""Sending one notice to one person's addresses through Apprise, and reading Apprise's answer.

Email addresses (`mailto://`, `mailtos://`) get the HTML notice; chat and other services the text.
Each address is sent separately so the result says which ones took it. Apprise's warnings are
captured (never logged with the address) and become the error recorded in the outbox.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

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
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
            added = notifier.add(url)
            ok = added and bool(
                notifier.notify(
                    title=subject,
                    body=html if email else text,
                    body_format=apprise.NotifyFormat.HTML if email else apprise.NotifyFormat.TEXT,
                )
            )
            said = " ".join(log.getvalue().split()) if hasattr(log, "getvalue") else ""
        if ok:
            result.delivered_to.append(mask(url))
        else:
            reason = said or (
                "not a usable Apprise URL" if not added else "Apprise reported failure"
            )
            result.errors.append(f"{mask(url)}: {reason[:300]}")
    return result

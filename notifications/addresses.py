"""Notification addresses: Apprise URLs, checked when a person is added and never shown in full.

An Apprise URL can hold a password or a webhook token (`mailtos://user:pass@host`, `slack://T/B/X`),
so it is a secret: the system prints only its scheme and a short fingerprint, and Apprise's own
logging (which echoes a bad URL) is silenced while we parse one.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import apprise

from models.errors import InputError
from models.staff import mask_address as mask
from notifications.notify import check as check_notify
from notifications.notify import is_notify


@contextmanager
def _apprise_quiet() -> Iterator[None]:
    logger = logging.getLogger("apprise")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def check_address(url: str) -> str:
    """Return `url` stripped if Apprise can deliver to it, else raise InputError (without the URL)."""
    url = url.strip()
    if is_notify(url):  # GOV.UK Notify: notify-email:name@council.gov.uk, notify-sms:07700900123
        return check_notify(url)
    if "://" not in url:
        raise InputError(
            f"notification address {mask(url)} is not an Apprise URL: "
            "write e.g. mailto://user:password@mail.example.org?to=name@example.org (or, for GOV.UK "
            "Notify, notify-email:name@council.gov.uk or notify-sms:07700900123)"
        )
    with _apprise_quiet():
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise InputError(
            f"notification address {mask(url)} cannot be parsed by Apprise: check the scheme and "
            "its parts (see the Apprise wiki for the service)"
        )
    return url

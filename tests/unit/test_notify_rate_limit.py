"""GOV.UK Notify's rate limit (3,000 requests a minute for a key), kept by the channel's limiter:
a request over the limit waits until the oldest of the last minute's requests is a minute old;
several threads share one limit."""

import threading

import pytest

from models.errors import InputError
from notifications.notify import PER_MINUTE, RateLimit, read_templates
from safeguard.settings import get_settings


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_request_over_the_limit_waits_for_the_minute() -> None:
    time = FakeTime()
    limit = RateLimit(per_minute=3, now=lambda: time.now, sleep=time.sleep)
    for moment in (0.0, 10.0, 20.0):
        time.now = moment
        assert limit.wait() == 0
    time.now = 30.0
    assert limit.wait() == 30.0  # the first was at 0: the fourth waits until 60
    assert time.now == 60.0 and time.slept == [30.0]
    time.now = 70.0
    assert limit.wait() == 0  # the one at 10 has left the minute


def test_threads_share_one_limit() -> None:
    time = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            time.sleep(seconds)

    limit = RateLimit(per_minute=PER_MINUTE, now=lambda: time.now, sleep=sleep)
    threads = [
        threading.Thread(target=lambda: [limit.wait() for _ in range(1000)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(time.slept) >= 1  # 4,000 requests: the 3,001st waited for the minute
    assert time.now >= 60.0


def test_templates_are_read_from_their_setting() -> None:
    assert read_templates("lapsed=a1, *=b2") == {"lapsed": "a1", "*": "b2"}
    assert read_templates("") == {}


def test_notify_settings_say_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEGUARD_NOTIFY_API_KEY", "not-a-key")
    with pytest.raises(InputError, match=r"SAFEGUARD_NOTIFY_API_KEY: not a GOV\.UK Notify API key"):
        get_settings()
    key = (
        "live-"
        + "1" * 8
        + "-1111-1111-1111-"
        + "1" * 12
        + "-"
        + "2" * 8
        + "-2222-2222-2222-"
        + "2" * 12
    )
    monkeypatch.setenv("SAFEGUARD_NOTIFY_API_KEY", key)
    monkeypatch.setenv("SAFEGUARD_NOTIFY_TEMPLATES", "lapsed")
    with pytest.raises(
        InputError, match="SAFEGUARD_NOTIFY_TEMPLATES: 'lapsed' is not kind=template-id"
    ):
        get_settings()
    monkeypatch.setenv("SAFEGUARD_NOTIFY_TEMPLATES", "lapsed=abc,*=def")
    assert get_settings().notify_api_key == key

"""/health: no sign-in, no personal data; 200 while every part is well, 503 naming what is failing:
the last sweep too long ago (the schedule stopped), a notice undelivered for a day, the Prefect API
unreachable, the database not migrated. /metrics for the bearer of its token; Service health, the
same in words, for managers."""

import re
import socket

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from models import accounts
from models.db import make_engine, session_scope
from models.health import mark
from notifications import sweep as outbox_sweep
from notifications.channels import send_with_apprise
from tests.cases import CALENDAR, POLICY, add_team, at, start_case
from tests.smtp import SmtpServer
from tests.web.test_web_security import PASSWORD, Clock, sign_in
from web.app import create_app
from web.deps import WebDeps


def client(engine: Engine, now: str, prefect_api: str | None = None) -> TestClient:
    deps = WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=Clock(at(now)), secret=b"k" * 32, prefect_api=prefect_api)  # fmt: skip
    return TestClient(create_app(deps), base_url="http://testserver", follow_redirects=False)


def nowhere() -> str:
    """A local port nothing listens on."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{free.getsockname()[1]}/api"


def test_well_then_the_sweep_stops_and_a_notice_waits(engine: Engine, smtp: SmtpServer) -> None:
    fresh = client(engine, "2026-11-02T09:00").get("/health")
    assert fresh.status_code == 200
    assert fresh.json()["checks"]["sweep"]["said"].startswith("no sweep yet")
    assert fresh.json()["checks"]["notices"]["said"] == "none waiting to be delivered"
    add_team(engine, smtp)
    start_case(engine)  # its first step lapses on Wed 4 Nov; the sweep's notice cannot be sent
    outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-05T09:00"), sender=lambda urls, s, t, h: send_with_apprise([], s, t, h), clock=lambda: at("2026-11-05T09:00"))  # fmt: skip
    soon = client(engine, "2026-11-05T09:20").get("/health")
    assert soon.status_code == 200, soon.json()
    assert soon.json()["checks"]["sweep"]["said"] == "last swept 20 minute(s) ago"
    assert soon.json()["oldest_undelivered_seconds"] >= 0
    later = client(engine, "2026-11-06T12:00").get("/health")  # no sweep for a day
    assert later.status_code == 503
    assert later.json()["failing"] == ["sweep", "notices"]
    assert "the schedule has stopped" in later.json()["checks"]["sweep"]["said"]
    assert "check the addresses and the mail server" in later.json()["checks"]["notices"]["said"]
    text = later.text
    assert "Staff" not in text and "FC-77" not in text and "ALG-" not in text  # no personal data


def test_the_prefect_api_unreachable_and_a_database_not_migrated(
    engine: Engine, database_url: str, tmp_path: object
) -> None:
    dead = client(engine, "2026-11-02T09:00", prefect_api=nowhere()).get("/health")
    assert dead.status_code == 503 and dead.json()["failing"] == ["prefect"]
    assert dead.json()["checks"]["prefect"]["said"].startswith("cannot reach the Prefect API")
    if database_url.startswith("sqlite"):  # an empty database: not migrated
        empty = make_engine(f"sqlite:///{tmp_path}/empty.db")
        got = client(empty, "2026-11-02T09:00").get("/health")
        assert got.status_code == 503 and got.json()["failing"] == ["migrations"]
        assert "run 'safeguard db upgrade'" in got.json()["checks"]["migrations"]["said"]


def test_metrics_for_the_bearer_of_the_token_only(engine: Engine, smtp: SmtpServer) -> None:
    add_team(engine, smtp)
    start_case(engine)  # lapses on Wed 4 Nov
    outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-05T09:00"), sender=lambda urls, s, t, h: send_with_apprise([], s, t, h), clock=lambda: at("2026-11-05T09:00"))  # fmt: skip
    off = client(engine, "2026-11-05T10:00").get("/metrics")
    assert off.status_code == 404  # no token set: no such page
    deps = WebDeps(engine=engine, policy=POLICY, calendar=CALENDAR, clock=Clock(at("2026-11-05T10:00")), secret=b"k" * 32, metrics_token="s3cret-token")  # fmt: skip
    site = TestClient(create_app(deps), base_url="http://testserver")
    assert site.get("/metrics").status_code == 401
    assert site.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    got = site.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
    lines = got.text.splitlines()
    assert 'safeguard_open_cases{process="allegation"} 1.0' in lines
    assert 'safeguard_cases_overdue{process="allegation",rung="2"} 1.0' in lines  # its 2nd rung
    assert any(line.startswith('safeguard_notice_deliveries{status="pending"}') for line in lines)
    [retrying] = [line for line in lines if line.startswith("safeguard_deliveries_retrying ")]
    assert float(retrying.split()[1]) > 0  # the mail server refused them: pending, tried
    assert any(line.startswith("safeguard_last_sweep_timestamp_seconds 1.7") for line in lines)
    assert "safeguard_sign_ins_refused_24h 0.0" in lines
    assert any(line.startswith("safeguard_last_sweep_duration_seconds ") for line in lines)
    [mailto] = [line for line in lines if line.startswith('safeguard_notice_deliveries_by_channel{channel="mailto",status="retrying"}')]  # fmt: skip
    assert float(mailto.split()[1]) == float(retrying.split()[1])  # everyone here is by mail
    assert "safeguard_runs_stuck 0.0" in lines
    with session_scope(engine) as session:  # what the sweep's repair found (tasks/sweep.py)
        mark(session, "repair", at("2026-11-05T09:00"), detail={"stuck": 2, "carried_on": 1})
    again = site.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).text.splitlines()
    assert "safeguard_runs_stuck 2.0" in again and "safeguard_runs_carried_on 1.0" in again
    assert "ALG-" not in got.text and "Staff" not in got.text  # numbers, no references or names


def test_service_health_for_managers_in_words(engine: Engine, smtp: SmtpServer) -> None:
    add_team(engine, smtp)
    with session_scope(engine) as session:
        for who in ("hos-1", "iro-1"):
            accounts.set_password(session, staff_id=who, password=PASSWORD, now=at("2026-11-02T08:00"), actor_id=None)  # fmt: skip
    start_case(engine)
    outbox_sweep.sweep(engine, policy=POLICY, calendar=CALENDAR, now=at("2026-11-05T09:00"), sender=lambda urls, s, t, h: send_with_apprise([], s, t, h), clock=lambda: at("2026-11-05T09:00"))  # fmt: skip
    site = client(engine, "2026-11-06T12:00")
    sign_in(site, "iro-1", "not the password at all")  # refused
    sign_in(site, "iro-1")
    assert site.get("/service-health").status_code == 403  # managers only
    sign_in(site, "hos-1")
    page = site.get("/service-health")
    assert page.status_code == 200
    said = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Something needs looking at: scheduled sweep, notices waiting." in said
    assert "Scheduled sweep Failing Last swept 1620 minute(s) ago: the schedule has stopped" in said
    assert "Allegation against a foster carer (LADO process) 1 1 at rung 2" in said  # as swept
    assert "Last sweep 5 November 2026 at 09:00" in said
    assert "Notices waiting to be delivered 5 (5 tried and being retried)" in said
    assert "Sign-ins refused in the last 24 hours 1" in said
    assert re.search(r"Last sweep 5 November 2026 at 09:00, taking [0-9.]+ seconds", said)
    assert "Cases found not moving at the last repair 0" in said
    assert "Channel Delivered Waiting Being retried Email 0 5 5" in said
    assert 'href="/service-health"' in page.text  # in the managers' menu

"""Exactly once under races, on SQLite and PostgreSQL: one submission per step whoever records it at
the same moment, a reused key with other content refused, case references that never collide.
(Past-moment sweeps and the scheduled sweep: tests/integration/test_outbox.py.)"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import cases, steps
from models.db import make_engine, session_scope
from models.errors import InputError
from models.tables import Case, Submission
from tests.cases import CALENDAR, POLICY, RECEIVED, add_team, start_case
from tests.smtp import SmtpServer

THRESHOLD = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"}
WHEN = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def at_once(database_url: str, n: int, work: Callable[[Engine], Any]) -> list[Any]:
    """Run `work` in n threads released together, each with its own engine (as n processes would)."""
    gate = threading.Barrier(n)
    results: list[Any] = []

    def one() -> None:
        own = make_engine(database_url)
        try:
            gate.wait()
            results.append(work(own))
        except BaseException as exc:
            results.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def submit(engine: Engine, ref: str, payload: dict[str, Any], key: str | None = None) -> Submission:
    with session_scope(engine) as session:
        submission, _, _ = steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="initial_consideration",
            author_id="lado-1",
            payload=payload,
            at=WHEN,
            key=key,
            now=WHEN,
        )
        return submission


def test_one_submission_per_step_however_many_record_at_once(
    engine: Engine, database_url: str, smtp: SmtpServer
) -> None:
    add_team(engine, smtp)
    ref = start_case(engine)
    results = at_once(database_url, 6, lambda own: submit(own, ref, THRESHOLD))
    stored = [r for r in results if isinstance(r, Submission)]
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(stored) == 1 and len(refused) == 5, results
    assert all("was already recorded" in str(r) for r in refused)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 1


def test_a_key_used_again_for_other_content_is_refused(engine: Engine, smtp: SmtpServer) -> None:
    add_team(engine, smtp)
    ref = start_case(engine)
    first = submit(engine, ref, THRESHOLD, key="k-1")
    assert submit(engine, ref, dict(THRESHOLD), key="k-1").id == first.id  # the same: a success
    other = {**THRESHOLD, "route": "strategy_discussion"}
    with pytest.raises(InputError, match="'k-1' was used for a different submission"):
        submit(engine, ref, other, key="k-1")
    with pytest.raises(InputError, match="'k-1' was used for a different submission"):
        submit(engine, ref, {"garbage": True}, key="k-1")
    with Session(engine) as session:
        [stored] = session.exec(select(Submission)).all()
    assert stored.payload["route"] == "allegation_meeting"


def test_cases_started_at_once_get_distinct_references(
    engine: Engine, database_url: str, smtp: SmtpServer
) -> None:
    add_team(engine, smtp)

    def start(own: Engine) -> str:
        with session_scope(own) as session:
            return cases.start_case(
                session=session,
                policy=POLICY,
                calendar=CALENDAR,
                process="allegation",
                author_id="lado-1",
                payload={
                    "received_at": RECEIVED.isoformat(),
                    "aware_on": "2026-11-02",
                    "carer": "FC-1",
                    "fostering_service": "S",
                    "supervising_social_worker": "ssw-1",
                    "children": [{"child": "C-1", "iro": "iro-1", "social_worker": "sw-1"}],
                    "category": "physical",
                    "summary": "s",
                },
                now=WHEN,
            ).reference

    results = at_once(database_url, 6, start)
    assert all(isinstance(r, str) for r in results), results
    assert sorted(results) == [f"ALG-2026-{n:04d}" for n in range(1, 7)]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 6

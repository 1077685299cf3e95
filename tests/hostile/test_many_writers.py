"""Many people at once on the embedded default (issue 22, part 6): 20 records and starts at the
same moment on one SQLite file, on a busy machine (both cores spinning) and while another writer
holds the database longer than SQLite's own wait: every write is stored, none doubled, none
refused. Each transaction takes the write lock at its start and, when SQLite's wait runs out,
tries again with backoff (models/db.py) instead of failing with "database is locked". Without
those retries the same run refuses some (the control), so the test can fail."""

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import db, steps
from models.db import make_engine, session_scope
from models.tables import Case, Submission
from tests.cases import CALENDAR, POLICY, add_team, at, start_case
from tests.conftest import migrate
from tests.smtp import SmtpServer

WRITERS = 20
NOW = at("2026-11-02T10:00")
CONSIDERED = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting", "rationale": "r"}  # fmt: skip


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


@pytest.fixture
def busy() -> Iterator[None]:
    """Both cores spinning for the length of the test."""
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(2)]
    for burner in burners:
        burner.start()
    yield
    stop.set()
    for burner in burners:
        burner.join(5)


@pytest.fixture
def database(tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Engine, list[str]]]:  # fmt: skip
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)  # SQLite's own wait, short: the retries matter
    url = f"sqlite:///{tmp_path}/safeguard.db"
    migrate(url)
    engine = make_engine(url)
    add_team(engine, smtp)
    existing = [start_case(engine) for _ in range(WRITERS // 2)]
    yield str(tmp_path / "safeguard.db"), engine, existing
    engine.dispose()


def at_once(engine: Engine, existing: list[str], path: str) -> tuple[list[str], list[str]]:
    """Another writer holds the database for 2 seconds; meanwhile 20 threads write at once: half
    start a case, half record a step of one (each record sent twice under one key). Return what
    each writer did and the errors."""
    done: list[str] = []
    errors: list[str] = []
    ready = threading.Barrier(WRITERS + 1)

    def hold() -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        ready.wait()
        time.sleep(2.0)
        holder.execute("COMMIT")
        holder.close()

    def write(number: int) -> None:
        ready.wait()
        try:
            if number % 2:
                done.append(start_case(engine))
                return
            ref = existing[number // 2]
            for _ in range(2):  # a retried request: the same key stores one record
                with session_scope(engine) as session:
                    steps.submit(
                        session=session, policy=POLICY, calendar=CALENDAR, reference=ref,
                        step_name="initial_consideration", author_id="lado-1", payload=CONSIDERED,
                        at=NOW, key=f"writer-{number}", now=NOW + timedelta(minutes=1),
                    )  # fmt: skip
            done.append(ref)
        except Exception as failed:  # what a person would have been told
            errors.append(f"{type(failed).__name__}: {failed}")

    threads = [threading.Thread(target=hold)] + [
        threading.Thread(target=write, args=(n,)) for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return done, errors


def test_twenty_writers_at_once_are_all_stored_once(database: tuple[str, Engine, list[str]], busy: None) -> None:  # fmt: skip
    path, engine, existing = database
    done, errors = at_once(engine, existing, path)
    assert errors == [] and len(done) == WRITERS
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == WRITERS  # 10 + 10
        assert session.exec(select(func.count()).select_from(Submission)).one() == WRITERS // 2


def test_without_the_retries_some_would_be_refused(database: tuple[str, Engine, list[str]], busy: None, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The control: SQLite's own wait alone (no retries) refuses writers kept out for 2 seconds."""
    path, engine, existing = database
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0)
    _, errors = at_once(engine, existing, path)
    assert errors and all("database is locked" in e for e in errors)

"""`safeguard demo`: a fictional team (with passwords) and a dozen cases across the processes at
different stages, loaded through the running service exactly as people would record them (each
case's flow run created, each step recorded "as at" the day it happened and applied by the flow),
so every page shows something real at once: cases on time, late at each rung, a clock stopped, a
decision awaiting its rationale, an action overdue, a complaint's stage 2 under way and late.

Dates are counted back from today in working days, so the demo looks the same whenever it is
loaded. It is refused on a database that already holds cases: it never mixes with real work.
Everyone in it is made up; so are the children's and carers' references.
"""

import importlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from models import accounts, registry, steps
from models.casework import Casework
from models.db import session_scope
from models.errors import InputError
from models.staff import NewStaff, add_staff
from models.tables import Case, Submission
from models.wallclock import system_clock
from notifications.sweep import sweep
from safeguard import orchestration, wiring
from safeguard.settings import Settings

PASSWORD = "demo password 2026"  # every demo account's: a fictional team on a demo database

# (id, name, role, line manager)
TEAM: tuple[tuple[str, str, str, str | None], ...] = (
    ("v.clarke", "Val Clarke", "director", None),
    ("r.osei", "Ruth Osei", "head_of_service", "v.clarke"),
    ("d.price", "Daniel Price", "lado_manager", "r.osei"),
    ("s.malik", "Sana Malik", "lado", "d.price"),
    ("j.byrne", "Joe Byrne", "lado", "d.price"),
    ("c.evans", "Carys Evans", "iro_manager", "r.osei"),
    ("t.adeyemi", "Tunde Adeyemi", "iro", "c.evans"),
    ("h.novak", "Hana Novak", "iro", "c.evans"),
    ("p.walsh", "Paula Walsh", "service_manager", "r.osei"),
    ("m.reid", "Marcus Reid", "team_manager", "p.walsh"),
    ("a.hussain", "Aisha Hussain", "social_worker", "m.reid"),
    ("l.jones", "Liam Jones", "social_worker", "m.reid"),
    ("k.brown", "Kim Brown", "supervising_social_worker", "m.reid"),
    ("f.ward", "Fiona Ward", "agency_decision_maker", "r.osei"),
    ("n.patel", "Nina Patel", "complaints_manager", "p.walsh"),
    ("g.hart", "George Hart", "investigating_officer", "p.walsh"),
    ("e.lund", "Erik Lund", "independent_person", None),
)
STEP_WAIT = 90.0  # seconds to wait for the flow to open a step or apply a record


@dataclass
class Loaded:
    staff: list[tuple[str, str, str]]  # (id, name, role)
    cases: list[tuple[str, str]]  # (reference, what it shows)
    password: str = PASSWORD

    def as_dict(self) -> dict[str, Any]:
        return {
            "password": self.password,
            "staff": [{"id": i, "name": n, "role": r} for i, n, r in self.staff],
            "cases": [{"reference": r, "shows": s} for r, s in self.cases],
        }


class Demo:
    """The demo's loader: the days counted back from today, and the service's own paths."""

    def __init__(self, settings: Settings, progress: Callable[[str], None]) -> None:
        self.settings = settings
        self.service = wiring.service(settings)
        self.engine: Engine = self.service.engine
        self.calendar = self.service.calendar
        self.now = system_clock()
        self.today = self.calendar.local_date(self.now)
        if not self.calendar.is_working_day(self.today):
            self.today = self.calendar.working_days_before(self.today, 1)
        self.progress = progress
        self.started: list[tuple[str, str]] = []  # (reference, what it shows), as started

    # --- days --------------------------------------------------------------------------------

    def ago(self, working_days: int) -> date:
        return (
            self.calendar.working_days_before(self.today, working_days)
            if working_days
            else self.today
        )

    def at(self, day: date, hour: int = 9, minute: int = 30) -> datetime:
        moment = datetime.combine(day, clock_time(hour, minute), tzinfo=self.calendar.tz)
        return min(moment, self.now - timedelta(minutes=1))  # never in the future

    # --- the service's paths ------------------------------------------------------------------

    def casework(self) -> AbstractContextManager[Casework]:
        """A unit of work on the service, as the CLI's (a clock stopped, say)."""
        return wiring.casework(self.settings)

    def start(self, process: str, author: str, payload: dict[str, Any], shows: str) -> str:
        with wiring.casework(self.settings) as cx:
            case = cx.start(process, author, payload)
        with orchestration.prefect_api(self.settings):
            orchestration.launch(self.engine, case)
        self.wait_open(case.reference)  # its first steps open: the case shows at once
        self.started.append((case.reference, shows))
        self.progress(f"{case.reference}: {shows}")
        return case.reference

    def record(
        self, reference: str, step: str, author: str, payload: dict[str, Any], when: datetime
    ) -> None:
        """Record a step as `safeguard record --at` does, once the flow has opened it, and wait
        until the flow has applied it."""
        self.wait_open(reference, step)
        with wiring.casework(self.settings) as cx:
            recorded = cx.submit(reference, step, author, payload, at=when)
        submission = recorded.submission.id or 0
        with orchestration.prefect_api(self.settings):
            followed = orchestration.follow(
                self.engine, self.settings, recorded.case.flow_run_id, submission, seconds=STEP_WAIT
            )
        with session_scope(self.engine) as session:
            stored = session.get(Submission, submission)
            failure = stored.failure if stored is not None else None
        if failure or not followed.applied:
            raise InputError(
                f"the demo could not record {step} in {reference}: "
                + (failure or "the flow did not apply it in time: is 'make run' running?")
            )

    def wait_open(self, reference: str, step: str | None = None) -> None:
        """Wait until the case's flow has opened `step` (or, with none named, any step)."""
        deadline = time.monotonic() + STEP_WAIT
        while time.monotonic() < deadline:
            with wiring.casework(self.settings) as cx:
                case = cx.case(reference)
                opened = {s.name for s in steps.open_steps_of(cx.session, case.id or 0)}
                if (step in opened) if step else opened:
                    return
            time.sleep(0.25)
        raise InputError(
            f"the flow did not open {step or 'a step'} in {reference} within {STEP_WAIT:.0f} s: "
            "is 'make run' running?"
        )


def load(settings: Settings, progress: Callable[[str], None] = lambda said: None) -> Loaded:
    """Load the fictional team and the dozen cases through the running service; return who and
    what. Refused (InputError, nothing stored) on a database that holds any case, or when the
    service (Prefect) does not answer."""
    demo = Demo(settings, progress)
    with session_scope(demo.engine) as session:
        if session.exec(select(Case.id).limit(1)).first() is not None:
            raise InputError(
                "this database already holds cases: the demo loads only into one that holds none "
                "(start Safeguard with a new SAFEGUARD_HOME, or another SAFEGUARD_DATABASE_URL)"
            )
    orchestration.check_api(settings)
    with session_scope(demo.engine) as session:
        add_staff(
            session=session,
            people=[
                NewStaff(
                    id=sid,
                    name=name,
                    roles=(role,),
                    line_manager=manager,
                    independent=role == "independent_person",
                )
                for sid, name, role, manager in TEAM
            ],
            check_address=lambda url: url,
            now=demo.now,
        )
        for sid, *_ in TEAM:
            accounts.set_password(
                session, staff_id=sid, password=PASSWORD, now=demo.now, actor_id=None
            )
    progress(f"{len(TEAM)} people, each with the password {PASSWORD!r}")
    for decl in registry.processes():
        if decl.demo:  # its own cases ("module:function", given the Demo)
            module, _, function = decl.demo.partition(":")
            getattr(importlib.import_module(module), function)(demo)
    # What is due now is written to the outbox (there are no addresses: nothing is sent).
    sweep(
        demo.engine,
        policy=demo.service.policy,
        calendar=demo.calendar,
        now=system_clock(),
        web_url=settings.web_address(),
    )
    return Loaded([(s, n, r) for s, n, r, _ in TEAM], demo.started)

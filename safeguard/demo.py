"""`safeguard demo`: a fictional team (with passwords) and a dozen cases across the processes at
different stages, loaded through the running service exactly as people would record them (each
case's flow run created, each step recorded "as at" the day it happened and applied by the flow),
so every page shows something real at once: cases on time, late at each rung, a clock stopped, a
decision awaiting its rationale, an action overdue, a complaint's stage 2 under way and late.

Dates are counted back from today in working days, so the demo looks the same whenever it is
loaded. It is refused on a database that already holds cases: it never mixes with real work.
Everyone in it is made up; so are the children's and carers' references.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from models import accounts, steps
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
STEPS = 13  # what the progress counts: the team, then each case started
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

    def start(self, process: str, author: str, payload: dict[str, Any], shows: str) -> str:
        with wiring.casework(self.settings) as cx:
            case = cx.start(process, author, payload)
        with orchestration.prefect_api(self.settings):
            orchestration.launch(self.engine, case)
        self.progress(f"{case.reference}: {shows}")
        return case.reference

    def record(
        self, reference: str, step: str, author: str, payload: dict[str, Any], when: datetime
    ) -> None:
        """Record a step as `safeguard record --at` does, once the flow has opened it, and wait
        until the flow has applied it."""
        self._wait_open(reference, step)
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

    def _wait_open(self, reference: str, step: str) -> None:
        deadline = time.monotonic() + STEP_WAIT
        while time.monotonic() < deadline:
            with wiring.casework(self.settings) as cx:
                case = cx.case(reference)
                if step in {s.name for s in steps.open_steps_of(cx.session, case.id or 0)}:
                    return
            time.sleep(0.25)
        raise InputError(
            f"the flow did not open {step} in {reference} within {STEP_WAIT:.0f} s: is 'make run' running?"
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
    cases = _allegations(demo) + _disruptions(demo) + _complaints(demo)
    # What is due now is written to the outbox (there are no addresses: nothing is sent).
    sweep(
        demo.engine,
        policy=demo.service.policy,
        calendar=demo.calendar,
        now=system_clock(),
        web_url=settings.web_address(),
    )
    return Loaded([(s, n, r) for s, n, r, _ in TEAM], cases)


# --- the cases -------------------------------------------------------------------------------


def _allegation(
    demo: Demo, number: int, received: date, category: str = "physical"
) -> dict[str, Any]:
    return {
        "received_at": demo.at(received, 9, 15).replace(tzinfo=None).isoformat(timespec="minutes"),
        "aware_on": received.isoformat(),
        "carer": f"FC-D{number:02d}",
        "fostering_service": "Northshire Fostering",
        "supervising_social_worker": "k.brown",
        "children": [
            {
                "child": f"C-D{number:02d}",
                "iro": "t.adeyemi" if number % 2 else "h.novak",
                "social_worker": "a.hussain" if number % 2 else "l.jones",
            }
        ],
        "category": category,
        "summary": "A fictional allegation for the demo: the child told a teacher of a bruise.",
    }


THRESHOLD = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"}


def _allegations(demo: Demo) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []

    def start(number: int, received: date, shows: str, **changes: Any) -> str:
        ref = demo.start(
            "allegation", "s.malik", {**_allegation(demo, number, received), **changes}, shows
        )
        made.append((ref, shows))
        return ref

    start(1, demo.ago(0), "an allegation received today: its initial consideration on time")
    start(
        2,
        demo.ago(2),
        "an initial consideration late: first rung (the LADO and their manager told)",
    )
    start(
        3,
        demo.ago(4),
        "an initial consideration late for days: higher rungs (the head of service told)",
    )
    ref = start(
        4, demo.ago(1), "a threshold decision recorded without its rationale: the rationale due"
    )
    demo.record(ref, "initial_consideration", "s.malik", THRESHOLD, demo.at(demo.ago(1), 15))
    ref = start(5, demo.ago(8), "the time to outcome's clock stopped for a police investigation")
    demo.record(
        ref,
        "initial_consideration",
        "s.malik",
        {**THRESHOLD, "rationale": "a bruise seen at school; the child's account"},
        demo.at(demo.ago(7), 11),
    )
    demo._wait_open(ref, "outcome")
    with wiring.casework(demo.settings) as cx:
        cx.stop_clock(
            ref,
            "outcome",
            reason="police investigation (Operation Heron)",
            approver="d.price",
            recorded_by="s.malik",
        )
    ref = start(
        6, demo.ago(10), "a meeting held whose action is overdue (its owner and the case lead told)"
    )
    demo.record(
        ref,
        "initial_consideration",
        "s.malik",
        {**THRESHOLD, "rationale": "the carer's own account of the injury"},
        demo.at(demo.ago(9), 11),
    )
    meeting = {
        "held_on": demo.ago(7).isoformat(),
        "attendees": ["lado", "social worker", "police"],
        "actions": [{"title": "Visit the child at school", "owner": "a.hussain", "due": 2}],
    }
    demo.record(ref, "allegation_meeting", "s.malik", meeting, demo.at(demo.ago(7), 15))
    return made


def _disruptions(demo: Demo) -> list[tuple[str, str]]:
    def placement(number: int) -> dict[str, Any]:
        return {
            "child": {"child": f"C-E{number:02d}", "iro": "h.novak", "social_worker": "l.jones"},
            "carer": f"FC-E{number:02d}",
            "fostering_service": "Northshire Fostering",
            "supervising_social_worker": "k.brown",
            "team_manager": "m.reid",
            "placement_type": "long_term",
            "placement_began_on": (demo.today - timedelta(days=500)).isoformat(),
        }

    made: list[tuple[str, str]] = []
    ends = demo.today + timedelta(days=21)
    shows = "a planned ending three weeks away: the IRO to be told before it"
    made.append(
        (
            demo.start(
                "disruption",
                "l.jones",
                {
                    **placement(1),
                    "ending": {
                        "ended_by": "carer_notice",
                        "planned": True,
                        "ends_on": ends.isoformat(),
                        "new_placement_on": ends.isoformat(),
                    },
                },
                shows,
            ),
            shows,
        )
    )
    shows = "a placement at risk: the stability meeting due"
    made.append(
        (
            demo.start(
                "disruption",
                "l.jones",
                {
                    **placement(2),
                    "at_risk": {
                        "identified_on": demo.ago(3).isoformat(),
                        "concern": "the carers say they cannot go on",
                    },
                },
                shows,
            ),
            shows,
        )
    )
    ended = demo.ago(6)
    shows = "a placement that ended six working days ago: what follows an ending, late"
    made.append(
        (
            demo.start(
                "disruption",
                "l.jones",
                {
                    **placement(3),
                    "ending": {
                        "ended_by": "carer_notice",
                        "planned": True,
                        "ends_on": ended.isoformat(),
                        "new_placement_on": ended.isoformat(),
                    },
                },
                shows,
            ),
            shows,
        )
    )
    return made


def _complaints(demo: Demo) -> list[tuple[str, str]]:
    def complaint(number: int, requested: date) -> dict[str, Any]:
        received = requested - timedelta(days=27)
        return {
            "complainant": {"reference": f"Complainant D{number:02d}", "standing": "foster_carer"},
            "child": {
                "child": f"C-F{number:02d}",
                "iro": "t.adeyemi",
                "social_worker": "a.hussain",
            },
            "advocacy_offered": True,
            "advocacy": "declined",
            "received_on": received.isoformat(),
            "matter_known_on": (received - timedelta(days=12)).isoformat(),
            "stage1": {
                "received_on": received.isoformat(),
                "answered_on": (received + timedelta(days=13)).isoformat(),
                "response": "not upheld",
            },
            "stage2_requested_on": requested.isoformat(),
            "complaints_manager": "n.patel",
            "summary": "A fictional complaint for the demo: the carer says the plan ignored her view.",
        }

    def under_way(number: int, requested: date, shows: str) -> str:
        ref = demo.start("complaint", "n.patel", complaint(number, requested), shows)
        demo.record(ref, "eligibility", "n.patel", {"accepted": True}, demo.at(requested, 14))
        demo.record(
            ref,
            "acknowledgement",
            "n.patel",
            {"acknowledged_on": requested.isoformat()},
            demo.at(requested, 15),
        )
        statement = {
            "agreed_on": (requested + timedelta(days=3)).isoformat(),
            "points": [
                {"number": 1, "text": "the plan ignored the carer's view"},
                {"number": 2, "text": "no reply to letters"},
            ],
            "investigating_officer": "g.hart",
            "independent_person": "e.lund",
        }
        demo.record(
            ref,
            "stage2_appointments",
            "n.patel",
            statement,
            demo.at(requested + timedelta(days=3), 12),
        )
        return ref

    made: list[tuple[str, str]] = []
    shows = "a stage 2 request received two working days ago: to acknowledge and decide if eligible"
    made.append((demo.start("complaint", "n.patel", complaint(1, demo.ago(2)), shows), shows))
    shows = "a stage 2 investigation under way: its response due in a few weeks"
    made.append((under_way(2, demo.ago(10), shows), shows))
    shows = "a stage 2 investigation past its 25 working days: late"
    made.append((under_way(3, demo.ago(32), shows), shows))
    return made

"""The escalation engine's pure core: what is due at a moment, and who receives it. No database."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from models.cases.parties import CaseParties
from models.enums import Role
from models.escalation import (
    AckClock,
    ActionClock,
    Clocks,
    Directory,
    DueNotice,
    Kind,
    RationaleClock,
    StepClock,
    decide,
    resolve,
)
from models.policy import load_policy

POLICY = load_policy()
CALENDAR = POLICY.working_calendar()
LONDON = ZoneInfo("Europe/London")
REF = "ALG-2026-0001"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def step(name: str, due: date, **kw: object) -> StepClock:
    return StepClock(1, 1, REF, "allegation", name, 1, "lado-1", due, **kw)  # type: ignore[arg-type]


def keys(clocks: Clocks, when: str) -> list[str]:
    return [n.key.removeprefix(REF + "/") for n in decide(clocks, POLICY, CALENDAR, at(when))]


def test_a_reminder_comes_on_its_working_day_and_only_the_nearest_one() -> None:
    meeting = Clocks(steps=[step("allegation_meeting", date(2026, 11, 9))])  # reminder: 2 WD before
    assert keys(meeting, "2026-11-04T23:59") == []
    assert keys(meeting, "2026-11-05T00:00") == ["step:1@2026-11-09/reminder/2"]
    assert keys(meeting, "2026-11-09T23:59") == ["step:1@2026-11-09/reminder/2"]
    # Lapsed: no more reminder, the ladder's first rung instead.
    assert keys(meeting, "2026-11-10T00:00") == ["step:1@2026-11-09/lapsed/1"]


def test_rungs_count_working_days_after_lapse_across_christmas() -> None:
    # Due Thu 24 Dec 2026; rung 2 is 2 working days after lapse: Fri 25, Mon 28 (Boxing Day
    # substitute) are not working days, so rung 2 comes at the end of Wed 30 Dec.
    meeting = Clocks(steps=[step("allegation_meeting", date(2026, 12, 24))])
    assert keys(meeting, "2026-12-30T23:59") == ["step:1@2026-12-24/lapsed/1"]
    assert keys(meeting, "2026-12-31T00:00") == [
        "step:1@2026-12-24/lapsed/1",
        "step:1@2026-12-24/lapsed/2",
    ]


def test_a_sweep_that_runs_late_catches_up_every_rung_with_the_same_keys() -> None:
    consideration = Clocks(steps=[step("initial_consideration", date(2026, 11, 2))])
    late = keys(consideration, "2026-11-20T09:00")
    assert late == ["step:1@2026-11-02/lapsed/1", "step:1@2026-11-02/lapsed/2"]
    [first] = [n for n in decide(consideration, POLICY, CALENDAR, at("2026-11-20T09:00"))][:1]
    assert first.facts["working_days_late"] == 14
    assert first.notify == ("owner", "lado_manager")


def test_a_moved_due_day_is_a_new_clock() -> None:
    before = keys(Clocks(steps=[step("initial_consideration", date(2026, 11, 2))]), "2026-11-20")
    after = keys(Clocks(steps=[step("initial_consideration", date(2026, 11, 19))]), "2026-11-20")
    assert set(before).isdisjoint(after)


def test_a_stopped_clock_gives_only_its_latest_review() -> None:
    stopped = Clocks(
        steps=[step("outcome", date(2026, 12, 2), stop_id=7, stopped_at=at("2026-11-17T10:00"))]
    )
    assert keys(stopped, "2026-12-15T12:00") == []  # first review day (4 weeks): not yet passed
    assert keys(stopped, "2026-12-16T00:00") == ["stop:7/stop_review/1"]
    assert keys(stopped, "2027-01-13T09:00") == ["stop:7/stop_review/3"]  # 15 Dec, 29 Dec, 12 Jan
    assert keys(stopped, "2027-06-01T09:00") != []  # a stop never lapses, it keeps asking


def test_actions_climb_their_ladder() -> None:
    action = Clocks(
        actions=[ActionClock(3, 1, REF, "sw-1", date(2026, 11, 11), "allegation_meeting")]
    )
    assert keys(action, "2026-11-11T23:00") == []
    assert keys(action, "2026-11-12T09:00") == ["action:3@2026-11-11/action_overdue/1"]
    assert keys(action, "2026-11-19T00:00") == [
        "action:3@2026-11-11/action_overdue/1",
        "action:3@2026-11-11/action_overdue/2",
        "action:3@2026-11-11/action_overdue/3",
    ]


def test_a_missing_rationale_is_told_at_once_then_climbs() -> None:
    decision = RationaleClock(
        9,
        1,
        REF,
        "lado-1",
        "threshold_and_route",
        "initial_consideration",
        recorded_at=at("2026-11-05T10:00"),
        due_at=CALENDAR.end_of_day(date(2026, 11, 6)),
    )
    clocks = Clocks(rationales=[decision])
    assert keys(clocks, "2026-11-05T09:59") == []  # not recorded yet, as at then
    assert keys(clocks, "2026-11-05T10:00") == ["decision:9/rationale_missing/0"]
    assert keys(clocks, "2026-11-11T00:00") == [
        "decision:9/rationale_missing/0",
        "decision:9/rationale_lapsed/1",
        "decision:9/rationale_lapsed/2",
    ]


def test_an_unacknowledged_notice_goes_to_the_managers_above_its_recipients() -> None:
    ack = AckClock(
        notice_id=4,
        matter="step:1@2026-11-02",
        case_id=1,
        reference=REF,
        kind="lapsed",
        ack_due_at=at("2026-11-07T00:00"),
        recipients=("lado-1", "ladom-1"),
        depth=0,
    )
    [due] = decide(Clocks(acks=[ack]), POLICY, CALENDAR, at("2026-11-09T09:00"))
    assert (due.key, due.notify, due.matter) == (
        f"{REF}/notice:4/unacknowledged/1",
        ("owner_manager",),
        "step:1@2026-11-02",
    )
    told = resolve(due, PARTIES, DIRECTORY)
    assert told.people == {"hos-1": ["owner_manager"]}  # ladom-1 was told already
    assert decide(Clocks(acks=[ack]), POLICY, CALENDAR, at("2026-11-06T23:00")) == []


# --- who receives it ----------------------------------------------------------------------------

DIRECTORY = Directory(
    managers={
        "hos-1": None,
        "ladom-1": "hos-1",
        "lado-1": "ladom-1",
        "iro-1": "irom-1",
        "irom-1": "hos-1",
        "irom-2": "hos-1",
        "sw-1": "tm-1",
        "tm-1": "sm-1",
        "sm-1": "hos-1",
        "ssw-1": "tm-1",
        "gone-1": "hos-1",
    },
    roles={
        "hos-1": frozenset({Role.head_of_service}),
        "ladom-1": frozenset({Role.lado_manager}),
        "lado-1": frozenset({Role.lado}),
        "iro-1": frozenset({Role.iro}),
        "irom-1": frozenset({Role.iro_manager}),
        "irom-2": frozenset({Role.iro_manager}),
        "sw-1": frozenset({Role.social_worker}),
        "tm-1": frozenset({Role.team_manager}),
        "sm-1": frozenset({Role.service_manager}),
        "ssw-1": frozenset({Role.supervising_social_worker}),
    },  # gone-1 has left: not active
)
PARTIES = CaseParties(
    lead="lado-1",
    iros=("iro-1",),
    social_workers=("sw-1",),
    named={Role.lado: ("lado-1",)},
)


def notice(
    notify: tuple[str, ...], owners: tuple[str, ...] = ("lado-1",), **kw: object
) -> DueNotice:
    return DueNotice(
        key="k",
        case_id=1,
        reference=REF,
        clock="step:1",
        rung=1,
        due_at=at("2026-11-04T00:00"),
        notify=notify,
        owners=owners,
        **{"kind": Kind.lapsed, **kw},  # type: ignore[arg-type]
    )


def test_roles_resolve_in_the_case_first() -> None:
    told = resolve(notice(("owner", "iro_manager", "child_social_worker")), PARTIES, DIRECTORY)
    # irom-1 manages the child's IRO; irom-2 (another team) is not told.
    assert told.people == {
        "lado-1": ["owner"],
        "irom-1": ["iro_manager"],
        "sw-1": ["child_social_worker"],
    }
    assert told.unfilled == ()


def test_an_unassigned_owner_is_the_cases_own_person_in_the_steps_role() -> None:
    ssw = notice(("owner", "owner_manager"), owners=(), owner_role="supervising_social_worker")
    named = CaseParties(**{**PARTIES.__dict__, "named": {**PARTIES.named, Role.supervising_social_worker: ("ssw-1",)}})  # fmt: skip
    assert resolve(ssw, named, DIRECTORY).people == {"ssw-1": ["owner"], "tm-1": ["owner_manager"]}


def test_an_owner_is_never_everyone_in_the_role_a_missing_one_goes_to_the_leads_manager() -> None:
    """The SSW is not named in the case, and ssw-1 (who holds the role) is nowhere near it: not
    told; the LADO's manager is, and the notice says who is missing (issue 12, item 9)."""
    ssw = notice(("owner", "owner_manager"), owners=(), owner_role="supervising_social_worker")
    told = resolve(ssw, PARTIES, DIRECTORY)
    assert told.people == {
        "ladom-1": ["instead of the owner (nobody in the case is its supervising social worker)"]
    }
    assert told.unfilled == ("owner", "owner_manager")


def test_a_role_nobody_holds_goes_to_the_head_of_service_and_is_reported() -> None:
    told = resolve(notice(("owner", "complaints_manager", "director")), PARTIES, DIRECTORY)
    assert told.unfilled == ("complaints_manager", "director")
    assert told.people["hos-1"] == ["instead of complaints_manager, director (nobody holds it)"]


def test_escalation_never_runs_down_the_hierarchy() -> None:
    """A notice to the top of a chain goes to nobody below: a director's unacknowledged notice,
    with nobody above the director, stops (the head of service is not told in their place), and a
    stand-in for a manager nobody holds is never junior to the person the notice is about."""
    directory = Directory(
        managers={**DIRECTORY.managers, "dir-1": None, "hos-1": "dir-1"},
        roles={**DIRECTORY.roles, "dir-1": frozenset({Role.director})},
    )
    unacknowledged = notice(("owner_manager",), owners=("dir-1",), kind=Kind.unacknowledged, exclude=("dir-1",))  # fmt: skip
    told = resolve(unacknowledged, PARTIES, directory)
    assert (told.people, told.unfilled) == ({}, ("owner_manager",))
    # A rung naming the director's manager, nobody holding it: not the head of service either.
    assert resolve(notice(("owner", "owner_manager"), owners=("dir-1",)), PARTIES, directory).people == {"dir-1": ["owner"]}  # fmt: skip
    # Below the top, it still goes up: the LADO manager's unacknowledged notice to the head of service.
    below = notice(("owner_manager",), owners=("ladom-1",), kind=Kind.unacknowledged, exclude=("ladom-1",))  # fmt: skip
    assert resolve(below, PARTIES, directory).people == {"hos-1": ["owner_manager"]}


def test_someone_who_has_left_is_not_told_and_their_place_is_reported() -> None:
    told = resolve(notice(("owner",), owners=("gone-1",)), PARTIES, DIRECTORY)
    assert told.unfilled == ("owner",) and list(told.people) == ["hos-1"]


def test_one_person_by_several_routes_gets_one_notice_with_every_reason() -> None:
    told = resolve(notice(("owner", "case_lead")), PARTIES, DIRECTORY)
    assert told.people == {"lado-1": ["owner", "case_lead"]}


# --- reports: in time, in time with extension, late ------------------------------------------------


def test_reports_tell_in_time_extended_and_late_apart() -> None:
    from models.enums import StepStatus
    from models.tables import ClockStop, Extension, Step
    from models.views import timeliness

    def closed(on: str, due: date) -> Step:
        return Step(
            case_id=1,
            name="stage2_response",
            status=StepStatus.closed,
            opened_at=at("2026-11-02T09:00"),
            due_on=due,
            deadline_at=CALENDAR.end_of_day(due),
            closed_at=at(on + "T12:00"),
        )

    extension = Extension(
        case_id=1,
        step_id=1,
        extended_to="65 working days",
        reason="r",
        approver_id="cm-1",
        approver_role=Role.complaints_manager,
        recorded_by="cm-1",
        recorded_at=at("2026-11-20T09:00"),
        due_on_before=date(2026, 12, 7),
        due_on_after=date(2027, 2, 4),
    )
    stop = ClockStop(
        case_id=1,
        step_id=1,
        reason="police",
        approver_id="ladom-1",
        approver_role=Role.lado_manager,
        recorded_by="lado-1",
        stopped_at=at("2026-11-17T10:00"),
        due_on_before=date(2026, 12, 7),
    )
    today = date(2027, 3, 1)
    assert timeliness(closed("2026-12-07", date(2026, 12, 7)), [], [], CALENDAR, today) == "in time"
    assert timeliness(closed("2026-12-08", date(2026, 12, 7)), [], [], CALENDAR, today) == "late"
    extended = closed("2027-01-20", date(2027, 2, 4))
    assert timeliness(extended, [extension], [], CALENDAR, today) == "in time with extension"
    assert (
        timeliness(closed("2027-02-05", date(2027, 2, 4)), [extension], [], CALENDAR, today)
        == "late"
    )
    assert timeliness(extended, [], [stop], CALENDAR, today) == "in time (clock stopped)"
    # An extension recorded after the due day it moved (stored before such were refused) does not
    # make the step timely: it is late from that day, and still open past it is overdue.
    after_due = extension.model_copy(update={"recorded_at": at("2026-12-08T09:00")})
    assert timeliness(extended, [after_due], [], CALENDAR, today) == "late"
    still_open = extended.model_copy(update={"closed_at": None, "status": StepStatus.open})
    assert timeliness(still_open, [after_due], [], CALENDAR, date(2026, 12, 8)) == "overdue"
    assert timeliness(still_open, [extension], [], CALENDAR, date(2026, 12, 8)) == "open"
    # A person's own window that closed unused is neither in time nor late.
    window = closed("2026-12-07", date(2026, 12, 7)).model_copy(
        update={"status": StepStatus.lapsed}
    )
    assert timeliness(window, [], [], CALENDAR, today) == "window closed"
    running = Step(
        case_id=1,
        name="x",
        opened_at=at("2026-11-02T09:00"),
        due_on=date(2026, 12, 7),
        deadline_at=CALENDAR.end_of_day(date(2026, 12, 7)),
    )
    assert timeliness(running, [], [], CALENDAR, date(2026, 12, 7)) == "open"
    assert timeliness(running, [], [], CALENDAR, date(2026, 12, 8)) == "overdue"

"""The one write path for people, on SQLite and PostgreSQL: bad input is refused with one clear line
and stores nothing; good input is stored once; applying it is idempotent."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import cases, followup, steps, views
from models.db import session_scope
from models.errors import InputError
from models.policy import load_policy
from models.staff import add_staff
from models.tables import (
    Action,
    ActionUpdate,
    AuditEntry,
    Case,
    Decision,
    Rationale,
    Step,
    Submission,
)
from tests.builders import accept_any_address, person

POLICY = load_policy()
CALENDAR = POLICY.working_calendar()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 10, 19, 9, 15, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def case(engine: Engine) -> str:
    """A team, and an allegation case whose initial consideration is open."""
    with session_scope(engine) as session:
        add_staff(
            session=session,
            check_address=accept_any_address,
            now=NOW,
            people=[
                person("hos-1", "head_of_service"),
                person("ladom-1", "lado_manager", manager="hos-1"),
                person("lado-1", "lado", manager="ladom-1"),
                person("lado-2", "lado", manager="ladom-1"),
                person("iro-1", "iro"),
                person("sw-1", "social_worker"),
                person("ssw-1", "supervising_social_worker"),
            ],
        )
        started = start(session, "lado-1", {**START, "aware_on": "2026-10-15"})
        steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=started.id or 0,
            names=["initial_consideration"],
        )
        return started.reference


START = {
    "received_at": RECEIVED.isoformat(),
    "aware_on": "2026-10-19",
    "carer": "FC-0042",
    "fostering_service": "Northshire Fostering",
    "supervising_social_worker": "ssw-1",
    "children": [{"child": "C-1042", "iro": "iro-1", "social_worker": "sw-1"}],
    "category": "physical",
    "summary": "A child said a carer grabbed their arm.",
}


def start(session: Session, lado: str, payload: dict) -> Case:  # type: ignore[type-arg]
    return cases.start_case(
        session=session,
        policy=POLICY,
        calendar=CALENDAR,
        process="allegation",
        author_id=lado,
        payload=payload,
        now=NOW,
    )


def submit(
    engine: Engine,
    ref: str,
    step: str,
    payload: object,
    *,
    who: str = "lado-1",
    when: str | None = None,
    key: str | None = None,
) -> Submission:
    with session_scope(engine) as session:
        submission, _, _ = steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            author_id=who,
            payload=payload,
            at=at(when) if when else None,
            key=key,
            now=NOW,
        )
        return submission


def apply(engine: Engine, ref: str, step: str, sequence: int = 1) -> object:
    with session_scope(engine) as session:
        case_id = cases.get_case(session, ref).id or 0
        return steps.apply(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case_id,
            name=step,
            sequence=sequence,
            now=NOW,
        )


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(t)).one()
            for t in (Submission, Decision, Rationale, Action, ActionUpdate, AuditEntry)
        )


THRESHOLD = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"}


def test_the_case_starts_with_its_facts(engine: Engine, case: str) -> None:
    assert case == "ALG-2026-0001"
    with Session(engine) as session:
        view = views.case_view(
            session=session, policy=POLICY, calendar=CALENDAR, reference=case, now=NOW
        )
    assert (
        view["referral"]["late"] is True
    )  # aware Thu 15 Oct, referral Mon 19 Oct: over 1 working day
    assert [s["step"] for s in view["steps"]] == ["referral", "initial_consideration"]
    assert view["steps"][1]["due"] == "2026-10-20"  # 1 working day after the referral


@pytest.mark.parametrize(
    ("ref", "step", "payload", "who", "when", "message"),
    [
        (
            "ALG-2026-9999",
            "initial_consideration",
            THRESHOLD,
            "lado-1",
            None,
            "no case 'ALG-2026-9999'",
        ),
        (
            None,
            "initial_consideration",
            THRESHOLD,
            "nobody",
            None,
            "no staff member with id 'nobody'",
        ),
        (
            None,
            "outcome",
            {"category": "false"},
            "lado-1",
            None,
            "outcome is not open in ALG-2026-0001; open steps: initial_consideration",
        ),
        (
            None,
            "initial_consideration",
            THRESHOLD,
            "sw-1",
            None,
            "sw-1 may not record initial_consideration: that needs the role LADO",
        ),
        (
            None,
            "initial_consideration",
            {"threshold_met": "perhaps"},
            "lado-1",
            None,
            "threshold_met",
        ),
        (
            None,
            "initial_consideration",
            THRESHOLD,
            "lado-1",
            "2026-12-25T10:00",
            "is in the future",
        ),
        (
            None,
            "initial_consideration",
            THRESHOLD,
            "lado-1",
            "2026-10-18T10:00",
            "is before initial_consideration opened",
        ),
        (
            None,
            "tea_break",
            THRESHOLD,
            "lado-1",
            None,
            "'tea_break' is not a step of an allegation",
        ),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    engine: Engine,
    case: str,
    ref: str | None,
    step: str,
    payload: object,
    who: str,
    when: str | None,
    message: str,
) -> None:
    before = counts(engine)
    with pytest.raises(InputError) as caught:
        submit(engine, ref or case, step, payload, who=who, when=when)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert counts(engine) == before


def test_the_same_key_is_stored_once(engine: Engine, case: str) -> None:
    first = submit(
        engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00", key="k-1"
    )
    again = submit(
        engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00", key="k-1"
    )
    assert again.id == first.id
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 1
    with pytest.raises(InputError, match="already recorded"):
        submit(engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00")


def test_applying_twice_writes_once_and_returns_the_same(engine: Engine, case: str) -> None:
    submit(engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00")
    first = apply(engine, case, "initial_consideration")
    after_first = counts(engine)[:5]
    assert apply(engine, case, "initial_consideration") == first
    assert counts(engine)[:5] == after_first
    assert first == "allegation_meeting"
    with Session(engine) as session:
        step = session.exec(select(Step).where(Step.name == "initial_consideration")).one()
        assert step.status.value == "closed" and step.closed_at == at("2026-10-19T15:00")
        decision = session.exec(select(Decision)).one()
        assert decision.rationale_due_at is not None  # no rationale given: its clock runs
        assert decision.value == "threshold met (harm); next: an allegation management meeting"


def test_a_rationale_added_later_stops_showing_as_missing(engine: Engine, case: str) -> None:
    submit(engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00")
    apply(engine, case, "initial_consideration")
    with Session(engine) as session:
        decision_id = session.exec(select(Decision.id)).one()
        assert (
            views.status_rows(session=session, calendar=CALENDAR, now=NOW)[0]["rationale_missing"]
            == 1
        )
    with (
        pytest.raises(InputError, match=r"only lado-1 .* or their line managers"),
        session_scope(engine) as session,
    ):
        followup.add_rationale(
            session=session, decision_id=decision_id, text="why", author_id="lado-2", now=NOW
        )
    with session_scope(engine) as session:
        followup.add_rationale(
            session=session,
            decision_id=decision_id,
            text="clear disclosure",
            author_id="ladom-1",
            now=NOW,
        )
    with Session(engine) as session:
        assert (
            views.status_rows(session=session, calendar=CALENDAR, now=NOW)[0]["rationale_missing"]
            == 0
        )
        view = views.case_view(
            session=session, policy=POLICY, calendar=CALENDAR, reference=case, now=NOW
        )
    assert view["decisions"][0]["rationale"][0]["text"] == "clear disclosure"
    assert view["decisions"][0]["rationale_due"] is None


def test_meeting_actions_and_a_review_that_must_account_for_them(engine: Engine, case: str) -> None:
    submit(engine, case, "initial_consideration", THRESHOLD, when="2026-10-19T15:00")
    apply(engine, case, "initial_consideration")
    with session_scope(engine) as session:
        case_id = cases.get_case(session, case).id or 0
        steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case_id,
            names=["allegation_meeting"],
        )
    with pytest.raises(InputError, match="only the chair \\(lado-1\\) or a LADO manager"):
        submit(
            engine,
            case,
            "allegation_meeting",
            {"held_on": "2026-10-22", "attendees": ["lado"]},
            who="lado-2",
        )
    with pytest.raises(InputError, match="no staff member with id 'ghost'"):
        submit(
            engine,
            case,
            "allegation_meeting",
            {
                "held_on": "2026-10-22",
                "attendees": ["lado"],
                "actions": [{"title": "x", "owner": "ghost", "due": 2}],
            },
        )
    with pytest.raises(InputError, match="held_on: 2026-12-01 must fall between"):
        submit(
            engine,
            case,
            "allegation_meeting",
            {"held_on": "2026-12-01", "attendees": ["lado"]},
            when="2026-10-22T16:00",
        )
    submit(
        engine,
        case,
        "allegation_meeting",
        {
            "held_on": "2026-10-22",
            "attendees": ["lado", "police"],
            "actions": [
                {"title": "Visit", "owner": "sw-1", "due": 2},
                {"title": "Interview", "owner": "lado-1", "due": "2026-10-30"},
            ],
        },
        when="2026-10-22T16:00",
    )
    assert apply(engine, case, "allegation_meeting") is False
    with session_scope(engine) as session:
        [review] = steps.open_steps(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=case_id,
            names=["review_meeting"],
            sequence=1,
            now=datetime.fromisoformat("2026-10-22T16:05+01:00"),  # as the flow opens it
        )
        assert review.due_on == date(2026, 11, 19)  # none agreed: the policy's latest, 28 days
        ids = list(session.exec(select(Action.id).order_by(Action.id)))
    before = counts(engine)
    with pytest.raises(InputError, match=f"unaccounted for: {ids[1]} \\(Interview\\)"):
        submit(
            engine,
            case,
            "review_meeting",
            {
                "held_on": "2026-11-17",
                "attendees": ["lado"],
                "accounted": [{"action_id": ids[0], "status": "done"}],
            },
            when="2026-11-17T12:00",
        )
    assert counts(engine) == before

    # An owner updates their own action between meetings; someone else may not.
    with (
        pytest.raises(InputError, match="only the action's owner"),
        session_scope(engine) as session,
    ):
        followup.update_action(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            action_id=ids[0],
            status="done",
            reason=None,
            new_due=None,
            author_id="lado-2",
            now=NOW,
        )
    with session_scope(engine) as session:
        followup.update_action(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            action_id=ids[0],
            status="done",
            reason=None,
            new_due=None,
            author_id="sw-1",
            now=NOW,
        )
    submit(
        engine,
        case,
        "review_meeting",
        {
            "held_on": "2026-11-17",
            "attendees": ["lado"],
            "carer_told_on": "2026-11-17",
            "ready_for_outcome": True,
            "accounted": [
                {
                    "action_id": ids[1],
                    "status": "carried_forward",
                    "reason": "police delay",
                    "new_due": 3,
                }
            ],
        },
        when="2026-11-17T12:00",
    )
    assert apply(engine, case, "review_meeting") is True
    with Session(engine) as session:
        actions = session.exec(select(Action).order_by(Action.id)).all()
        assert [(a.status.value, a.due_on) for a in actions] == [
            ("done", date(2026, 10, 26)),
            ("open", date(2026, 11, 20)),
        ]
        rows = views.status_rows(session=session, calendar=CALENDAR, now=NOW)
    assert (
        rows[0]["reference"] == case and rows[0]["actions_overdue"] == 1
    )  # due Fri 20 Nov, now 27 Nov


def test_a_case_reference_counts_up_per_year(engine: Engine, case: str) -> None:
    with session_scope(engine) as session:
        second = start(
            session,
            "lado-2",
            {**START, "received_at": "2026-11-02T10:00:00+00:00", "aware_on": "2026-11-02"},
        )
        assert second.reference == "ALG-2026-0002"
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 2


@pytest.mark.parametrize(
    ("lado", "change", "message"),
    [
        ("sw-1", {}, "sw-1 may not start an allegation case"),
        (
            "lado-1",
            {"received_at": "2027-01-04T10:00"},
            "received_at: 2027-01-04 10:00 is in the future",
        ),
        ("lado-1", {"aware_on": "2026-10-20"}, "cannot become aware after"),
        ("lado-1", {"children": []}, "name at least one child"),
        (
            "lado-1",
            {"children": [{"child": "C-1", "iro": "sw-1", "social_worker": "sw-1"}]},
            "children.0.iro: sw-1 does not hold the role IRO",
        ),
        (
            "lado-1",
            {"children": [{"child": "C-1", "iro": "iro-1", "social_worker": "nobody"}]},
            "children.0.social_worker: no staff member with id 'nobody'",
        ),
        (
            "lado-1",
            {"children": [START["children"][0], START["children"][0]]},  # type: ignore[index]
            "a child is listed twice",
        ),
        ("lado-1", {"summary": "  "}, "summary: is required (it is blank)"),
        ("lado-1", {"summary": None}, "summary"),
        ("lado-1", {"colour": "red"}, "colour: is not a field of allegation start"),
    ],
)
def test_a_bad_start_stores_nothing(
    engine: Engine,
    case: str,
    lado: str,
    change: dict,  # type: ignore[type-arg]
    message: str,
) -> None:
    with pytest.raises(InputError, match=re.escape(message)), session_scope(engine) as session:
        start(session, lado, {**START, **change})
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1


def test_an_unknown_process_is_refused_naming_those_there_are(engine: Engine, case: str) -> None:
    with (
        pytest.raises(InputError, match="'tea' is not a process; processes: allegation"),
        session_scope(engine) as session,
    ):
        cases.start_case(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            process="tea",
            author_id="lado-1",
            payload=START,
            now=NOW,
        )

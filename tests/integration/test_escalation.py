"""The escalation engine end to end on SQLite and PostgreSQL, with a real SMTP server (aiosmtpd)
receiving every notice through Apprise. The clock is injected: each sweep runs "as at" a moment,
nothing sleeps.

The time-travel test takes one allegation case through a lapsed initial consideration and its ladder,
a decision recorded without rationale (and the rationale given late), an overdue action climbing the
line-management chain, an unacknowledged notice going up, and a police stop of the outcome clock
with its review and resume.
"""

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import departures, followup, views
from models.db import session_scope
from models.errors import InputError
from models.escalation import Kind
from models.tables import AuditEntry, Case, ClockStop, Notice, Step
from notifications.notices import acknowledge
from notifications.run_tags import case_tags
from safeguard.orchestration import merged
from tests.cases import (
    CALENDAR,
    CARER_NAME,
    CHILD_NAME,
    NARRATIVE,
    POLICY,
    Inbox,
    add_team,
    at,
    notice_id,
    open_step,
    record,
    start_case,
    sweep,
)
from tests.smtp import SmtpServer


def run_tags(engine: Engine, when: str) -> list[str]:
    """The tags the sweep keeps on the case's run, as at `when` (the Prefect side: the sweep flow's
    test, tests/flows/test_sweep_flow.py)."""
    with Session(engine) as session:
        return case_tags(session, POLICY, CALENDAR, at(when))["run-1"]


def test_one_case_through_its_escalations(engine: Engine, smtp: SmtpServer) -> None:
    add_team(engine, smtp)
    ref = start_case(engine)
    open_step(engine, ref, "outcome")  # as the flow does: the time to outcome runs from referral
    with session_scope(engine) as session:
        session.exec(select(Case).where(Case.reference == ref)).one().flow_run_id = "run-1"
    inbox = Inbox(smtp)

    # Tue 3 Nov: the initial consideration is due today; nothing is late, it has no reminder. The
    # child's IRO and social worker are told the case started, for information (the flow tells
    # them at once; here, with no flow, the sweep does).
    assert [w.kind for w in sweep(engine, at("2026-11-03T12:00")).written] == ["information"]
    assert inbox.new() == sorted([("iro-1", "For information"), ("sw-1", "For information")])
    assert run_tags(engine, "2026-11-03T12:00") == []

    # Wed 4 Nov: lapsed. Rung 1 to the owner and the LADO manager; a second sweep sends nothing.
    sweep(engine, at("2026-11-04T09:00"))
    assert inbox.new() == sorted([("ladom-1", "LATE (rung 1)"), ("lado-1", "LATE (rung 1)")])
    assert run_tags(engine, "2026-11-04T09:00") == ["late", "rung-1"]
    report = sweep(engine, at("2026-11-04T09:20"))
    assert (report.written, report.already_written, inbox.new()) == ([], 1, [])

    # Thu 5 Nov: rung 2 (1 working day after lapse) to the head of service.
    sweep(engine, at("2026-11-05T09:00"))
    assert inbox.new() == sorted([("hos-1", "LATE (rung 2)")])
    assert run_tags(engine, "2026-11-05T09:00") == ["late", "rung-2"]
    # The LADO acknowledges rung 1: it will not go up for being unacknowledged.
    with session_scope(engine) as session:
        acknowledge(
            session,
            notice_id=notice_id(engine, "lapsed", "lado-1"),
            staff_id="lado-1",
            now=at("2026-11-05T09:05"),
        )

    # The decision is recorded late and without its rationale; the meeting step opens.
    record(
        engine,
        ref,
        "initial_consideration",
        {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
        at("2026-11-05T10:00"),
        late_reason="the LADO was in court on Tuesday and Wednesday",  # late, with its reason
    )
    open_step(engine, ref, "allegation_meeting")
    sweep(engine, at("2026-11-05T10:30"))
    assert run_tags(engine, "2026-11-05T10:30") == []  # recorded: its ladder is over
    assert inbox.new() == sorted(
        [
            ("iro-1", "Decision without rationale"),  # the child's IRO, at once
            ("ladom-1", "Decision without rationale"),  # the decision-maker's line manager
            ("lado-1", "Reminder"),  # the meeting is due Mon 9 Nov: 2 working days' reminder
            ("iro-1", "For information"),  # the route decided: the IRO and social worker told
            ("sw-1", "For information"),
        ]
    )

    # Mon 9 Nov: the rationale clock lapsed at the end of Fri 6 Nov: rung 1 (owner, manager, IRO).
    # The meeting is held today, agreeing an action for the social worker due in 2 working days.
    sweep(engine, at("2026-11-09T09:00"))
    assert inbox.new() == sorted(
        [
            ("iro-1", "Rationale LATE (rung 1)"),
            ("ladom-1", "Rationale LATE (rung 1)"),
            ("lado-1", "Rationale LATE (rung 1)"),
        ]
    )
    record(
        engine,
        ref,
        "allegation_meeting",
        {
            "held_on": "2026-11-09",
            "attendees": ["lado", "social worker", "police"],
            "actions": [{"title": f"Visit {CHILD_NAME}", "owner": "sw-1", "due": 2}],
        },
        at("2026-11-09T15:00"),
    )

    # Tue 10 Nov 09:00: nobody acknowledged "decision without rationale" (due by the end of Mon 9
    # Nov) and it is still missing: it goes to the managers of those told (LADO manager → head of
    # service; IRO → IRO manager). Rationale rung 2 (2 working days) is not due until Wed.
    sweep(engine, at("2026-11-10T09:00"))
    assert inbox.new() == sorted([("hos-1", "Not acknowledged"), ("irom-1", "Not acknowledged")])
    # The rationale arrives late, at 11:00: no further rationale notices, no further escalation.
    with session_scope(engine) as session:
        decision_id = views.case_view(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            now=at("2026-11-10T11:00"),
        )["decisions"][0]["id"]
        followup.add_rationale(
            session=session,
            decision_id=decision_id,
            text="Harm limb met: injury reported.",
            author_id="lado-1",
            now=at("2026-11-10T11:00"),
        )
    sweep(engine, at("2026-11-11T09:00"))
    assert inbox.new() == sorted([])

    # Thu 12 Nov: the action (due Wed 11 Nov) is overdue: its owner and the case lead.
    sweep(engine, at("2026-11-12T09:00"))
    assert inbox.new() == sorted(
        [("lado-1", "Action overdue (rung 1)"), ("sw-1", "Action overdue (rung 1)")]
    )
    # Mon 16 Nov: 2 working days after: the owner's line manager.
    sweep(engine, at("2026-11-16T09:00"))
    assert ("tm-1", "Action overdue (rung 2)") in inbox.new()

    # Tue 17 Nov: the police investigate: the outcome clock (due Wed 2 Dec) stops. A LADO is too
    # junior to approve it: refused, nothing changed.
    with (
        pytest.raises(InputError, match=r"lado-2 .* too junior .* LADO manager or more senior"),
        session_scope(engine) as session,
    ):
        departures.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            reason="police investigation",
            approver_id="lado-2",
            recorded_by="lado-1",
            now=at("2026-11-17T10:00"),
        )
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ClockStop)).one() == 0
    with session_scope(engine) as session:
        departures.stop(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            reason="police investigation (Op. Heron)",
            approver_id="ladom-1",
            recorded_by="lado-1",
            now=at("2026-11-17T10:00"),
        )
    # Fri 20 Nov: action rung 3 (5 working days) to the senior manager and the LADO manager; and
    # nobody acknowledged rungs 1 and 2 (due by the end of Mon 16 and Wed 18 Nov): each goes to the
    # managers of those it went to (lado-1 → ladom-1, sw-1 → tm-1; tm-1 → sm-1).
    sweep(engine, at("2026-11-20T09:00"))
    assert run_tags(engine, "2026-11-20T09:00") == ["late", "rung-3", "clock-stopped"]
    assert inbox.new() == sorted(
        [
            ("ladom-1", "Action overdue (rung 3)"),
            ("sm-1", "Action overdue (rung 3)"),
            ("ladom-1", "Not acknowledged"),
            ("tm-1", "Not acknowledged"),
            ("sm-1", "Not acknowledged"),
        ]
    )
    with session_scope(engine) as session:
        followup.update_action(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            action_id=1,
            status="done",
            reason=None,
            new_due=None,
            author_id="sw-1",
            now=at("2026-11-20T10:00"),
        )

    # Thu 3 Dec: past the outcome's due day, but its clock is stopped: no lapse, no reminder.
    sweep(engine, at("2026-12-03T09:00"))
    assert inbox.new() == sorted([])
    assert run_tags(engine, "2026-12-03T09:00") == ["clock-stopped"]  # the action is done
    # Wed 16 Dec: the first review (4 weeks from Tue 17 Nov: Tue 15 Dec) has passed.
    sweep(engine, at("2026-12-16T09:00"))
    assert inbox.new() == sorted(
        [
            ("ladom-1", "Stopped clock review 1 due"),
            ("lado-1", "Stopped clock review 1 due"),
        ]
    )

    # Mon 4 Jan 2027: the police finish; the clock runs again, its due day moved on by the working
    # days it stood still (after Tue 17 Nov up to Mon 4 Jan: 31, bank holidays excluded).
    with session_scope(engine) as session:
        resumed = departures.resume(
            session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name="outcome",
            recorded_by="lado-1",
            now=at("2027-01-04T09:00"),
        )
        assert resumed.working_days_stopped == 31
        assert resumed.due_on_after == date(2027, 1, 19)
    sweep(engine, at("2027-01-11T09:00"))
    assert inbox.new() == []
    sweep(engine, at("2027-01-12T09:00"))  # 5 working days before Tue 19 Jan: the reminder
    assert inbox.new() == sorted([("lado-1", "Reminder")])
    sweep(engine, at("2027-01-20T09:00"))  # lapsed on the moved due day: a fresh ladder
    assert inbox.new() == sorted(
        [("iro-1", "LATE (rung 1)"), ("ladom-1", "LATE (rung 1)"), ("lado-1", "LATE (rung 1)")]
    )  # the child's IRO is on the first rung of the outcome's ladder
    assert run_tags(engine, "2027-01-20T09:00") == ["late", "rung-1"]

    # Every kind of notice was rendered and sent in this case.
    with Session(engine) as session:
        kinds = set(session.exec(select(Notice.kind)).all())
    # (a record the flow could not apply: tests/hostile/test_no_case_stuck.py; a step recorded
    # late that the policy tells at once: the disruption tests; names checked there; an invitation
    # is about no case: tests/web/test_invitations.py)
    assert kinds == {k.value for k in Kind} - {
        Kind.submission_failed.value,
        Kind.recorded_late.value,
        Kind.invitation.value,
    }
    # Every message went once: no (recipient, subject) twice.
    pairs = [(m.to, m.subject) for m in smtp.received]
    assert len(pairs) == len(set(pairs))
    # No name, no narrative in any notice, in the outbox or in the mail.
    for mail in smtp.received:
        for secret in (CHILD_NAME, CARER_NAME, NARRATIVE, "Zebedee", "Brackenridge", "FC-77"):
            assert (
                secret not in mail.text and secret not in mail.html and secret not in mail.subject
            )
    with Session(engine) as session:
        stops = session.exec(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(["clock.stop", "clock.resume", "notice.acknowledge"]))
        ).one()  # type: ignore[attr-defined]
        assert stops == 3
        step = session.exec(select(Step).where(Step.name == "outcome")).one()
        assert step.due_on == date(2027, 1, 19)


def test_the_sweep_replaces_its_own_run_tags_and_keeps_the_rest() -> None:
    current = ["allegation", "ALG-2026-0001", "late", "rung-1", "urgent"]
    assert merged(current, ["late", "rung-2"]) == ["allegation", "ALG-2026-0001", "urgent", "late", "rung-2"]  # fmt: skip
    assert merged(current, []) == ["allegation", "ALG-2026-0001", "urgent"]

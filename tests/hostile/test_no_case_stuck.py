"""No case left stuck, on SQLite and PostgreSQL: a stored record the flow cannot apply never poisons
the case (it is kept, marked failed with the reason, the step takes a corrected record, and the
case lead and its author are told at once), instead of a replay that fails for ever while every
correction is refused as "already recorded"."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import cases, steps, views
from models.db import session_scope
from models.errors import InputError
from models.tables import Step, Submission
from notifications.sweep import tell_at_once
from tests.cases import (
    CALENDAR,
    CARER_NAME,
    CHILD_NAME,
    NARRATIVE,
    POLICY,
    add_team,
    at,
    open_step,
    record,
    start_case,
)
from tests.smtp import SmtpServer

WHEN = at("2026-11-02T15:00")


def plant(engine: Engine, ref: str, step: str, payload: dict) -> int:  # type: ignore[type-arg]
    """Store a submission as a past version of the code might have (not through `submit`)."""
    with session_scope(engine) as session:
        case = cases.get_case(session, ref)
        opened = session.exec(select(Step).where(Step.case_id == case.id, Step.name == step)).one()
        submission = Submission(
            case_id=case.id or 0,
            step_id=opened.id,
            kind=step,
            author_id="lado-1",
            author_role="lado",  # type: ignore[arg-type]
            effective_at=WHEN,
            recorded_at=WHEN,
            payload=payload,
        )
        session.add(submission)
        session.flush()
        return submission.id or 0


def advance(engine: Engine, ref: str, step: str) -> steps.Progress:
    with session_scope(engine) as session:
        return steps.advance(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            case_id=cases.get_case(session, ref).id or 0,
            names=[step],
            sequence=1,
            key=steps.wait_key(step),
            now=datetime(2026, 11, 2, 16, tzinfo=UTC),
        )


@pytest.mark.parametrize(
    ("step", "payload", "reason"),
    [
        (
            "initial_consideration",
            {"threshold_met": "perhaps", "route": "advice"},
            "initial_consideration: threshold_met: Input should be a valid boolean",
        ),
        (
            "allegation_meeting",
            {
                "held_on": "2026-11-02",
                "attendees": ["lado"],
                "actions": [{"title": "Visit", "owner": "ghost", "due": 2}],
            },
            "the database refused it",
        ),
    ],
    ids=["unreadable", "refused-by-the-database"],
)
def test_a_record_that_cannot_be_applied_is_failed_told_and_replaced(
    engine: Engine,
    smtp: SmtpServer,
    step: str,
    payload: dict,
    reason: str,  # type: ignore[type-arg]
) -> None:
    add_team(engine, smtp)
    ref = start_case(engine)
    if step == "allegation_meeting":
        record(
            engine,
            ref,
            "initial_consideration",
            {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"},
            at("2026-11-02T12:00"),
        )
        open_step(engine, ref, step)
    planted = plant(engine, ref, step, payload)

    progress = advance(engine, ref, step)
    assert progress.failed_now == [step] and progress.waiting == [step]
    assert advance(engine, ref, step).failed_now == []  # a replay fails nothing twice
    with Session(engine) as session:
        failed = session.get(Submission, planted)
        assert failed is not None and failed.failed_at is not None
        assert reason in (failed.failure or "")
        assert "ghost" not in (failed.failure or "")  # the reason names no value
        opened = session.exec(select(Step).where(Step.name == step)).one()
        assert opened.status.value == "open"
        view = views.case_view(
            session=session, policy=POLICY, calendar=CALENDAR, reference=ref, now=WHEN
        )
    assert [(f["submission"], f["step"]) for f in view["not_applied"]] == [(planted, step)]

    later = datetime(2026, 11, 2, 16, 5, tzinfo=UTC)
    tell_at_once(engine, policy=POLICY, calendar=CALENDAR, case_id=1, now=later)
    mails = [m for m in smtp.received if "Not applied" in m.subject]
    for mail in mails:  # no name, no narrative (DESIGN rule 8)
        for secret in (CHILD_NAME, CARER_NAME, NARRATIVE):
            assert secret not in mail.text + mail.html + mail.subject
    told = [(m.to[0].split("@")[0], m.subject) for m in mails]
    title = POLICY.process("allegation").steps[step].title
    assert told == [("lado-1", f"Not applied: {ref} {title} must be recorded again")]

    # The correction is taken, not refused as "already recorded", and the case moves on.
    corrected = (
        {
            "threshold_met": False,
            "route": "advice",
            "rationale": "single agency",
            "approved_by": "ladom-1",
            "follow_up": "supervision visit",
        }
        if step == "initial_consideration"
        else {**payload, "actions": [{"title": "Visit", "owner": "sw-1", "due": 2}]}
    )
    with session_scope(engine) as session:
        steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            author_id="lado-1",
            payload=corrected,
            at=at("2026-11-02T15:30"),
            key=None,
            now=at("2026-11-02T15:30"),
        )
    with pytest.raises(InputError, match="was already recorded"), session_scope(engine) as session:
        steps.submit(
            session=session,
            policy=POLICY,
            calendar=CALENDAR,
            reference=ref,
            step_name=step,
            author_id="lado-1",
            payload=corrected,
            at=at("2026-11-02T15:30"),
            key=None,
            now=at("2026-11-02T15:30"),
        )
    progress = advance(engine, ref, step)
    assert progress.applied_now == [step] and progress.waiting == []


def test_record_says_honestly_when_the_service_goes_away_after_storing(
    engine: Engine,
    database_url: str,
    smtp: SmtpServer,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import contextlib
    import json

    import httpx

    from safeguard import orchestration

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    add_team(engine, smtp)
    ref = start_case(engine)
    with session_scope(engine) as session:
        cases.set_flow_run(
            session=session,
            case_id=cases.get_case(session, ref).id or 0,
            flow_run_id="5b0e6f3a-0000-4000-8000-000000000001",
            now=WHEN,
        )
    # Prefect answered when the record was checked, then went away before the run was resumed.
    monkeypatch.setattr(orchestration, "check_api", lambda settings: "http://127.0.0.1:9/api")
    monkeypatch.setattr(orchestration, "prefect_api", lambda settings: contextlib.nullcontext())

    def gone(run_id: str, key: str) -> bool:
        raise httpx.ConnectError("Connection refused")

    monkeypatch.setattr(orchestration, "resume_if_waiting", gone)
    path = tmp_path / "ic.json"
    path.write_text(
        json.dumps(
            {
                "threshold_met": False,
                "route": "advice",
                "rationale": "r",
                "approved_by": "ladom-1",
                "follow_up": "f",
            }
        )
    )
    from safeguard.cli import main

    code = main(
        ["record", ref, "initial_consideration", "--as", "lado-1", "--input", str(path),
         "--at", "2026-11-02T15:00", "--wait", "2"]
    )  # fmt: skip
    assert code == 0
    with Session(engine) as session:
        [stored] = session.exec(select(Submission)).all()
    assert stored.applied_at is None  # stored; the flow will apply it when the service is back


def test_record_output_when_the_service_is_gone(
    engine: Engine,
    database_url: str,
    smtp: SmtpServer,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from safeguard import orchestration
    from safeguard.cli import main

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    add_team(engine, smtp)
    ref = start_case(engine)
    monkeypatch.setattr(orchestration, "check_api", lambda settings: "http://127.0.0.1:9/api")

    def stopped_answering(settings):  # type: ignore[no-untyped-def]
        raise InputError("Prefect does not answer at http://127.0.0.1:9/api")

    monkeypatch.setattr(orchestration, "prefect_api", stopped_answering)
    path = tmp_path / "ic.json"
    path.write_text(
        json.dumps(
            {
                "threshold_met": False,
                "route": "advice",
                "rationale": "r",
                "approved_by": "ladom-1",
                "follow_up": "f",
            }
        )
    )
    code = main(
        ["record", ref, "initial_consideration", "--as", "lado-1", "--input", str(path),
         "--at", "2026-11-02T15:00", "--wait", "1"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0 and "Traceback" not in out.err
    assert "stored as submission 1; the service does not answer now: the case will move on" in (
        out.out
    )
    assert "not applied" not in out.out


def test_a_record_made_while_prefect_is_down_is_kept_and_said_so(
    engine: Engine,
    database_url: str,
    smtp: SmtpServer,
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """DESIGN rule 13, the CLI as the browser: with nothing answering at PREFECT_API_URL, `record`
    stores the step (once: the same key again stores nothing more) and says the case moves on
    when the service is back; it is not refused."""
    import json

    from safeguard.cli import main

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens there
    add_team(engine, smtp)
    ref = start_case(engine)
    path = tmp_path / "ic.json"
    path.write_text(json.dumps({"threshold_met": False, "route": "advice", "rationale": "r", "approved_by": "ladom-1", "follow_up": "f"}))  # fmt: skip
    argv = ["record", ref, "initial_consideration", "--as", "lado-1", "--input", str(path), "--at", "2026-11-02T15:00", "--key", "down-1", "--wait", "5"]  # fmt: skip
    for _ in range(2):
        assert main(argv) == 0
        said = capsys.readouterr().out
        assert "stored as submission 1; the service does not answer now: the case will move on" in said  # fmt: skip
    with Session(engine) as session:
        [stored] = session.exec(select(Submission)).all()
    assert stored.applied_at is None and stored.idempotency_key == "down-1"

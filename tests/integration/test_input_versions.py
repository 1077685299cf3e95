"""Stored inputs survive schema changes, on SQLite and PostgreSQL: a submission records the version
of its step's input; after the schema changes, applying it (as a replay of a case started months
ago would) reads it through the declared upgrade and writes the same records."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import cases, registry, steps
from models.db import session_scope
from models.errors import InputError
from models.inputs import StepInput, Text
from models.policy import load_policy
from models.process import ApplyContext, StepDecl
from models.staff import add_staff
from models.tables import Decision, Rationale, Submission
from tests.builders import accept_any_address, person
from tests.toy.process import ASSESS, PROCESS, Verdict

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class AssessmentV2(StepInput):
    """Version 2 of the toy's assessment: `verdict` became `decision`, `rationale` `reasons`."""

    decision: Verdict
    reasons: Text | None = None


def assess_v2(ctx: ApplyContext, data: AssessmentV2) -> None:
    ctx.decide("assessment", data.decision.value, data.reasons)
    ctx.event("assessed", ctx.at)


ASSESS_V2: StepDecl[AssessmentV2, Verdict] = StepDecl(
    name="assess",
    input=AssessmentV2,
    may_record=ASSESS.may_record,
    apply=assess_v2,
    result=lambda data: data.decision,
    example={"decision": "fix", "reasons": "..."},
    version=2,
    upgrades={1: lambda old: {"decision": old["verdict"], "reasons": old.get("rationale")}},
)
PROCESS_V2 = replace(PROCESS, steps=(ASSESS_V2, *PROCESS.steps[1:]))


@pytest.fixture
def policy():  # type: ignore[no-untyped-def]
    registry.discover(["tests.toy.process"])
    return load_policy(None, registry.policy_files())


def _case(engine: Engine, policy, number: int) -> str:  # type: ignore[no-untyped-def]
    calendar = policy.working_calendar()
    with session_scope(engine) as session:
        if number == 1:
            add_staff(
                session=session,
                check_address=accept_any_address,
                now=NOW,
                people=[
                    person("tm-1", "team_manager"),
                    person("iro-1", "iro"),
                    person("sw-1", "social_worker"),
                ],
            )
        case = cases.start_case(
            session=session,
            policy=policy,
            calendar=calendar,
            process="toy",
            author_id="tm-1",
            payload={
                "raised_at": "2026-11-02T09:00",
                "child": f"C-{number}",
                "iro": "iro-1",
                "social_worker": "sw-1",
                "summary": "s",
            },
            now=NOW,
        )
        steps.open_steps(
            session=session,
            policy=policy,
            calendar=calendar,
            case_id=case.id or 0,
            names=["assess"],
        )
        steps.submit(
            session=session,
            policy=policy,
            calendar=calendar,
            reference=case.reference,
            step_name="assess",
            author_id="tm-1",
            payload={"verdict": "drop", "rationale": "not ours"},
            at=datetime(2026, 11, 3, 10, tzinfo=UTC),
            key=None,
            now=NOW,
        )
        return case.reference


def _apply(engine: Engine, policy, reference: str) -> object:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return steps.apply(
            session=session,
            policy=policy,
            calendar=policy.working_calendar(),
            case_id=cases.get_case(session, reference).id or 0,
            name="assess",
            sequence=1,
            now=NOW,
        )


def _records(engine: Engine, reference: str) -> list[tuple[str, str, str | None]]:
    with Session(engine) as session:
        case = cases.get_case(session, reference)
        rows = session.exec(
            select(Decision, Rationale)
            .join(Rationale, Rationale.decision_id == Decision.id, isouter=True)  # type: ignore[arg-type]
            .where(Decision.case_id == case.id)
        ).all()
        return [(d.kind, d.value, r.text if r else None) for d, r in rows]


def test_an_input_stored_under_version_1_replays_to_the_same_records_under_version_2(
    engine: Engine, policy, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    before = _case(engine, policy, 1)
    assert _apply(engine, policy, before) is Verdict.drop  # applied under version 1
    stored_long_ago = _case(engine, policy, 2)  # stored under version 1, not yet applied
    with Session(engine) as session:
        assert {s.schema_version for s in session.exec(select(Submission))} == {1}

    monkeypatch.setitem(registry._registered, "toy", PROCESS_V2)  # the schema changes
    with pytest.raises(ValidationError):  # version 1's fields mean nothing to version 2 ...
        AssessmentV2.model_validate({"verdict": "drop", "rationale": "not ours"})
    assert _apply(engine, policy, stored_long_ago) is Verdict.drop  # ... but the upgrade reads it
    assert _records(engine, stored_long_ago) == _records(engine, before)
    assert _records(engine, before) == [("assessment", "drop", "not ours")]
    assert _apply(engine, policy, stored_long_ago) is Verdict.drop  # a replay writes nothing more
    assert _records(engine, stored_long_ago) == [("assessment", "drop", "not ours")]


def test_a_new_version_without_its_upgrade_is_refused_when_registered() -> None:
    broken = replace(PROCESS_V2, code="toy_broken", steps=(replace(ASSESS_V2, upgrades={}),))
    with pytest.raises(InputError, match="step assess is at version 2 but has no upgrade from"):
        registry.register(broken)
    assert "toy_broken" not in registry.codes()

"""The toy process, declared: a matter about a child is raised, assessed (fix it or drop it, with
reasons), then resolved. Registered by naming this module in SAFEGUARD_PROCESSES."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from models.enums import Role
from models.inputs import PastMoment, Ref, StaffId, StepDay, StepInput, Text, staff
from models.process import ApplyContext, ProcessDecl, StartPlan, StepDecl


class Raised(StepInput):
    raised_at: PastMoment
    child: Ref
    iro: Annotated[StaffId, staff(Role.iro)]
    social_worker: Annotated[StaffId, staff(Role.social_worker)]
    summary: Text


def start(plan: StartPlan, new: Raised) -> None:
    plan.opened_at = new.raised_at
    plan.details = {"summary": new.summary}
    plan.child(new.child, new.iro, new.social_worker)
    plan.event("raised", new.raised_at)


class Verdict(StrEnum):
    fix = "fix"
    drop = "drop"


class Assessment(StepInput):
    verdict: Verdict
    rationale: Text | None = None
    investigator: Annotated[StaffId, staff(Role.investigating_officer)] | None = None


def assess(ctx: ApplyContext, data: Assessment) -> None:
    ctx.decide("assessment", data.verdict.value, data.rationale)
    if data.investigator:  # named in the case: the resolve step (owned by that role) is theirs
        ctx.party(Role.investigating_officer, data.investigator)
    ctx.event("assessed", ctx.at)


class Resolution(StepInput):
    resolved_on: StepDay
    note: Text


ASSESS: StepDecl[Assessment, Verdict] = StepDecl(
    name="assess",
    input=Assessment,
    may_record=frozenset({Role.team_manager}),
    apply=assess,
    result=lambda data: data.verdict,
    example={"verdict": "fix", "rationale": "..."},
)
RESOLVE: StepDecl[Resolution, None] = StepDecl(
    name="resolve",
    input=Resolution,
    may_record=frozenset({Role.team_manager, Role.social_worker}),
    example={"resolved_on": "2026-11-06", "note": "..."},
)

PROCESS: ProcessDecl[Raised] = ProcessDecl(
    code="toy",
    noun="a toy matter",
    start_input=Raised,
    start_example={
        "raised_at": "2026-11-02T09:00",
        "child": "C-1",
        "iro": "iro-1",
        "social_worker": "sw-1",
        "summary": "...",
    },
    may_start=frozenset({Role.team_manager}),
    lead_role=Role.team_manager,
    overseer=Role.service_manager,
    start=start,
    steps=(ASSESS, RESOLVE),
    flow="tests.toy.flow:toy",
    policy_file=str(Path(__file__).with_name("toy.toml")),
)

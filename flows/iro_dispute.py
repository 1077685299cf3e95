"""The IRO's challenge (dispute resolution) as a Prefect flow: one case, one flow run (DESIGN rule
1). It reads like the IRO Handbook's chapter 6; the steps are declared in
models/processes/iro_dispute.py.
"""

from prefect import flow

from flows.steps import alongside, announce, facts, human_step
from models.processes.iro_dispute import (
    CAFCASS_DECISION,
    CAFCASS_REFERRAL,
    FORMAL_TOTAL,
    INFORMAL_RESOLUTION,
    RESPONSE_CONSIDERED,
    RESPONSES,
    Stage,
)
from tasks.steps import close_case


@flow(name="iro_dispute", persist_result=True, log_prints=True)
def iro_dispute(case_id: int) -> str:
    """Run one challenge from the informal stage up the authority's seniority to its end."""
    announce(case_id)  # the IRO's manager knows of every challenge
    alongside(case_id, [CAFCASS_REFERRAL])  # at any point, beside the stages, never instead
    stage = human_step(case_id, INFORMAL_RESOLUTION)  # None: resolved informally
    if stage is not None:  # the formal process: 20 working days in all, beside each stage's own
        alongside(case_id, [FORMAL_TOTAL])
    responses = 0
    while stage is not None:  # the alert's stage responds; the IRO says if that resolves it
        responses += 1
        human_step(case_id, RESPONSES[Stage(stage)])
        stage = human_step(case_id, RESPONSE_CONSIDERED, responses)
    ending = facts(case_id)
    if ending["unresolved"] and not ending["cafcass"]:  # after the director: Cafcass, or why not
        human_step(case_id, CAFCASS_DECISION)
    close_case(case_id)
    return f"closed after {responses} formal stage(s)"

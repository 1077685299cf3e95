"""The placement disruption process as a Prefect flow: one case, one flow run (DESIGN rule 1).

It reads like the procedure. What must follow any ending (notices, the new placement's plan and
visit, the decision on a meeting) runs alongside from the start, each on its own clock; the flow
waits for the ending's own steps, then the meeting and its follow-through, then anything still to
record. The steps are declared in models/processes/disruption.py.
"""

from typing import Any

from prefect import flow

from flows.steps import alongside, facts, human_step, phase
from models.process import StepDecl
from models.processes.disruption import (
    CARE_PLAN_REVIEW,
    DISRUPTION_MEETING,
    EDUCATION_APPROVAL,
    EDUCATION_ARRANGEMENTS,
    EMERGENCY_ENDING,
    FOLLOW_THROUGH,
    IRO_INFORMED,
    IRO_INFORMED_EMERGENCY,
    MEETING_DECISION,
    MEETING_REPORT,
    NEW_PLACEMENT_NOTICE,
    NEW_PLACEMENT_NOTICE_EMERGENCY,
    NOTICE_OF_INTENTION,
    PLACEMENT_PLAN,
    PLACEMENT_PLAN_EMERGENCY,
    REVIEW_BROUGHT_FORWARD,
    SOCIAL_WORKER_VISIT,
    STABILITY_MEETING,
    WRITTEN_NOTICE,
    Stability,
)
from tasks.steps import close_case


@flow(name="disruption", persist_result=True, log_prints=True)
def disruption(case_id: int) -> str:
    """Run one placement ending from the IRO told to every recommendation followed through."""
    ending = facts(case_id)
    if ending["at_risk"]:  # a stability meeting first: support to keep it, or plan its end
        decision, support = human_step(case_id, STABILITY_MEETING)
        if decision is Stability.stable:
            reviews = 0
            while support:  # the support plan, reviewed until every action is accounted for
                reviews += 1
                support = human_step(case_id, FOLLOW_THROUGH, reviews)
            close_case(case_id)
            return "closed: the placement is stable"
        ending = facts(case_id)  # the meeting recorded how it ends
    if ending["planned"]:  # the new placement's paperwork by the day it starts (regs 9, 13)
        after: list[StepDecl[Any, Any]] = [WRITTEN_NOTICE, NEW_PLACEMENT_NOTICE, PLACEMENT_PLAN]
        if ending["key_stage_4"]:  # the nominated officer approves before the move (reg 10)
            after.append(EDUCATION_APPROVAL)
    else:  # within 5 working days of the new placement's start
        after = [WRITTEN_NOTICE, NEW_PLACEMENT_NOTICE_EMERGENCY, PLACEMENT_PLAN_EMERGENCY]
        if ending["key_stage_4"]:  # the move came first: the education arrangements (reg 10(3))
            after.append(EDUCATION_ARRANGEMENTS)
        after.append(REVIEW_BROUGHT_FORWARD)  # the IRO: bring the child's review forward?
    after.append(SOCIAL_WORKER_VISIT)
    alongside(case_id, [*after, MEETING_DECISION])

    if ending["planned"]:  # reviewed, the IRO told, and notice given before the placement ends
        phase(case_id, [CARE_PLAN_REVIEW, IRO_INFORMED, NOTICE_OF_INTENTION], name="before_ending")
    else:  # the ground and its approval; the IRO told as soon as practicable
        phase(case_id, [EMERGENCY_ENDING, IRO_INFORMED_EMERGENCY], name="emergency_ending")

    meetings = 0
    if human_step(case_id, MEETING_DECISION):  # else its reasons (and approval) are recorded
        human_step(case_id, DISRUPTION_MEETING)
        human_step(case_id, MEETING_REPORT)
        meetings = 1
        while human_step(case_id, FOLLOW_THROUGH, meetings):  # a recommendation carried forward
            meetings += 1

    phase(case_id, after, name="after_ending")  # whatever is still to record
    close_case(case_id)
    return f"closed after {meetings} follow-through review(s)"

"""The allegation process (LADO) as a Prefect flow: one case, one flow run (DESIGN rule 1).

It reads like the procedure: each step is waited for, applied, and the flow branches on what was
recorded. The steps themselves (inputs, who records, what they write) are declared in
models/processes/allegation.py; waiting and replaying are flows/steps.py's.
"""

from prefect import flow

from flows.steps import (
    account_for_open_actions,
    alongside,
    announce,
    facts,
    human_step,
    phase,
    strand,
)
from models.processes.allegation import (
    ALLEGATION_MEETING,
    APPROVAL_DETERMINATION,
    APPROVAL_REVIEW,
    CARER_SUPPORT,
    CLOSURE,
    INITIAL_CONSIDERATION,
    OUTCOME,
    OUTCOME_NOTIFICATION,
    POLICE_REVIEW,
    REVIEW_MEETING,
    STRATEGY_DISCUSSION,
    SUSPENSION_DECISION,
    Route,
)
from tasks.steps import close_case


@flow(name="allegation", persist_result=True, log_prints=True)
def allegation(case_id: int) -> str:
    """Run one allegation case from initial consideration to closure."""
    announce(case_id)  # each child's IRO and social worker know from the start
    alongside(case_id, [OUTCOME])  # the time to outcome runs from the referral (L10)
    route = human_step(case_id, INITIAL_CONSIDERATION)
    if not route.needs_meeting:  # no further action, or advice, approved: the case closes
        close_case(case_id)
        return f"closed at initial consideration: {route.value}"

    # The first meeting: a s47 strategy discussion, or the LADO's allegation meeting (L4, L5).
    first = STRATEGY_DISCUSSION if route is Route.strategy_discussion else ALLEGATION_MEETING
    ready = human_step(case_id, first)
    alongside(case_id, [SUSPENSION_DECISION])  # beside the meetings: the placements decided (L6)
    support_for_the_carer(case_id)
    reviews = 0
    while not ready:  # each review must account for every open action
        reviews += 1
        ready = human_step(case_id, REVIEW_MEETING, reviews)
        support_for_the_carer(case_id)

    strand(case_id, POLICE_REVIEW)  # while the police investigate: reviewed until charge or close
    human_step(case_id, OUTCOME)  # open since the referral; recorded once a meeting found it ready
    # The carer and fostering service are told, and the carer's approval reviewed, side by side;
    # the placements decision and the carer's support, open since the meeting, are done too.
    _, determination, _, _ = phase(
        case_id,
        [OUTCOME_NOTIFICATION, APPROVAL_REVIEW, SUSPENSION_DECISION, CARER_SUPPORT],
        name="after_outcome",
    )
    if determination:  # approval to end or change: the carer's 28 days, then the final decision
        human_step(case_id, APPROVAL_DETERMINATION)
    account_for_open_actions(case_id, CLOSURE)  # nothing open is forgotten at closure
    close_case(case_id)
    return f"closed after {reviews} review meeting(s)"


def support_for_the_carer(case_id: int) -> None:
    """Once a meeting records the carer told of the allegation, support for the carer (L15) runs
    beside the meetings, its clock counting from that day (opened once: a replay opens nothing)."""
    if facts(case_id)["carer_told"]:
        alongside(case_id, [CARER_SUPPORT])

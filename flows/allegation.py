"""The allegation process (LADO) as a Prefect flow: one case, one flow run (DESIGN rule 1).

It reads like the procedure: each step is waited for, applied, and the flow branches on what was
recorded. The steps themselves (inputs, who records, what they write) are declared in
models/processes/allegation.py; waiting and replaying are flows/steps.py's.
"""

from prefect import flow

from flows.steps import alongside, announce, human_step, phase
from models.processes.allegation import (
    ALLEGATION_MEETING,
    APPROVAL_REVIEW,
    INITIAL_CONSIDERATION,
    OUTCOME,
    OUTCOME_NOTIFICATION,
    REVIEW_MEETING,
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

    ready = human_step(case_id, ALLEGATION_MEETING)
    reviews = 0
    while not ready:  # each review must account for every open action
        reviews += 1
        ready = human_step(case_id, REVIEW_MEETING, reviews)

    human_step(case_id, OUTCOME)  # open since the referral; recorded once a meeting found it ready
    # The carer and fostering service are told, and the carer's approval reviewed, side by side.
    phase(case_id, [OUTCOME_NOTIFICATION, APPROVAL_REVIEW], name="after_outcome")
    close_case(case_id)
    return f"closed after {reviews} review meeting(s)"

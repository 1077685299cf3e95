"""The stage 2 complaint (Children Act 1989 representations procedure) as a Prefect flow: one case,
one flow run (DESIGN rule 1). It reads like the procedure; the steps are declared in
models/processes/complaint.py.
"""

from prefect import flow

from flows.steps import CaseEnded, actions_open, alongside, announce, human_step, phase
from models.processes.complaint import (
    ACKNOWLEDGEMENT,
    ELIGIBILITY,
    PANEL_REPORT,
    REMEDIES_REVIEW,
    STAGE2_OUTER_LIMIT,
    STAGE2_RESPONSE,
    STAGE3_PANEL,
    STAGE3_REQUEST,
    STAGE3_RESPONSE,
    STATEMENT,
    WITHDRAWN_OR_RESOLVED,
)
from tasks.steps import close_case


@flow(name="complaint", persist_result=True, log_prints=True)
def complaint(case_id: int) -> str:
    """Run one stage 2 complaint from eligibility to the last remedy accounted for."""
    announce(case_id)  # a looked-after child's IRO is told, for information
    # Acknowledged alongside; withdrawn, or resolved with terms agreed, at any stage.
    alongside(case_id, [ACKNOWLEDGEMENT, WITHDRAWN_OR_RESOLVED])
    remedies = False
    try:
        if not human_step(case_id, ELIGIBILITY):  # refused, with its reasons and the Ombudsman
            phase(case_id, [ACKNOWLEDGEMENT], name="acknowledged")
            close_case(case_id)
            return "closed: not eligible"

        alongside(case_id, [STAGE2_OUTER_LIMIT])  # 65 working days from the request, watched too
        human_step(case_id, STATEMENT)  # the numbered points; the IO and the independent person
        remedies = human_step(case_id, STAGE2_RESPONSE)  # each point decided; the outer limit met
        if remedies:
            alongside(case_id, [REMEDIES_REVIEW])  # reviewed on its own day, stage 3 or not

        if human_step(case_id, STAGE3_REQUEST):  # a review panel asked for (or the window ran out)
            human_step(case_id, STAGE3_PANEL)
            human_step(case_id, PANEL_REPORT)
            # each recommendation accepted (a remedy, reviewed as stage 2's are) or not, with reasons
            if human_step(case_id, STAGE3_RESPONSE):
                remedies = True
        phase(case_id, [ACKNOWLEDGEMENT], name="acknowledged")
    except CaseEnded:  # withdrawn or resolved: its clocks stopped; remedies agreed still followed
        pass

    reviews = 0
    while remedies or actions_open(case_id):  # until every remedy is accounted for
        reviews += 1
        remedies = human_step(case_id, REMEDIES_REVIEW, reviews)
    close_case(case_id)
    return f"closed after {reviews} remedies review(s)"

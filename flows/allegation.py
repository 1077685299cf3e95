"""The allegation process (LADO) as a Prefect flow: one case, one flow run (DESIGN rule 1).

It reads like the procedure. Each human step opens its clock, waits for what a person records,
applies it, and the flow branches on what was recorded. Waiting is a keyed `suspend_flow_run` with no
timeout (deadlines are swept, never given to Prefect: prefect-notes rule 4). The flow re-runs from the
top on every resume; every task is idempotent and branches only on facts in our database, so a
replay or a redeploy cannot change what an earlier step returned.
"""

from typing import Any

from prefect import flow
from prefect.flow_runs import suspend_flow_run

from models.allegation import AFTER_OUTCOME, Route, pause_key
from tasks.casework import (
    apply_submission,
    close_case,
    open_step,
    open_steps_together,
    show_position,
    stored_submission,
    tell_missing_rationale,
)


@flow(name="allegation", persist_result=True, log_prints=True)
def allegation(case_id: int) -> str:
    """Run one allegation case from initial consideration to closure."""
    consideration = human_step(case_id, "initial_consideration")
    if not Route(consideration["route"]).needs_meeting:
        close_case(case_id)
        return f"closed at initial consideration: {consideration['route']}"

    meeting = human_step(case_id, "allegation_meeting")
    reviews = 0
    while not meeting["ready_for_outcome"]:
        reviews += 1
        meeting = human_step(case_id, "review_meeting", reviews)

    human_step(case_id, "outcome")
    open_steps_together(case_id, list(AFTER_OUTCOME))  # both count from the outcome
    human_step(case_id, "outcome_notification")
    human_step(case_id, "approval_review")
    close_case(case_id)
    return f"closed after {reviews} review meeting(s)"


def human_step(case_id: int, name: str, sequence: int = 1) -> dict[str, Any]:
    """Open the step, wait until someone has recorded it, apply it; return what was decided."""
    open_step(case_id, name, sequence)
    attempt = 0
    while stored_submission(case_id, name, sequence) is None:
        show_position(case_id, name, sequence)
        # Exits the process; the run starts again from the top when `safeguard record` resumes it.
        # If it returns, the run was resumed with nothing recorded (the UI's Resume button): wait again.
        suspend_flow_run(key=pause_key(name, sequence, attempt))
        attempt += 1
    applied = apply_submission(case_id, name, sequence)
    tell_missing_rationale(case_id)  # a decision without its reasons is told at once (rule 9)
    return applied

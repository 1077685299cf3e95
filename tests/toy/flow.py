"""The toy process as a flow: assess, then (unless dropped) resolve."""

from prefect import flow

from flows.steps import human_step
from tasks.steps import close_case
from tests.toy.process import ASSESS, RESOLVE, Verdict


@flow(name="toy", persist_result=True, log_prints=True)
def toy(case_id: int) -> str:
    """Run one toy matter from assessment to closure."""
    if human_step(case_id, ASSESS) is Verdict.fix:
        human_step(case_id, RESOLVE)
    close_case(case_id)
    return "closed"

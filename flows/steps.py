"""The one way a process flow waits for people: `human_step` and `phase`.

Each opens its step(s), waits until someone has recorded them, applies what was stored, and
returns what the declaration says the flow branches on. Waiting is a keyed `suspend_flow_run` with
no timeout (deadlines are swept, never given to Prefect: prefect-notes rule 4). The run starts
again from the top on every resume; every task is idempotent and reads only facts in our database,
so a replay or a redeploy cannot change what an earlier step returned.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from prefect.flow_runs import suspend_flow_run

from models.process import StepDecl
from models.steps.keys import again, wait_key
from tasks.steps import (
    case_facts,
    launch_started,
    loose_ends,
    open_actions,
    open_alongside,
    opened,
    show_position,
    take_step,
    tell_at_once,
)

R = TypeVar("R")


class CaseEnded(Exception):
    """The case ended before the step the flow waits for was done (e.g. a complaint withdrawn, or
    resolved with terms agreed): the flow goes to its ending. Raised the same on every replay."""


def human_step(case_id: int, step: StepDecl[Any, R], sequence: int = 1) -> R:
    """Open the step, wait until it is recorded, apply it; return its declared result."""
    result: R = phase(case_id, [step], sequence=sequence)[0]
    return result


def alongside(case_id: int, steps: Sequence[StepDecl[Any, Any]]) -> None:
    """Open steps now that run alongside what the flow waits for next: each has its own clock,
    owner and ladder, is applied whenever it is recorded (a record resumes the run wherever it
    waits), and is waited for only where a later `phase` names it."""
    open_alongside(case_id, [s.name for s in steps])


def strand(case_id: int, step: StepDecl[Any, Any]) -> int:
    """Follow a strand of a repeating step that runs beside the flow and opens its own next round
    (e.g. the police's reviews): wait for each round opened, in turn, until one opens no other.
    Return how many rounds there were (0 when the strand never started)."""
    rounds = 0
    while opened(case_id, step.name, rounds + 1):
        rounds += 1
        human_step(case_id, step, rounds)
    return rounds


def account_for_open_actions(case_id: int, step: StepDecl[Any, Any]) -> None:
    """Before the case closes: if any action is still open, wait for `step` to account for each
    (done, transferred to another case, or not needed, with reasons). Nothing open is forgotten."""
    if loose_ends(case_id, step.name):
        human_step(case_id, step)


def actions_open(case_id: int) -> bool:
    """True while any action of the case is still open (e.g. a remedy agreed after the last review
    of remedies said it was the last)."""
    return bool(open_actions(case_id))


def announce(case_id: int) -> None:
    """Tell, now, whoever the policy says hears of a new case (for information): idempotent."""
    tell_at_once(case_id)


def facts(case_id: int) -> dict[str, Any]:
    """Return the codes of the case's start that the flow branches on (e.g. planned or not)."""
    result: dict[str, Any] = case_facts(case_id)
    return result


def phase(
    case_id: int, steps: Sequence[StepDecl[Any, Any]], *, name: str = "", sequence: int = 1
) -> list[Any]:
    """Open several steps together (each with its own clock, owner and ladder) and wait until every
    one is recorded, applying each as it comes; return their results in order.

    One wait per phase under one stable key (`name`, default the first step's); a resume while some
    are still to record waits again under the next key (`...-again-N`).
    """
    names = [s.name for s in steps]
    key = wait_key(name or names[0], sequence)
    attempt = 0
    while True:
        progress = take_step(case_id, names, sequence, key)
        if progress.applied_now:
            launch_started(case_id)  # cases a step started (e.g. a removed child's disruption)
        if progress.applied_now or progress.failed_now:
            tell_at_once(case_id)  # a decision without its reasons, a record that failed
        if progress.ended:
            raise CaseEnded(", ".join(progress.ended))
        if not progress.waiting:
            return [progress.results[n] for n in names]
        show_position(case_id, progress.waiting, sequence, key)
        # Exits the process; the run starts again from the top when `safeguard record` resumes it.
        # If it returns, the run was resumed with a step still to record: wait again.
        suspend_flow_run(key=again(key, attempt))
        attempt += 1

"""Steps: their suspend keys (keys.py), opening their clocks (opening.py), the one write path for
people (submit.py), applying what was recorded (applying.py), and the queries the flow, the sweep
and orchestration ask (queries.py). The functions are here by name.

Several steps may be open at once (a phase): they share the flow's suspend key (`wait_key`), and
the flow waits until each is recorded (`advance`). The engine reaches the process only through the
registry.
"""

from models.steps.applying import Progress, advance, apply, stored_input
from models.steps.keys import again, wait_key
from models.steps.opening import latest_agreed, latest_event, open_alongside, open_steps
from models.steps.queries import (
    being_applied,
    find_step,
    lapsed_windows,
    live_submission,
    newest_open_step,
    open_steps_of,
    progress_of,
    recorded_keys,
    stalled,
    step_exists,
    step_of,
    submission_for,
)
from models.steps.submit import KEY_MAX, Recorded, input_context, submit

__all__ = [
    "KEY_MAX",
    "Progress",
    "Recorded",
    "advance",
    "again",
    "apply",
    "being_applied",
    "find_step",
    "input_context",
    "lapsed_windows",
    "latest_agreed",
    "latest_event",
    "live_submission",
    "newest_open_step",
    "open_alongside",
    "open_steps",
    "open_steps_of",
    "progress_of",
    "recorded_keys",
    "stalled",
    "step_exists",
    "step_of",
    "stored_input",
    "submission_for",
    "submit",
    "wait_key",
]

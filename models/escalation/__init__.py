"""The escalation engine's pure core (DESIGN rules 4, 6, 9 and 10): its vocabulary and the clocks
(clocks.py), what is due at a moment (due.py), and who receives it (recipients.py).

`decide(clocks, policy, calendar, now)` returns every notice due at `now` for the clocks given; it
reads no database and no wall clock, so a test runs a 65-working-day clock in microseconds. The
sweep (notifications/sweep.py) loads only the clocks that can be due, asks `decide`, keeps the
notices it has not written before (by key), resolves who receives each with `resolve`, and writes
them to the outbox.

The notices:
- reminder: a step's reminder day has come and the step is still open (its owner);
- lapsed: a step is past its due day; one notice per rung of its ladder as each rung comes;
- action_overdue: an action past its due day, up the policy's action ladder;
- rationale_missing: a decision recorded without its reasons, at once; rationale_lapsed: the
  rationale clock's ladder;
- stop_review: a stopped clock's review date has passed;
- unacknowledged: an escalation notice nobody acknowledged in time, to its recipients' managers.

A notice's key is (case, clock, kind, rung). A clock whose due day moves (an extension, a resumed
stop, an action carried forward) is a new clock, so its ladder starts again.
"""

from models.escalation.clocks import (
    AckClock,
    ActionClock,
    Clocks,
    DoneStep,
    DueNotice,
    FailedRecord,
    Kind,
    NewCase,
    RationaleClock,
    StepClock,
    notice_key,
)
from models.escalation.due import decide, first_review, reminder_horizon
from models.escalation.recipients import Directory, Recipients, resolve

__all__ = [
    "AckClock",
    "ActionClock",
    "Clocks",
    "Directory",
    "DoneStep",
    "DueNotice",
    "FailedRecord",
    "Kind",
    "NewCase",
    "RationaleClock",
    "Recipients",
    "StepClock",
    "decide",
    "first_review",
    "notice_key",
    "reminder_horizon",
    "resolve",
]

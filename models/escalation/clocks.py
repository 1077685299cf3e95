"""The escalation engine's vocabulary: the kinds of notice, the clocks a sweep loads (only those
that can be due), and a notice due, with its key (case, clock, kind, rung)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    reminder = "reminder"
    lapsed = "lapsed"
    action_overdue = "action_overdue"
    rationale_missing = "rationale_missing"
    rationale_lapsed = "rationale_lapsed"
    stop_review = "stop_review"
    unacknowledged = "unacknowledged"
    submission_failed = "submission_failed"
    recorded_late = "recorded_late"
    information = "information"  # a case has started that these people should know of
    invitation = "invitation"  # to a person, about no case: a one-time link to set a password

    @property
    def needs_acknowledgement(self) -> bool:
        """A reminder, a record the flow could not apply (its step stays open, its own ladder runs
        on) and a step recorded after its due day (it is done; it is told so the failure is seen)
        are for information; everything else waits for someone to acknowledge it."""
        return self not in (
            Kind.reminder,
            Kind.submission_failed,
            Kind.recorded_late,
            Kind.information,
            Kind.invitation,
        )


@dataclass(frozen=True, slots=True)
class StepClock:
    """An open or stopped step of an open case."""

    step_id: int
    case_id: int
    reference: str
    process: str  # the process's code
    name: str
    sequence: int
    owner_id: str | None
    due_on: date
    stop_id: int | None = None  # set while the clock is stopped
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionClock:
    """An open action past its due day."""

    action_id: int
    case_id: int
    reference: str
    owner_id: str
    due_on: date
    agreed_at_step: str  # the meeting step it was agreed at
    process: str = ""  # whose own action ladder applies, if it has one


@dataclass(frozen=True, slots=True)
class RationaleClock:
    """A decision recorded without its rationale."""

    decision_id: int
    case_id: int
    reference: str
    author_id: str
    decision: str  # its kind, e.g. "threshold_and_route"
    step: str
    recorded_at: datetime
    due_at: datetime  # the rationale clock's deadline
    process: str = ""  # its case's process: the notice names the step by its title


@dataclass(frozen=True, slots=True)
class AckClock:
    """An escalation notice past its acknowledgement window, whose matter is still unresolved."""

    notice_id: int
    matter: str
    case_id: int
    reference: str
    kind: str
    ack_due_at: datetime
    recipients: tuple[str, ...]
    depth: int  # 0 for a notice about a clock, n for the n-th "unacknowledged" above it
    subject: str = ""  # what the notice not acknowledged said it was about


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """A submission the flow could not apply: its step is open again for a corrected record."""

    submission_id: int
    case_id: int
    reference: str
    author_id: str
    step: str
    failed_at: datetime
    process: str = ""  # its case's process: the notice names the step by its title


@dataclass(frozen=True, slots=True)
class DoneStep:
    """A step done whose policy says who must hear of it at once: when recorded after its due day
    (`late_notify`: e.g. the IRO told after a planned ending, the failure the reviews name), or
    whenever it is done (`done_notify`, for information: e.g. a stage 3 response, told to the
    stage 2 independent person)."""

    step_id: int
    case_id: int
    reference: str
    process: str
    name: str
    owner_id: str | None
    due_on: date
    closed_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case just started, of a process whose policy names who is told of it (`on_start_notify`:
    e.g. a complaint about a looked-after child, told to the child's IRO for information)."""

    case_id: int
    reference: str
    process: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Clocks:
    steps: Sequence[StepClock] = ()
    actions: Sequence[ActionClock] = ()
    rationales: Sequence[RationaleClock] = ()
    acks: Sequence[AckClock] = ()
    failures: Sequence[FailedRecord] = ()
    done: Sequence[DoneStep] = ()
    started: Sequence[NewCase] = ()

    def __len__(self) -> int:
        return (
            len(self.steps)
            + len(self.actions)
            + len(self.rationales)
            + len(self.acks)
            + len(self.failures)
            + len(self.done)
            + len(self.started)
        )


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A notice that is due: its key, who must hear (recipient tokens, resolved per case) and facts."""

    key: str
    case_id: int
    reference: str
    kind: Kind
    clock: str
    rung: int
    due_at: datetime
    notify: tuple[str, ...]  # policy recipients: roles, "owner", "owner_manager", "child_iro", ...
    owners: tuple[str, ...]  # who "owner" is here (staff ids); empty = the step's owner role
    owner_role: str | None = None  # resolves "owner" when no one is assigned
    exclude: tuple[str, ...] = ()  # people already told (an unacknowledged notice goes above them)
    matter: str = ""  # the clock at the root: what must be resolved to end the escalation
    facts: Mapping[str, Any] = field(default_factory=dict)


def notice_key(reference: str, clock: str, kind: Kind, rung: int) -> str:
    return f"{reference}/{clock}/{kind.value}/{rung}"

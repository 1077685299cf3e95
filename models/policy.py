"""Clock policy as data (DESIGN rule 4): the England defaults, merged with an authority's override.

`load_policy` reads `policy/england.toml`, lays the override file (if any) over it, and validates the
result into frozen, typed models. A bad entry fails at load with one line naming the file, the entry
and what is wrong, e.g.:

    local.toml: processes.allegation.steps.outcome.due: '1 wd' is not a duration: write e.g. ...

An override may change any value of an existing process or step and add local closure days; it may
not invent processes, steps or events (the flows would not know them), so a typo can't pass silently.
"""

import tomllib
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from models.calendar import LONDON, WorkingCalendar
from models.durations import CalendarDays, CalendarMonths, Duration, WorkingDays, parse_duration
from models.enums import Role, role_list
from models.errors import InputError

DEFAULTS_NAME: Final = "england.toml"

# Who can be told, besides a role: resolved per case by the escalation engine.
CASE_RECIPIENTS: Final = (
    "owner",
    "case_lead",
    "owner_manager",
    "owner_senior_manager",
    "child_iro",
    "child_social_worker",
)


class PolicyError(InputError):
    """A policy file that cannot be used; the message names the file and the entry."""


def _duration(value: Any) -> Duration:
    if isinstance(value, WorkingDays | CalendarDays | CalendarMonths):
        return value
    return parse_duration(value)


def _working_days(value: Any) -> WorkingDays:
    duration = _duration(value)
    if not isinstance(duration, WorkingDays):
        raise ValueError(f"'{duration}' must be counted in working days, e.g. '2 working days'")
    return duration


# "case:<role>": the case's own people in a role, if it names any; nobody (and nothing reported)
# when it names none (e.g. an advocate, where the complainant has one).
IN_CASE: Final = "case:"


def _recipient(value: Any) -> str:
    if isinstance(value, str) and (value in CASE_RECIPIENTS or value in Role.__members__):
        return value
    if isinstance(value, str) and value.removeprefix(IN_CASE) in Role.__members__:
        return value
    raise ValueError(
        f"{value!r} is not someone who can be told: use a role ({role_list()}), "
        f"{IN_CASE}<role> (the case's own, if it has one) or one of {', '.join(CASE_RECIPIENTS)}"
    )


DurationText = Annotated[Duration, PlainValidator(_duration), PlainSerializer(str)]
WorkingDaysText = Annotated[WorkingDays, PlainValidator(_working_days), PlainSerializer(str)]
Recipient = Annotated[str, PlainValidator(_recipient)]
Text = Annotated[str, Field(min_length=1)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class Confidence(StrEnum):
    """How sure we are of a number (the reference's [H] / [M] / [L] / "(design)")."""

    high = "high"
    medium = "medium"
    low = "low"
    design = "design"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rung(_Frozen):
    """One rung of an escalation ladder: this many working days after lapse, tell these people."""

    after: WorkingDaysText
    notify: tuple[Recipient, ...] = Field(min_length=1)


def _check_ladder(rungs: tuple[Rung, ...]) -> tuple[Rung, ...]:
    afters = [r.after.n for r in rungs]
    if afters != sorted(set(afters)):
        raise ValueError(
            f"escalation rungs must climb: 'after' must increase rung by rung (got {afters})"
        )
    return rungs


class StepPolicy(_Frozen):
    """One timed step: its clock, its owner, its reminders and ladder, and where the number comes from."""

    title: Text
    ref: Text
    due: DurationText
    counts_from: Key
    owner: Role
    source: Text
    confidence: Confidence
    reminders: tuple[WorkingDaysText, ...] = ()
    escalation: tuple[Rung, ...] = ()
    repeats: bool = False
    measured_only: bool = False
    # The person's own window (e.g. the complainant's to ask for stage 3): measured, never a staff
    # deadline: it escalates to nobody, a record after it is not late, and timeliness leaves it out.
    window: bool = False
    # Recorded if it happens, at any stage (e.g. a complaint withdrawn): open for as long as the
    # case, never due, never chased; its due and counts_from are not used.
    unscheduled: bool = False
    targets: tuple[DurationText, ...] = ()
    extendable_to: DurationText | None = None
    extension_approver: Role | None = None
    extension_told: bool = False  # an extension records when the person was told in writing
    approver: Role | None = None  # who may approve a departure the step records (most junior)
    # where only named roles may approve (e.g. the agency decision maker): the list, not a rank
    approver_roles: tuple[Role, ...] = ()
    calendar: Literal["legal", "local"] | None = None  # default: local for design, else legal
    agreed_by: Key | None = None  # an event naming the day agreed for it: due then, never later
    late_notify: tuple[Recipient, ...] = ()  # told at once when the step is recorded late
    # done after its due day only with the reason recorded with it (e.g. a placement plan after a
    # planned move: only where it was not reasonably practicable before, reg 9(2))
    late_needs_reason: bool = False
    done_notify: tuple[Recipient, ...] = ()  # told, for information, when the step is done
    panel_required_for: tuple[Key, ...] = ()  # reviews that must go to a panel (e.g. first_review)
    stoppable: bool = False
    stop_approver: Role | None = None
    stop_review_first: DurationText | None = None
    stop_review_every: DurationText | None = None

    _ladder = field_validator("escalation")(_check_ladder)

    @field_validator("reminders")
    @classmethod
    def _reminders_before_due(cls, value: tuple[WorkingDays, ...]) -> tuple[WorkingDays, ...]:
        if any(r.n == 0 for r in value):
            raise ValueError("a reminder comes before the due day: give 1 working day or more")
        return tuple(sorted(set(value), key=lambda r: -r.n))

    @model_validator(mode="after")
    def _consistent(self) -> "StepPolicy":
        if self.measured_only and self.escalation:
            raise ValueError("a measured_only step runs no clock, so it cannot have an escalation")
        if self.unscheduled and (self.escalation or self.reminders):
            raise ValueError(
                "an unscheduled step is recorded if it happens: it has no reminders or escalation"
            )
        if self.window and self.escalation:
            raise ValueError(
                "a window is the person's own time to act, not a staff deadline: it has no "
                "escalation (remove its [[...escalation]] rungs)"
            )
        quiet = self.measured_only or self.window or self.unscheduled
        if not quiet and not self.escalation:
            raise ValueError(
                "a timed step needs an escalation ladder (at least one [[...escalation]] rung), "
                "or 'measured_only = true' (or 'window = true') if nobody is to be told"
            )
        if (self.extendable_to is None) != (self.extension_approver is None):
            raise ValueError("give both extendable_to and extension_approver, or neither")
        if self.extendable_to is not None:
            if type(self.extendable_to) is not type(self.due):
                raise ValueError(f"extendable_to must be in the same unit as due ({self.due})")
            if self.extendable_to.n <= self.due.n:
                raise ValueError(f"extendable_to ({self.extendable_to}) must be longer than due")
        stop_fields = (self.stop_approver, self.stop_review_first, self.stop_review_every)
        if self.stoppable and None in stop_fields:
            raise ValueError(
                "a stoppable step needs stop_approver, stop_review_first and stop_review_every"
            )
        if not self.stoppable and any(f is not None for f in stop_fields):
            raise ValueError("stop_* settings need 'stoppable = true'")
        return self

    @property
    def local_days(self) -> bool:
        """True when the authority's closure days count against this clock: a design or local
        figure; a clock the law or national guidance sets runs on the legal working day."""
        if self.calendar is not None:
            return self.calendar == "local"
        return self.confidence is Confidence.design

    def clock_calendar(self, calendar: WorkingCalendar) -> WorkingCalendar:
        """Return the calendar this step's due day is counted on."""
        return calendar if self.local_days else calendar.legal


class RetentionPolicy(_Frozen):
    """How long a closed case's record is kept, and how long before that it is listed for review."""

    years: Annotated[int, Field(ge=1, le=100)]
    or_until_pension_age: bool = False  # the later of the two, where the start gives the day
    review_within: DurationText
    source: Text
    confidence: Confidence


class ProcessPolicy(_Frozen):
    title: Text
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")]
    on_start_notify: tuple[Recipient, ...] = ()  # told, for information, when a case starts
    action_escalation: tuple[Rung, ...] = ()  # the process's own ladder for overdue actions
    retention: RetentionPolicy | None = None  # a closed case's record: kept until, reviewed when
    events: dict[Key, Text] = Field(min_length=1)
    steps: dict[Key, StepPolicy] = Field(min_length=1)

    _ladder = field_validator("action_escalation")(_check_ladder)

    @model_validator(mode="after")
    def _events_known(self) -> "ProcessPolicy":
        for name, step in self.steps.items():
            if step.agreed_by is not None and step.agreed_by not in self.events:
                raise _AtError(
                    ("steps", name, "agreed_by"),
                    f"{step.agreed_by!r} is not an event of this process; "
                    f"use one of {', '.join(self.events)}",
                )
            if step.counts_from not in self.events:
                raise _AtError(
                    ("steps", name, "counts_from"),
                    f"{step.counts_from!r} is not an event of this process; "
                    f"use one of {', '.join(self.events)}",
                )
        return self

    def step(self, name: str) -> StepPolicy:
        """Return the step called `name`, or raise InputError listing the steps there are."""
        try:
            return self.steps[name]
        except KeyError:
            raise InputError(
                f"{name!r} is not a step of {self.title!r}; steps: {', '.join(self.steps)}"
            ) from None


class Closure(_Frozen):
    """A day the authority's offices are closed: not a working day for its clocks."""

    date: date
    name: Text


class CalendarPolicy(_Frozen):
    closures: tuple[Closure, ...] = ()

    @field_validator("closures")
    @classmethod
    def _one_per_day(cls, value: tuple[Closure, ...]) -> tuple[Closure, ...]:
        days = [c.date for c in value]
        repeated = sorted({d for d in days if days.count(d) > 1})
        if repeated:
            raise ValueError(f"closure day listed twice: {', '.join(map(str, repeated))}")
        return tuple(sorted(value, key=lambda c: c.date))


class NoticePolicy(_Frozen):
    acknowledge_within: WorkingDaysText
    source: Text
    confidence: Confidence


class RationalePolicy(_Frozen):
    due: WorkingDaysText
    notify_at_once: tuple[Recipient, ...] = Field(min_length=1)
    escalation: tuple[Rung, ...] = Field(min_length=1)
    source: Text
    confidence: Confidence

    _ladder = field_validator("escalation")(_check_ladder)


class ActionPolicy(_Frozen):
    """The ladder for an action agreed at a meeting and not done by its due day, and how far
    ahead an action may be due (a date years away would never escalate)."""

    due_within: DurationText
    escalation: tuple[Rung, ...] = Field(min_length=1)
    source: Text
    confidence: Confidence

    _ladder = field_validator("escalation")(_check_ladder)


class PolicyMeta(_Frozen):
    name: Text
    revision: Text


class Policy(_Frozen):
    """The effective clock policy: the England defaults with the authority's changes applied."""

    policy: PolicyMeta
    calendar: CalendarPolicy
    notices: NoticePolicy
    rationale: RationalePolicy
    actions: ActionPolicy
    processes: dict[Key, ProcessPolicy]
    files: tuple[str, ...] = ()  # where it was read from, defaults first

    def process(self, name: str) -> ProcessPolicy:
        """Return a process's policy, or raise InputError listing the processes there are."""
        try:
            return self.processes[name]
        except KeyError:
            raise InputError(
                f"{name!r} is not a process; processes: {', '.join(self.processes)}"
            ) from None

    def working_calendar(self, tz: ZoneInfo = LONDON) -> WorkingCalendar:
        """Return the working-day calendar with this policy's local closure days."""
        return WorkingCalendar({c.date: c.name for c in self.calendar.closures}, tz)


class _AtError(ValueError):
    """A validation error that knows its entry below the model that raised it."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


# --- loading ------------------------------------------------------------------------------------


def defaults_text() -> str:
    """Return the England defaults file's text."""
    return resources.files("policy").joinpath(DEFAULTS_NAME).read_text(encoding="utf-8")


def load_policy(override: Path | None = None, processes: Sequence[str | Path] = ()) -> Policy:
    """Return the effective policy: England defaults, then the defaults of `processes` that bring
    their own (each may only add processes), then `override` laid over them if given."""
    base_name = f"policy/{DEFAULTS_NAME}"
    merged = _parse(defaults_text(), base_name)
    files = [base_name]
    brought: dict[str, str] = {}  # process -> the file that brought it
    for extra in processes:
        more = read_toml(Path(extra))
        added = more.get("processes")
        if set(more) != {"processes"} or not isinstance(added, dict):
            raise PolicyError(f"{extra}: a process's own policy file holds [processes.NAME] only")
        clash = sorted(set(added) & set(merged["processes"]))
        if clash:
            raise PolicyError(
                f"{extra}: processes.{clash[0]} is defined already ({', '.join(files)}): "
                "a process's own file adds processes; an authority changes them in its override"
            )
        merged = {**merged, "processes": {**merged["processes"], **added}}
        brought.update((name, str(extra)) for name in added)
        files.append(str(extra))
    over: dict[str, Any] = {}
    if override is not None:
        over = read_toml(override)
        if "files" in over:
            raise PolicyError(
                f"{override}: files: is not a setting here; check the spelling against policy/england.toml"
            )
        merged = _merge(merged, over, (), str(override))
        _local_figures(merged, over)
        files.append(str(override))
    try:
        return Policy.model_validate({**merged, "files": tuple(files)})
    except ValidationError as exc:
        raise _explain(
            exc, over, base_name, str(override) if override else base_name, brought
        ) from None


def _local_figures(merged: dict[str, Any], over: dict[str, Any]) -> None:
    """A step whose timescale or source the authority's file sets is a local figure: its clock
    counts the authority's closure days, unless the file says `calendar` itself."""
    processes = over.get("processes")
    for process, table in processes.items() if isinstance(processes, dict) else ():
        steps = table.get("steps") if isinstance(table, dict) else None
        for name, entries in steps.items() if isinstance(steps, dict) else ():
            local = isinstance(entries, dict) and {"due", "source"} & set(entries)
            if local and "calendar" not in entries:
                merged["processes"][process]["steps"][name]["calendar"] = "local"


def read_toml(path: Path) -> dict[str, Any]:
    """Return a TOML file's tables, or raise PolicyError naming the file and the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file; check SAFEGUARD_POLICY_FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read: {exc}") from None
    return _parse(text, str(path))


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{name}: not valid TOML: {exc}") from None


def _merge(base: Any, over: Any, path: tuple[str, ...], file: str) -> Any:
    """Lay `over` on `base`: tables merge key by key, values and lists replace, closures add up."""
    if path == ("calendar", "closures"):
        if not isinstance(over, list):
            raise PolicyError(f"{file}: calendar.closures: must be a list of {{date, name}} tables")
        return [*base, *over]
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    if (
        len(path) in (1, 3)
        and path[0] == "processes"
        and (len(path) == 1 or path[2] in ("steps", "events"))
    ):
        # processes.<name>, processes.<name>.steps.<step>, processes.<name>.events.<event>
        for key in over:
            if key not in base:
                what = "process" if len(path) == 1 else path[2].removesuffix("s")
                raise PolicyError(
                    f"{file}: {'.'.join((*path, key))}: there is no {what} {key!r} to change "
                    f"(an override changes existing entries only); known: {', '.join(base)}"
                )
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(base[key], value, (*path, key), file) if key in base else value
    return merged


def _explain(
    exc: ValidationError,
    over: dict[str, Any],
    base_name: str,
    over_name: str,
    brought: dict[str, str] | None = None,
) -> PolicyError:
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _AtError):
        loc = (*loc, *ctx_error.loc)
    elif error["type"] == "extra_forbidden":
        message = "is not a setting here; check the spelling against policy/england.toml"
    elif error["type"] == "missing":
        message = "is required but missing"
    elif (
        isinstance(error.get("input"), str | int | float | bool)
        and repr(error["input"]) not in message
    ):
        message = f"{error['input']!r}: {message}"
    # Blame the override when it wrote the entry (or a table above it), else the defaults file.
    file = over_name if _touches(over, loc) else base_name
    if file == base_name and len(loc) > 1 and loc[0] == "processes":
        file = (brought or {}).get(loc[1], base_name)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return PolicyError(f"{file}: {'.'.join(loc)}: {message}{more}")


def _touches(over: dict[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = over
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return node is not over
    return True

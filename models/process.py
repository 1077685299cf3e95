"""What a process is (DESIGN rule 11): a declaration the engine reads, never a module it imports.

A process declares, side by side (viewflow's habit: each step's form, who may do it, what it writes):

- its code (the policy section, the flow's name, `cases.process`), the noun users read and its start:
  the start input (a pydantic model), who may start a case, the role of the case's lead, and a `start`
  function that turns a validated input into a `StartPlan` (details kept, children, named parties,
  the events clocks count from, steps measured at once) which the engine writes;
- its steps: each step's input, who may record it, an optional cross-step `check`, what `apply`
  writes (decisions, events, actions, accounts of earlier actions) and the `result` the flow
  branches on; the flow (flows/<process>.py) says what opens next and which steps run together;
- its view: the lines of the case view only it knows (`view`, `headline`).

Inputs carry a version; a stored input is read with the version it was written under, upgraded by
the declared functions, so a case started months ago replays to the same records.

No database or Prefect imports: the engine hands each function a context (the protocols below).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from models.calendar import WorkingCalendar
from models.enums import Role
from models.errors import InputError
from models.inputs import ActionAccount, InputContext, NewAction, StepInput, parse
from models.policy import ProcessPolicy, StepPolicy

if TYPE_CHECKING:  # read by the declarations; models.cases itself starts cases through the registry
    from models.cases.parties import CaseParties

I = TypeVar("I", bound=BaseModel)  # noqa: E741  (a step's input)
R = TypeVar("R")  # what the flow branches on
S = TypeVar("S", bound=BaseModel)  # a process's start input

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


# --- what the engine hands a declaration ----------------------------------------------------------


class CheckContext(Protocol):
    """What a step's `check` may ask of the case before anything is stored."""

    @property
    def reference(self) -> str: ...

    @property
    def details(self) -> Mapping[str, Any]:
        """What the case's start kept."""
        ...

    @property
    def parties(self) -> "CaseParties":
        """Who is who in the case: its lead, each child's IRO and social worker, named parties."""
        ...

    def latest_agreed(self, step: str, after: date) -> date | None:
        """Return the latest day a date agreed for `step` may fall, counting from `after` (the
        step's policy `agreed_within`), or None when the policy sets no limit."""
        ...

    def was_late(self, step: str) -> bool:
        """True if the case's step of that name was done after its due day (e.g. a request
        measured against its window)."""
        ...

    def due_of(self, step: str) -> date | None:
        """Return the due day of the case's latest step of that name (None if never opened)."""
        ...

    def require_every_open_action_accounted(
        self, accounted: Sequence[ActionAccount], held_on: date
    ) -> None:
        """Raise InputError unless `accounted` names each open action of the case, and only those."""
        ...

    def child(self, ref: str) -> Mapping[str, str] | None:
        """Return a child of the case as a start input names one (child, iro, social_worker, or
        placed_by and contact), or None if the case has no such child."""
        ...

    def rule(self, step: str) -> StepPolicy:
        """Return the policy of one of the case's steps (e.g. which reviews must go to panel)."""
        ...

    def try_start(self, process: str, author: str, payload: Mapping[str, Any]) -> None:
        """Raise InputError unless a case of `process` could start now with this input (checked
        as the start would be, and nothing kept): a step that starts another case says so first."""
        ...

    def times_carried_forward(self, action_id: int) -> int:
        """Return how many times an action of the case has been carried forward so far."""
        ...

    def managers_of(self, staff_id: str) -> Sequence[str]:
        """Return the person's line managers, nearest first (e.g. to keep a chair independent of
        the people whose work the meeting looks at)."""
        ...


class ApplyContext(Protocol):
    """What applying a stored step may write (the engine writes it once, in one transaction)."""

    sequence: int  # the step's sequence (review meeting 1, 2, ...)
    at: datetime  # when it happened (the submission's effective moment)

    @property
    def reference(self) -> str: ...

    @property
    def details(self) -> Mapping[str, Any]:
        """What the case keeps (its start's details and what steps kept since)."""
        ...

    def child(self, ref: str) -> Mapping[str, str] | None:
        """As CheckContext.child."""
        ...

    def start_case(self, process: str, author: str, payload: Mapping[str, Any]) -> str:
        """Start another case of `process` (e.g. the disruption case of a child removed), in this
        step's transaction; return its reference. Its flow run is created once this is stored
        (the flow, else the sweep); a start that links back to this case is shown on both."""
        ...

    def decide(self, kind: str, value: str, rationale: str | None, by: str | None = None) -> None:
        """Record a decision; without a rationale its rationale clock starts (DESIGN rule 9).
        `by` is whose decision it is when that is not who recorded it (e.g. the adjudicating
        officer's findings, typed in by the complaints manager): the chase for a missing
        rationale goes to them and their manager."""
        ...

    def event(self, name: str, at: datetime | date, sequence: int = 1) -> None:
        """Record a dated fact a later clock counts from (a date is its local start)."""
        ...

    def add_actions(self, actions: Sequence[NewAction], agreed_on: date) -> None:
        """Record actions agreed on `agreed_on` (due a date, or working days after it)."""
        ...

    def account_for(self, accounted: Sequence[ActionAccount], held_on: date) -> None:
        """Record what a meeting said of each earlier action."""
        ...

    def party(self, role: Role, staff_id: str) -> None:
        """Name a person in the case in `role` (e.g. an investigating officer appointed): steps
        owned by that role, and notices for it, go to them."""
        ...

    def keep(self, details: dict[str, Any]) -> None:
        """Add to what the case keeps (as its start would have: e.g. how a placement at risk ends);
        the flow's `facts` then see it."""
        ...

    def link(self, reference: str, why: str, process: str | None = None) -> None:
        """Link the case to another (shown on both); `process`, when given, is what it must be."""
        ...

    def latest_agreed(self, step: str, after: date) -> date | None:
        """As CheckContext.latest_agreed: the policy's limit for a day agreed for `step`."""
        ...

    def open_next(self, step: str, sequence: int = 1) -> None:
        """Open another clock now, counting from its event (e.g. the next review of a strand that
        runs beside the flow: the flow waits for it where it follows the strand)."""
        ...

    def close_also(self, step: str) -> None:
        """Close another open clock this step answers (e.g. an outer time limit watched beside
        the step's own), as done at the same moment."""
        ...

    def end_procedure(self, keep: Sequence[str] = ()) -> None:
        """End the case's procedure here (e.g. a complaint withdrawn): every other step still open
        or stopped is not needed any more (its clock stops: nothing about it escalates), except
        those named in `keep` (e.g. the review of remedies already agreed). The flow, waiting at
        a step that ended, goes to its ending (flows/steps.py: CaseEnded)."""
        ...

    def is_open(self, reference: str) -> bool:
        """True if the case of that reference exists and is still open (e.g. a linked allegation
        with no outcome yet)."""
        ...

    def hold_clock(self, step: str, reason: str) -> None:
        """Open another step of this case now (if not open) with its clock held from the start,
        for the reason given (e.g. a meeting that waits for a linked case): a clock stop recorded
        by whoever recorded this step; it runs again when resumed (`clock resume`, or a linked
        case's `resume_linked`)."""
        ...

    def resume_linked(self, step: str) -> list[str]:
        """Restart the held `step` clock of each case linked to this one (e.g. a disruption
        meeting held until this allegation's outcome); return their references."""
        ...

    def resume_clock(self, step: str) -> bool:
        """Restart another step's stopped clock as at this step (e.g. the outcome's, stopped for
        the police, once the police close their enquiry); return whether it was stopped."""
        ...

    def rounds(self, event: str) -> int:
        """Return how many rounds of a repeating event the case has had (its highest sequence;
        0 for none): e.g. to set the day of the next review of remedies."""
        ...

    def working_days_after(self, day: date, days: int) -> date:
        """Return the working day `days` working days after `day` (e.g. when a letter posted on
        `day` is deemed received)."""
        ...


@dataclass(frozen=True)
class EarlierCase:
    """A case of the same process, as a new case's start may need to know of it (e.g. a child's
    earlier placement endings)."""

    reference: str
    opened_at: datetime
    details: Mapping[str, Any]


@dataclass
class StartPlan:
    """What starting a case writes, as a process's `start` says; the engine writes it all or nothing."""

    author: str
    tz: ZoneInfo
    opened_at: datetime  # when the case began (e.g. the referral received); the reference's year
    history: Callable[[], Sequence[EarlierCase]] = lambda: ()  # the process's cases so far
    details: dict[str, Any] = field(default_factory=dict)  # kept on the case (our database only)
    lead: str | None = None  # default: whoever starts it
    children: list[tuple[str, str | None, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # (ref, IRO, social worker, placed by, contact): our staff, or who placed them
    parties: list[tuple[Role, str]] = field(default_factory=list)  # other named people, by role
    events: list[tuple[str, datetime]] = field(default_factory=list)
    measured: list[tuple[str, datetime]] = field(default_factory=list)  # (step, when it was done)
    links: list[tuple[str, str, str | None]] = field(default_factory=list)  # (ref, why, process)

    def earlier(self) -> Sequence[EarlierCase]:
        """Return the process's cases so far (read only when a start asks)."""
        return self.history()

    def start_of(self, day: date) -> datetime:
        """Return the local start of a day (an event known only by its date)."""
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def child(
        self,
        ref: str,
        iro: str | None,
        social_worker: str | None,
        placed_by: str | None = None,
        contact: str | None = None,
    ) -> None:
        self.children.append((ref, iro, social_worker, placed_by, contact))

    def party(self, role: Role, staff_id: str) -> None:
        self.parties.append((role, staff_id))

    def event(self, name: str, at: datetime | date) -> None:
        self.events.append((name, at if isinstance(at, datetime) else self.start_of(at)))

    def measured_step(self, name: str, done_at: datetime) -> None:
        """A step that is measured, not waited for: recorded in time or late as the case starts."""
        self.measured.append((name, done_at))

    def link(self, reference: str, why: str, process: str | None = None) -> None:
        """Link the case to another (shown on both): e.g. the allegation that led to a removal;
        `process`, when given, is what the other case must be."""
        self.links.append((reference, why, process))


@dataclass(frozen=True)
class ViewFacts:
    """What a process's `view` may read: the generic case view and the case's details."""

    details: Mapping[str, Any]
    view: Mapping[str, Any]  # the engine's case view so far (steps, decisions, actions)
    policy: ProcessPolicy
    calendar: WorkingCalendar
    now: datetime


@dataclass(frozen=True)
class RecordNotes:
    """What may be said of a closed case's record, for its retention review: whether it may be
    mentioned in references, and whether it leaves the file of the person it is about (None: the
    process says nothing of it)."""

    in_references: bool | None = None
    remove_from_file: bool | None = None


@dataclass(frozen=True)
class Measure:
    """A process's own count for its timeliness report: `count` of `of` cases."""

    label: str
    count: int
    of: int

    def as_dict(self) -> dict[str, Any]:
        share = round(self.count / self.of, 3) if self.of else None
        return {"measure": self.label, "count": self.count, "of": self.of, "share": share}


@dataclass(frozen=True)
class StepFacts:
    """One step of a case, as a process's figures read it."""

    name: str
    sequence: int
    status: str  # open, stopped, closed, skipped, lapsed, ended
    opened_on: date
    due_on: date
    closed_on: date | None
    late: bool | None  # closed after its due day (None: still open)


@dataclass(frozen=True)
class CaseFacts:
    """One case of the process, as its figures read it: what it keeps, its steps, its decisions
    (kind, value, day), its events (name -> days, in order) and its actions (title, status)."""

    reference: str
    opened_on: date
    closed_on: date | None
    details: Mapping[str, Any]
    steps: Sequence[StepFacts]
    decisions: Sequence[tuple[str, str, date]]
    events: Mapping[str, Sequence[date]]
    actions: Sequence[tuple[str, str]] = ()  # (title, status): what it agreed, and what came of it


@dataclass(frozen=True)
class NoticeFigures:
    """The notices that ask to be acknowledged sent to the holders of a role over a period."""

    received: int  # deliveries to them
    acknowledged: int
    median_working_days_to_acknowledge: float | None


@dataclass(frozen=True)
class Figure:
    """One line of a process's own report: a section, what is counted, the number."""

    section: str
    label: str
    value: int | float | None

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "figure": self.label, "value": self.value}


@dataclass(frozen=True)
class Listing:
    """The rows of a process's own report, under the column names of the return they feed."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns), "rows": [list(r) for r in self.rows]}  # fmt: skip


class FiguresContext(Protocol):
    """What a process's own report may ask of the record over a period (`start` to `end`)."""

    start: date
    end: date
    today: date

    def cases(self) -> Sequence[CaseFacts]:
        """The process's cases started in the period, and those started before it still open."""
        ...

    def working_days(self, first: date, last: date) -> int:
        """Working days from `first` to `last`."""
        ...

    def measures_of(self, process: str) -> Sequence[Measure]:
        """Another process's own measures over the period (as its timeliness report gives them)."""
        ...

    def notices_to(self, role: Role) -> NoticeFigures:
        """The notices asking acknowledgement delivered in the period to people holding `role`."""
        ...


# --- the declarations ------------------------------------------------------------------------------


def _nothing(_: Any) -> None:
    return None


def _never(_: Any) -> bool:
    return False


@dataclass(frozen=True)
class StepDecl(Generic[I, R]):
    """One human step: its input, who may record it, its checks, what applying it writes, and
    what the flow branches on."""

    name: str
    input: type[I]
    may_record: frozenset[Role]
    example: Mapping[str, Any]
    chair_only: bool = False  # only the step's owner (the chair) or the process's overseer
    check: Callable[[CheckContext, I], None] | None = None
    apply: Callable[[ApplyContext, I], None] | None = None
    result: Callable[[I], R] = _nothing  # type: ignore[assignment]
    skipped: Callable[[I], bool] = _never  # the step closes as skipped (with a recorded reason)
    done_on: Callable[[I], date] | None = (
        None  # the day it was done, when its input says (else --at)
    )
    version: int = 1
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)  # version n -> n + 1
    # A window that closes itself (its policy's `window`): once its due day has passed with nothing
    # recorded, the flow closes it as lapsed and goes on with this result (e.g. "no review panel").
    when_lapsed: Callable[[], R] | None = None
    # What the step waits for before it can be recorded, given what the case has kept, in the
    # words people read ("a meeting or review that finds the case ready for its outcome"), or None
    # when it can be recorded now: a page shows it instead of the form; its check refuses by it.
    waits_for: Callable[[Mapping[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class CaseEventDecl:
    """Something that happens to a case outside its steps, recorded as it comes (e.g. the carer's
    resignation): a dated event of the process's policy, the events that follow from it a set
    number of days on, and who may record it. Kept once in the case's details under `name`_on
    (the steps' checks read it there)."""

    name: str  # an event of the process's policy, e.g. "resignation_received"
    what: str  # said back: "the carer's written notice of resignation received"
    may_record: frozenset[Role]
    then: Mapping[str, int] = field(default_factory=dict)  # event -> calendar days after it

    @property
    def kept_as(self) -> str:
        return f"{self.name}_on"


@dataclass(frozen=True)
class ProcessDecl(Generic[S]):
    """A statutory process: its start, its steps, its flow and its view."""

    code: str  # "allegation": the policy section, the flow's name, cases.process
    noun: str  # "an allegation": "sw-1 may not start an allegation case"
    start_input: type[S]
    start_example: Mapping[str, Any]
    may_start: frozenset[Role]
    lead_role: Role  # who leads a case ("case_lead"); the lead must hold it
    overseer: Role  # may record for a step's chair and update anyone's actions in the case
    start: Callable[[StartPlan, S], None]
    steps: Sequence[StepDecl[Any, Any]]
    flow: str  # the flow as "module:function", e.g. "flows.allegation:allegation"
    policy_file: str | None = None  # defaults of a process that policy/england.toml does not hold
    view: Callable[[ViewFacts], dict[str, Any]] | None = None  # the process's own view lines
    headline: Callable[[Mapping[str, Any]], str] | None = None  # first line of `case show`
    measures: Callable[[list[dict[str, str]]], list[Measure]] | None = None  # for its report:
    # given, per case, each step's timeliness (done in the period, or still open)
    facts: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # codes the flow branches
    # on, from what the start kept (never a name: they go to Prefect as a task's result)
    start_version: int = 1
    start_upgrades: Mapping[int, Upgrade] = field(default_factory=dict)
    case_events: Sequence[CaseEventDecl] = ()  # recorded as they come: `safeguard case event`
    # Who sees a case's access log (who viewed it, when, why), and whether opening a case you have
    # no part in asks why first (DESIGN rule 12): the process's, since the sensitivity is its own.
    access_log_readers: frozenset[Role] = frozenset({Role.head_of_service, Role.director})
    ask_why_before_opening: bool = False
    # Who may restrict a case (only the people working on it and their managers may then open it:
    # models/restriction.py) and lift its restriction.
    restricted_by: frozenset[Role] = frozenset({Role.lado_manager})
    record_notes: Callable[[Mapping[str, Any]], RecordNotes] | None = None  # for its retention
    carer_of: Callable[[Mapping[str, Any]], str | None] | None = None  # the carer a case is about
    filed_on_record: frozenset[str] = frozenset()  # decisions that are reports filed on the
    # child's and the carer's records (`child show`, `carer show`), e.g. a meeting's report
    # Taking up what another case left undone at the top of its ladder (an action overdue at its last
    # rung, a decision's rationale still missing after its last rung): the notice and the case page
    # offer its start form (`take_up_words`, e.g. "Challenge this"), prefilled by `take_up` from the
    # other case's view, what it is ("action" or "decision") and the item in words.
    take_up: Callable[[Mapping[str, Any], str, str], dict[str, Any]] | None = None
    take_up_words: str = ""
    # Its own report (`safeguard report COMMAND`, and a page for managers): figures over a period
    # that its timeliness report does not give (e.g. the IRO service's annual figures), titled.
    figures: Callable[[FiguresContext], list[Figure]] | None = None
    figures_title: str | None = None
    figures_name: str | None = None  # its command word (default: the process's command or code)
    # ...and the rows behind them, under the column names of a return they feed (e.g. SSDA903's)
    listing: Callable[[FiguresContext], "Listing"] | None = None
    # Shown on every open case of a child while a case of this process is open for them (e.g. "An
    # IRO challenge is open"): the board filters by it, the IRO's picture of each child shows it.
    child_flag: str | None = None
    cli: str | None = None  # its own commands as "module:typer app", e.g. `safeguard allegation`
    command: str | None = None  # the word its own commands go by, when not its code (`safeguard
    # iro challenge` for iro_dispute)
    demo: str | None = None  # its cases for `safeguard demo`: "module:function", given the Demo
    # (safeguard/demo.py), which starts and records them through the running service

    def step(self, name: str) -> StepDecl[Any, Any]:
        """Return the step called `name`, or raise InputError listing the steps."""
        for step in self.steps:
            if step.name == name:
                return step
        raise InputError(
            f"{name!r} is not a step of {self.noun}; steps: {', '.join(s.name for s in self.steps)}"
        )

    def parse_step(self, name: str, payload: Any, context: InputContext | None = None) -> StepInput:
        """Return a step's validated input, or raise InputError naming the field and an example."""
        step = self.step(name)
        return parse(step.input, payload, what=name, example=step.example, context=context)

    def case_event(self, name: str) -> CaseEventDecl:
        """Return the case event called `name`, or raise InputError listing those there are."""
        for event in self.case_events:
            if event.name == name:
                return event
        known = ", ".join(e.name for e in self.case_events) or "none"
        raise InputError(
            f"{name!r} is not an event {self.noun} case records as it comes; events: {known}"
        )

    @property
    def report_name(self) -> str:
        """The command word of its own report (`safeguard report NAME`, /reports/NAME)."""
        return self.figures_name or self.command or self.code

    @property
    def flow_path(self) -> str:
        """Return the flow as a file entrypoint, e.g. "flows/allegation.py:allegation"."""
        module, _, function = self.flow.partition(":")
        return f"{module.replace('.', '/')}.py:{function}"


def upgraded(
    payload: Mapping[str, Any], version: int, to: int, upgrades: Mapping[int, Upgrade]
) -> dict[str, Any]:
    """Return a stored input of `version` as the current version `to`, through each upgrade."""
    data = dict(payload)
    for number in range(version, to):
        data = upgrades[number](data)
    return data


def check_declaration(decl: ProcessDecl[Any]) -> None:
    """Raise ValueError naming what is wrong with a declaration (when it is registered)."""
    if not decl.code.isidentifier() or decl.code != decl.code.lower():
        raise ValueError(f"process code {decl.code!r}: use lower-case letters, digits and '_'")
    names = [s.name for s in decl.steps]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"process {decl.code}: step(s) declared twice: {', '.join(twice)}")
    if ":" not in decl.flow:
        raise ValueError(f"process {decl.code}: flow {decl.flow!r} must be 'module:function'")
    for label, version, upgrades in [
        ("start input", decl.start_version, decl.start_upgrades),
        *((f"step {s.name}", s.version, s.upgrades) for s in decl.steps),
    ]:
        missing = [n for n in range(1, version) if n not in upgrades]
        if version < 1 or missing:
            raise ValueError(
                f"process {decl.code}: {label} is at version {version} but has no upgrade from "
                f"version(s) {', '.join(map(str, missing))}: a stored input could not be read"
            )
    for step in decl.steps:
        if not issubclass(step.input, StepInput):
            raise ValueError(f"process {decl.code}: step {step.name}: input must be a StepInput")
        if not step.may_record:
            raise ValueError(f"process {decl.code}: step {step.name}: nobody may record it")

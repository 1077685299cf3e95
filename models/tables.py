"""The record: SQLModel tables for staff, cases, steps (clocks), submissions, decisions, actions
and the audit log.

Times are stored as UTC and read back timezone-aware on SQLite and PostgreSQL alike. Enums are
stored as short strings (no PostgreSQL enum types, so migrations stay plain). The audit log is
append-only in the database itself: triggers refuse UPDATE and DELETE (see the first migration).
"""

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Field, SQLModel

from models.enums import ActionStatus, CaseStatus, Role, StepStatus


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned aware, whatever the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime {value!r}: give it a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _enum(enum: type[Any]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda e: [m.value for m in e],
    )


def _utc(nullable: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable)


# --- staff -------------------------------------------------------------------------------------


class Staff(SQLModel, table=True):
    __tablename__ = "staff"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    line_manager_id: str | None = Field(default=None, foreign_key="staff.id", max_length=64)
    active: bool = True  # false once they have left: they can then do nothing
    created_at: datetime = _utc()
    left_on: date | None = None
    independent: bool = False  # external: not a member or officer of the authority (RPR reg 2)
    # Who the council's identity provider says they are (the claim SAFEGUARD_OIDC_CLAIM names:
    # an email, a user name or an object id); kept lower-case, one person each (migration 0019).
    sign_in_id: str | None = Field(default=None, max_length=320, index=True)


class StaffRole(SQLModel, table=True):
    __tablename__ = "staff_roles"

    staff_id: str = Field(foreign_key="staff.id", primary_key=True, max_length=64)
    role: Role = Field(sa_type=_enum(Role), primary_key=True)


class StaffAddress(SQLModel, table=True):
    """A notification address as an Apprise URL. A secret: never printed in full or logged."""

    __tablename__ = "staff_addresses"
    __table_args__ = (sa.UniqueConstraint("staff_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=64)
    url: str = Field(max_length=2000)
    added_at: datetime = _utc()


# --- cases and their clocks ---------------------------------------------------------------------


class Case(SQLModel, table=True):
    """One case of one process; its flow run carries only the id (DESIGN rule 2).

    `process` is a registered process's code; `details` is what its start input keeps (names and
    narrative: our database only), read with the declaration's `details_version`.
    """

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=32)
    process: str = Field(max_length=40, index=True)
    status: CaseStatus = Field(default=CaseStatus.open, sa_type=_enum(CaseStatus), index=True)
    opened_at: datetime = _utc()
    opened_by: str = Field(foreign_key="staff.id", max_length=64)
    lead_id: str = Field(foreign_key="staff.id", max_length=64)
    closed_at: datetime | None = _utc(nullable=True)
    flow_run_id: str | None = Field(default=None, max_length=36)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    details_version: int = 1
    retain_until: date | None = None  # the record kept until then (the policy's rule at closing)
    # only the people working on it and their managers may open it (models/restriction.py; the
    # decisions that set and lift it are case_restrictions, migration 0020)
    restricted: bool = False


class CaseLink(SQLModel, table=True):
    """One case linked to another, with why (e.g. "the allegation that led to the removal");
    shown on both."""

    __tablename__ = "case_links"
    __table_args__ = (sa.UniqueConstraint("case_id", "linked_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    linked_case_id: int = Field(foreign_key="cases.id", index=True)
    why: str = Field(max_length=200)


class CaseParty(SQLModel, table=True):
    """A person named in a case in a role (the lead, a supervising social worker...): a step owned by
    that role is theirs, and notices for that role go to them, not to every holder of the role."""

    __tablename__ = "case_parties"
    __table_args__ = (sa.UniqueConstraint("case_id", "role", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    role: Role = Field(sa_type=_enum(Role))
    staff_id: str = Field(foreign_key="staff.id", max_length=64)


class Step(SQLModel, table=True):
    """A timed step: a clock with opened / due / closed and a status. Repeating steps count up."""

    __tablename__ = "steps"
    __table_args__ = (sa.UniqueConstraint("case_id", "name", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    name: str = Field(max_length=64)
    sequence: int = 1
    owner_id: str | None = Field(default=None, foreign_key="staff.id", max_length=64)
    status: StepStatus = Field(default=StepStatus.open, sa_type=_enum(StepStatus), index=True)
    opened_at: datetime = _utc()
    due_on: date
    deadline_at: datetime = Field(sa_type=UTCDateTime, index=True)
    closed_at: datetime | None = _utc(nullable=True)
    wait_key: str | None = Field(default=None, max_length=100)  # the flow's suspend key for it


class Submission(SQLModel, table=True):
    """What a person sent, exactly as validated; decisions and actions are derived from it.

    One live submission per step (a partial unique index: a second one at once is refused by the
    database itself); one the flow could not apply is kept, marked failed with the reason.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        sa.Index(
            "uq_submissions_live_step",
            "step_id",
            unique=True,
            sqlite_where=sa.text("failed_at IS NULL"),
            postgresql_where=sa.text("failed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="steps.id")
    kind: str = Field(max_length=64)
    author_id: str = Field(foreign_key="staff.id", max_length=64)
    author_role: Role = Field(sa_type=_enum(Role))
    effective_at: datetime = _utc()
    recorded_at: datetime = _utc()
    idempotency_key: str | None = Field(default=None, unique=True, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    schema_version: int = 1  # the step's input version it was written under
    applied_at: datetime | None = _utc(nullable=True)  # when the flow applied it to the case
    late_reason: str | None = Field(default=None, max_length=4000)  # done after its due day: why
    failed_at: datetime | None = _utc(nullable=True)  # when the flow found it could not apply it
    failure: str | None = Field(default=None, max_length=500)  # why (no narrative, no values)


class Decision(SQLModel, table=True):
    """A decision with its author and role; its rationale may follow (then a rationale clock runs)."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="steps.id")
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")
    kind: str = Field(max_length=64)
    value: str = Field(max_length=200)
    author_id: str = Field(foreign_key="staff.id", max_length=64)
    author_role: Role = Field(sa_type=_enum(Role))
    decided_at: datetime = _utc()
    recorded_at: datetime = _utc()
    rationale_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Rationale(SQLModel, table=True):
    """The reasons for a decision. Append-only: a correction is a further entry."""

    __tablename__ = "rationales"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decisions.id", index=True)
    text: str = Field(sa_type=sa.Text)
    author_id: str = Field(foreign_key="staff.id", max_length=64)
    author_role: Role = Field(sa_type=_enum(Role))
    recorded_at: datetime = _utc()


class Action(SQLModel, table=True):
    """An action agreed at a meeting: an owner, a due day, and a status kept by its updates."""

    __tablename__ = "actions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="steps.id")
    title: str = Field(max_length=300)
    owner_id: str = Field(foreign_key="staff.id", max_length=64)
    due_on: date = Field(index=True)
    status: ActionStatus = Field(default=ActionStatus.open, sa_type=_enum(ActionStatus), index=True)
    created_at: datetime = _utc()
    created_by: str = Field(foreign_key="staff.id", max_length=64)


class ActionUpdate(SQLModel, table=True):
    """One change to an action (done, carried forward with a new due day, no longer needed)."""

    __tablename__ = "action_updates"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="actions.id", index=True)
    status: ActionStatus = Field(sa_type=_enum(ActionStatus))
    reason: str | None = Field(default=None, sa_type=sa.Text)
    new_due_on: date | None = None
    author_id: str = Field(foreign_key="staff.id", max_length=64)
    author_role: Role = Field(sa_type=_enum(Role))
    recorded_at: datetime = _utc()
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")


# --- the audit log --------------------------------------------------------------------------------


class AuditEntry(SQLModel, table=True):
    """Who did what, when. Append-only in the database; holds no addresses or other secrets."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc()
    actor_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64, index=True)
    case_id: int | None = Field(default=None, index=True)
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(max_length=64)  # the entry before's hash: the chain (models/audit.py)
    hash: str = Field(max_length=64)


# --- children and events of a case (migration 0002) ------------------------------------------------


class CaseChild(SQLModel, table=True):
    """A child in a case, with the IRO and social worker who must hear of it."""

    __tablename__ = "case_children"
    __table_args__ = (sa.UniqueConstraint("case_id", "child_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    child_ref: str = Field(max_length=64)
    iro_id: str | None = Field(default=None, foreign_key="staff.id", max_length=64)
    social_worker_id: str | None = Field(default=None, foreign_key="staff.id", max_length=64)
    placed_by: str | None = Field(default=None, max_length=200)  # no IRO here: who placed them
    contact: str | None = Field(default=None, max_length=200)  # and how to reach their IRO


class CaseEvent(SQLModel, table=True):
    """A dated fact a clock counts from (referral received, meeting held, outcome recorded)."""

    __tablename__ = "case_events"
    __table_args__ = (sa.UniqueConstraint("case_id", "name", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    name: str = Field(max_length=64)
    sequence: int = 1
    at: datetime = _utc()


# --- clocks stopped and extended, notices (migration 0003) ---------------------------------------


class ClockStop(SQLModel, table=True):
    """A step's clock stopped with a reason and an approver (e.g. a police investigation).

    While stopped, the step's status is `stopped`, no ladder runs and review notices fall due. On
    resume the due day moves on by the working days the clock stood still.
    """

    __tablename__ = "clock_stops"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    step_id: int = Field(foreign_key="steps.id", index=True)
    reason: str = Field(sa_type=sa.Text)
    approver_id: str = Field(foreign_key="staff.id", max_length=64)
    approver_role: Role = Field(sa_type=_enum(Role))
    recorded_by: str = Field(foreign_key="staff.id", max_length=64)
    stopped_at: datetime = _utc()
    due_on_before: date
    resumed_at: datetime | None = _utc(nullable=True)
    resumed_by: str | None = Field(default=None, foreign_key="staff.id", max_length=64)
    working_days_stopped: int | None = None
    due_on_after: date | None = None


class Extension(SQLModel, table=True):
    """A step's timescale extended, with a reason and an approver, up to the policy's maximum."""

    __tablename__ = "extensions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    step_id: int = Field(foreign_key="steps.id", index=True)
    extended_to: str = Field(max_length=40)  # the new timescale, e.g. "65 working days"
    reason: str = Field(sa_type=sa.Text)
    approver_id: str = Field(foreign_key="staff.id", max_length=64)
    approver_role: Role = Field(sa_type=_enum(Role))
    recorded_by: str = Field(foreign_key="staff.id", max_length=64)
    recorded_at: datetime = _utc()
    due_on_before: date
    due_on_after: date
    told_on: date | None = None  # when the person was told in writing why, and the new date


class Notice(SQLModel, table=True):
    """One notice in the outbox, written before any delivery (DESIGN rule 7).

    `key` is (case, clock, kind, rung): the same notice is never written twice. The text is
    rendered once, when written, and holds no names (DESIGN rule 8). An escalation notice waits
    for acknowledgement until `ack_due_at`; then the sweep sends it up a rung, once.
    """

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    case_id: int | None = Field(
        default=None, foreign_key="cases.id", index=True
    )  # None: to a person
    kind: str = Field(max_length=40)
    clock: str = Field(max_length=80)  # what it is about, e.g. "step:12@2026-11-30", "notice:7"
    matter: str = Field(max_length=80)  # the clock at the root (an unacknowledged notice's matter)
    rung: int = 0
    due_at: datetime = _utc()  # the moment it fell due
    created_at: datetime = _utc()
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(sa_type=sa.Text)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    ack_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = _utc(nullable=True)
    acknowledged_by: str | None = Field(default=None, foreign_key="staff.id", max_length=64)


class NoticeDelivery(SQLModel, table=True):
    """A notice to one person: pending until delivered to at least one of their addresses.

    A sender claims a pending delivery (a conditional update) before sending, so two sweeps never
    send it twice; a failure records the error and when to try again.
    """

    __tablename__ = "notice_deliveries"
    __table_args__ = (sa.UniqueConstraint("notice_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notices.id", index=True)
    staff_id: str = Field(foreign_key="staff.id", max_length=64)
    because: str = Field(max_length=200)  # e.g. "owner", "lado_manager", "instead of child_iro"
    status: str = Field(default="pending", max_length=16, index=True)  # pending/sending/delivered
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = _utc(nullable=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    delivered_at: datetime | None = _utc(nullable=True)
    delivered_to: str | None = Field(default=None, sa_type=sa.Text)  # masked addresses
    # A notice that asks to be acknowledged asks each person it went to (migration 0015): one
    # person's acknowledgement never discharges another's.
    acknowledged_at: datetime | None = _utc(nullable=True)


class NotifyMessage(SQLModel, table=True):
    """A message GOV.UK Notify took for a delivery (migration 0021): its notification id, kept with
    the receipt, and what became of it (a later sweep asks Notify: delivered, or a failure)."""

    __tablename__ = "notify_messages"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="notice_deliveries.id", index=True)
    address: str = Field(max_length=80)  # masked, as every receipt
    notification_id: str = Field(max_length=64, unique=True)
    template_id: str = Field(max_length=64)
    status: str = Field(default="taken", max_length=32, index=True)
    sent_at: datetime = _utc()
    checked_at: datetime | None = _utc(nullable=True)


class SetupLink(SQLModel, table=True):
    """The first run's one-time link to set up the first administrator (migration 0017): printed
    by the service while nobody is in the staff directory; the database keeps only its SHA-256.
    It works once, while the directory is still empty, until it expires."""

    __tablename__ = "setup_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)


class AckLink(SQLModel, table=True):
    """A one-click link that acknowledges one delivery of a notice, made as the delivery is sent
    (migration 0016). The database keeps only the SHA-256 of its token; it works once, for the
    person it was sent to, signed in, until it expires. The outbox's stored bodies never hold it."""

    __tablename__ = "ack_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    delivery_id: int = Field(foreign_key="notice_deliveries.id", index=True)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)


# --- signing in to the browser app, and the access log (migration 0013) -------------------------


class StaffCredential(SQLModel, table=True):
    """A person's password for the browser (its argon2 hash only) and their failed sign-ins."""

    __tablename__ = "staff_credentials"

    staff_id: str = Field(foreign_key="staff.id", primary_key=True, max_length=64)
    password_hash: str | None = Field(default=None, max_length=200)
    set_at: datetime | None = _utc(nullable=True)
    failed_attempts: int = 0  # in a row; five lock the account for a while
    locked_until: datetime | None = _utc(nullable=True)


class WebSession(SQLModel, table=True):
    """A signed-in browser session. The cookie carries its random token, signed; the database
    keeps only the token's SHA-256 (the id), so a copy of the database opens no session."""

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=64)
    csrf: str = Field(max_length=64)  # every form of the session carries it
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    ended_at: datetime | None = _utc(nullable=True)  # signed out (or the password changed)


class SignInAttempt(SQLModel, table=True):
    """A sign-in begun at the council's identity provider and not yet come back (migration 0019).
    The browser's cookie carries the state, signed; the database keeps its SHA-256 (the id), the
    nonce and PKCE verifier it must match, where to go after, and when it was used: once only."""

    __tablename__ = "sign_in_attempts"

    id: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(max_length=128)
    verifier: str = Field(max_length=128)
    next_path: str = Field(max_length=2000)
    created_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)


class CaseView(SQLModel, table=True):
    """The access log: who viewed which case, when, and why where a reason was asked for."""

    __tablename__ = "case_views"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    staff_id: str = Field(foreign_key="staff.id", max_length=64)
    at: datetime = _utc()
    reason: str | None = Field(default=None, max_length=4000)
    via: str = Field(default="web", max_length=16)  # web, or cli (case show --as)
    refused: bool = False  # an attempt to open a restricted case, refused (migration 0020)


class CaseRestriction(SQLModel, table=True):
    """A decision to restrict a case, or to lift its restriction (append-only; migration 0020):
    why (the carer or a child is a member of staff, or related to one), in words, by whom, when."""

    __tablename__ = "case_restrictions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    restricted: bool  # True: restricted; False: the restriction lifted
    ground: str | None = Field(default=None, max_length=40)  # why restricted (None: lifted)
    reason: str = Field(max_length=4000)
    decided_by: str = Field(foreign_key="staff.id", max_length=64)
    decided_at: datetime = _utc()


class Invite(SQLModel, table=True):
    """A one-time link to set a password, sent through the outbox; the database keeps only the
    SHA-256 of its token. Used once, or not at all after it expires."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=64)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)
    created_by: str | None = Field(default=None, max_length=64)


class ServiceMark(SQLModel, table=True):
    """What the service last did, and when (migration 0018): e.g. "sweep", written by each sweep
    when it has delivered; /health reads it. No personal data."""

    __tablename__ = "service_marks"

    name: str = Field(primary_key=True, max_length=40)
    at: datetime = _utc()
    seconds: float | None = None  # how long it took (migration 0022)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # what it found: counts only

"""processes as declarations: case details and lead, named parties, wait keys, input versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:00:00

- cases.process is a registered process's code (it was already a 40-character string);
- cases.lead_id (who leads the case: the LADO who opened an allegation), cases.details and
  cases.details_version (what the process's start input keeps): an allegation's row of
  allegation_details moves there, and that table goes;
- case_parties: people named in a case by role (an allegation's LADO under "lado");
- steps.wait_key: the flow's suspend key for the step (a phase's steps share one);
- submissions.schema_version: the version of the step's input it was written under.
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLE = sa.Enum(
    "lado",
    "lado_manager",
    "iro",
    "iro_manager",
    "social_worker",
    "supervising_social_worker",
    "team_manager",
    "service_manager",
    "head_of_service",
    "director",
    "complaints_manager",
    "investigating_officer",
    "independent_person",
    name="role",
    native_enum=False,
    create_constraint=False,
    length=40,
)

cases = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("process", sa.String),
    sa.column("opened_by", sa.String),
    sa.column("lead_id", sa.String),
    sa.column("details", sa.JSON),
)
steps = sa.table(
    "steps",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("sequence", sa.Integer),
    sa.column("wait_key", sa.String),
)
parties = sa.table(
    "case_parties",
    sa.column("case_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("staff_id", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("details_version", sa.Integer(), nullable=False, server_default="1")
        )
    op.create_table(
        "case_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "role", "staff_id"),
    )
    with op.batch_alter_table("case_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_parties_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wait_key", sa.String(length=100), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("schema_version", sa.Integer(), nullable=False, server_default="1")
        )

    conn = op.get_bind()
    details = sa.table(
        "allegation_details",
        sa.column("case_id", sa.Integer),
        sa.column("received_at", sa.DateTime),
        sa.column("aware_on", sa.Date),
        sa.column("carer_ref", sa.String),
        sa.column("fostering_service", sa.String),
        sa.column("category", sa.String),
        sa.column("summary", sa.Text),
    )
    kept = {
        row.case_id: {
            "received_at": row.received_at.replace(tzinfo=UTC).isoformat(),
            "aware_on": row.aware_on.isoformat(),
            "carer": row.carer_ref,
            "fostering_service": row.fostering_service,
            "category": row.category,
            "summary": row.summary,
        }
        for row in conn.execute(sa.select(details))
    }
    for case in conn.execute(sa.select(cases.c.id, cases.c.process, cases.c.opened_by)).all():
        conn.execute(
            sa.update(cases)
            .where(cases.c.id == case.id)
            .values(lead_id=case.opened_by, details=kept.get(case.id, {}))
        )
        if case.process == "allegation":
            conn.execute(
                sa.insert(parties).values(case_id=case.id, role="lado", staff_id=case.opened_by)
            )
    for step in conn.execute(sa.select(steps.c.id, steps.c.name, steps.c.sequence)).all():
        conn.execute(
            sa.update(steps)
            .where(steps.c.id == step.id)
            .values(wait_key=f"{step.name.replace('_', '-')}-{step.sequence}")
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("lead_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("details", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("details_version", server_default=None)
        batch_op.create_foreign_key("fk_cases_lead_id_staff", "staff", ["lead_id"], ["id"])
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("schema_version", server_default=None)
    op.drop_table("allegation_details")


def downgrade() -> None:
    op.create_table(
        "allegation_details",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("referral_late", sa.Boolean(), nullable=False),
        sa.Column("carer_ref", sa.String(length=64), nullable=False),
        sa.Column("fostering_service", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    conn = op.get_bind()
    late = sa.table(
        "steps",
        sa.column("case_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("closed_at", sa.DateTime),
        sa.column("deadline_at", sa.DateTime),
    )
    referral_late = {
        row.case_id: row.closed_at is not None and row.closed_at >= row.deadline_at
        for row in conn.execute(sa.select(late).where(late.c.name == "referral"))
    }
    details = sa.table(
        "allegation_details",
        *(
            sa.column(n)
            for n in (
                "case_id",
                "received_at",
                "aware_on",
                "referral_late",
                "carer_ref",
                "fostering_service",
                "category",
                "summary",
            )
        ),
    )
    for case in conn.execute(
        sa.select(cases.c.id, cases.c.details).where(cases.c.process == "allegation")
    ).all():
        kept = case.details or {}
        conn.execute(
            sa.insert(details).values(
                case_id=case.id,
                received_at=datetime.fromisoformat(kept["received_at"])
                .astimezone(UTC)
                .replace(tzinfo=None),
                aware_on=date.fromisoformat(kept["aware_on"]),
                referral_late=referral_late.get(case.id, False),
                carer_ref=kept["carer"],
                fostering_service=kept["fostering_service"],
                category=kept["category"],
                summary=kept["summary"],
            )
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("schema_version")
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.drop_column("wait_key")
    with op.batch_alter_table("case_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_parties_case_id"))
    op.drop_table("case_parties")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cases_lead_id_staff", type_="foreignkey")
        batch_op.drop_column("details_version")
        batch_op.drop_column("details")
        batch_op.drop_column("lead_id")

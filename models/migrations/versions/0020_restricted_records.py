"""restricted records: a case only the people working on it and their managers may open

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 02:10:00

- cases.restricted: whether the case is restricted now (what the board and search read).
- case_restrictions: each decision to restrict or lift it (append-only): the ground, the reason,
  who decided, when.
- case_views.refused: an attempt to open a restricted case, refused (shown in its access log).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("case_views") as batch:
        batch.add_column(
            sa.Column("refused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "case_restrictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("ground", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_restrictions_case_id", "case_restrictions", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_restrictions_case_id", table_name="case_restrictions")
    op.drop_table("case_restrictions")
    with op.batch_alter_table("case_views") as batch:
        batch.drop_column("refused")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("restricted")

"""one live submission per step, enforced by the database; a failed submission kept with its reason

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 17:30:00

Two people recording the same step at once: SQLite's write lock serialised them, PostgreSQL did not.
A partial unique index allows one submission per step that has not failed (a submission the flow
could not apply is marked failed, with the reason, and the step takes a corrected one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.String(length=500), nullable=True))
    op.create_index(
        "uq_submissions_live_step",
        "submissions",
        ["step_id"],
        unique=True,
        sqlite_where=sa.text("failed_at IS NULL"),
        postgresql_where=sa.text("failed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_submissions_live_step", table_name="submissions")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("failure")
        batch_op.drop_column("failed_at")

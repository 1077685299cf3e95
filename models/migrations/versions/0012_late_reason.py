"""why a step was done after its due day

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 21:15:00

- submissions.late_reason: the reason a step was done after its due day, given with the record
  (`record --late-reason`); without it the lateness is a decision whose rationale falls due
  (DESIGN rule 9).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_reason", sa.String(length=4000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("late_reason")

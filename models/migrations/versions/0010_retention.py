"""a closed case's retention date

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 21:00:00

- cases.retain_until: the day the case's record is kept until, set when the case closes by its
  process's retention rule (an allegation: the later of the carer's pension age, if known, and 10
  years from the allegation; reference L12).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retain_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("retain_until")

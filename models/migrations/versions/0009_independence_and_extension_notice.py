"""staff who are independent of the authority; the day the complainant was told of an extension

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:30:00

- staff.independent: an external person (RPR 2006 reg 2: not a member or officer of the authority,
  nor the spouse or civil partner of one), who alone may be a stage 2 independent person or sit on
  a review panel;
- extensions.told_on: the day the person was told in writing why and of the new date (RPR reg 17).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("independent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.alter_column("independent", server_default=None)
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_column("told_on")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("independent")

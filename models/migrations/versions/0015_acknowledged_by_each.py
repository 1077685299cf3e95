"""acknowledged by each: a notice that asks to be acknowledged asks each person it went to

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:00:00

- notice_deliveries.acknowledged_at: when that person acknowledged it. The notice's own
  acknowledged_at/by then say when the last of them did (and who). A notice acknowledged before
  this revision was acknowledged for everyone it went to: its deliveries take its moment.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE notice_deliveries SET acknowledged_at = (SELECT notices.acknowledged_at FROM "
        "notices WHERE notices.id = notice_deliveries.notice_id) WHERE notice_id IN (SELECT id "
        "FROM notices WHERE acknowledged_at IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("notice_deliveries", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")

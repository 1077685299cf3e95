"""what the service last did, in more detail: how long the sweep took, what the repair found

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 02:30:00

- service_marks.seconds: how long it took (the sweep's duration, for /metrics).
- service_marks.detail: what it found, counts only (the repair: cases found stuck, carried on).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_marks") as batch:
        batch.add_column(sa.Column("seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_marks") as batch:
        batch.drop_column("detail")
        batch.drop_column("seconds")

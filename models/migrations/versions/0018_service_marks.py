"""what the service last did: the last sweep's time, for /health

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:20:00

- service_marks: one row a mark (e.g. "sweep") with the moment it last happened; written by the
  sweep when it has delivered, read by /health. No personal data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("service_marks")

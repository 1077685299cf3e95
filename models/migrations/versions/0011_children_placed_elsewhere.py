"""children whose IRO is not in the directory: who placed them, and the contact there

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 21:10:00

- case_children.iro_id and social_worker_id may be empty, for the carer's own children and
  children another authority placed;
- case_children.placed_by and contact: who placed them, and how to reach their IRO (notices meant
  for that IRO go to the case lead with the contact).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_children", schema=None) as batch_op:
        batch_op.alter_column("iro_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("social_worker_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("placed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("contact", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_children", schema=None) as batch_op:
        batch_op.drop_column("contact")
        batch_op.drop_column("placed_by")
        batch_op.alter_column(
            "social_worker_id", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.alter_column("iro_id", existing_type=sa.String(length=64), nullable=False)

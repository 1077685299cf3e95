"""one-click acknowledgement: each delivery of a notice that asks to be acknowledged carries its
own link

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:00:00

- ack_links: the SHA-256 of each one-click token, the delivery it acknowledges, when it expires
  and was used. Made as the delivery is sent; the notice's stored bodies never hold it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ack_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["notice_deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("ack_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ack_links_delivery_id"), ["delivery_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ack_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ack_links_delivery_id"))
    op.drop_table("ack_links")

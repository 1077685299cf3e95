"""GOV.UK Notify: the messages it took, kept with their receipts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 02:20:00

- notify_messages: for a delivery, each message GOV.UK Notify accepted (the address masked, the
  notification id, the template) and what became of it (asked by a later sweep).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=80), nullable=False),
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["notice_deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id"),
    )
    op.create_index("ix_notify_messages_delivery_id", "notify_messages", ["delivery_id"])
    op.create_index("ix_notify_messages_status", "notify_messages", ["status"])


def downgrade() -> None:
    op.drop_index("ix_notify_messages_status", table_name="notify_messages")
    op.drop_index("ix_notify_messages_delivery_id", table_name="notify_messages")
    op.drop_table("notify_messages")

"""signing in to the browser app: passwords, sessions, and the access log of case views

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 23:40:00

- staff_credentials: a person's argon2 password hash, failed sign-ins in a row, locked until.
- web_sessions: a browser session (the SHA-256 of its token; the token is only in the signed
  cookie), its CSRF token, when it began, expires and ended (sign-out).
- case_views: the access log: who viewed which case, when, why (where asked), from where.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_credentials",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "case_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_views_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_views_case_id"))
    op.drop_table("case_views")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_staff_id"))
    op.drop_table("web_sessions")
    op.drop_table("staff_credentials")

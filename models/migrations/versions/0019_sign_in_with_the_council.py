"""signing in with the council's identity provider (OpenID Connect)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 02:00:00

- staff.sign_in_id: who the identity provider says a person is (an email, a user name or an
  object id, lower-case); matched at sign-in, one person each.
- sign_in_attempts: a sign-in sent to the provider and not yet back (the state's SHA-256, the
  nonce and PKCE verifier, where to go after, when it was used: once only).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("sign_in_id", sa.String(length=320), nullable=True))
        batch.create_index("ix_staff_sign_in_id", ["sign_in_id"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("staff") as batch:
        batch.drop_index("ix_staff_sign_in_id")
        batch.drop_column("sign_in_id")

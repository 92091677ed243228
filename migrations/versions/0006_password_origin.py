"""users.password_org_id: a password an administrator chose opens only that organisation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users keep signing in everywhere: whose choice their password was is not known.
    op.add_column("users", sa.Column("password_org_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_password_org_id_organisations"),
        "users",
        "organisations",
        ["password_org_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_users_password_org_id_organisations"), "users", type_="foreignkey")
    op.drop_column("users", "password_org_id")

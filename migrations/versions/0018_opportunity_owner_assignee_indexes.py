"""opportunity owner and assignee indexes: an opportunity is visible to whoever owns it or is
assigned to it, whatever its account, and each scope path is served by an index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_opportunities_owner", "opportunities", ["org_id", "owner_member_id"], unique=False)
    op.create_index(
        "ix_opportunities_assignee", "opportunities", ["org_id", "assigned_member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_opportunities_assignee", table_name="opportunities")
    op.drop_index("ix_opportunities_owner", table_name="opportunities")

"""covering indexes for scoped lists: live ids with their sort keys, a rep's account ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_contacts_live",
        "contacts",
        ["org_id", "id"],
        postgresql_include=["created_at", "updated_at", "display_name"],
        postgresql_where="deleted_at IS NULL",
    )
    op.create_index(
        "ix_accounts_live",
        "accounts",
        ["org_id", "id"],
        postgresql_include=["created_at", "updated_at", "name", "number"],
        postgresql_where="deleted_at IS NULL",
    )
    op.drop_index("ix_account_sales_reps_code", table_name="account_sales_reps")
    op.create_index(
        "ix_account_sales_reps_code",
        "account_sales_reps",
        ["org_id", "sales_rep_code"],
        postgresql_include=["account_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_account_sales_reps_code", table_name="account_sales_reps")
    op.create_index("ix_account_sales_reps_code", "account_sales_reps", ["org_id", "sales_rep_code"])
    op.drop_index("ix_accounts_live", table_name="accounts")
    op.drop_index("ix_contacts_live", table_name="contacts")

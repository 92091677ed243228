"""opportunities (scoped through their account, moved through stages); leads get tags and a
board index (status, then the order they came)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:51:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crmapi.kit.migrate import tenant_isolation

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Uuid(), nullable=False),
        sa.Column("status_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("partner", sa.Text(), nullable=True),
        sa.Column("amount_amount", sa.Numeric(precision=19, scale=4), nullable=True),
        sa.Column("amount_currency", sa.CHAR(length=3), nullable=True),
        sa.Column("budget_amount", sa.Numeric(precision=19, scale=4), nullable=True),
        sa.Column("budget_currency", sa.CHAR(length=3), nullable=True),
        sa.Column("cost_conscious", sa.Boolean(), nullable=False),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("alternative_close_date", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interest_level", sa.Text(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("objection", sa.Text(), nullable=True),
        sa.Column("lost_reason_id", sa.Uuid(), nullable=True),
        sa.Column("won_reason", sa.Text(), nullable=True),
        sa.Column("decision_maker", sa.Text(), nullable=True),
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_member_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_member_id", sa.Uuid(), nullable=True),
        sa.Column("business_unit_id", sa.Uuid(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "account_id"],
            ["accounts.org_id", "accounts.id"],
            name=op.f("fk_opportunities_org_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "assigned_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_opportunities_org_id_assigned_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "business_unit_id"],
            ["business_units.org_id", "business_units.id"],
            name=op.f("fk_opportunities_org_id_business_unit_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "contact_id"],
            ["contacts.org_id", "contacts.id"],
            name=op.f("fk_opportunities_org_id_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "lead_id"],
            ["leads.org_id", "leads.id"],
            name=op.f("fk_opportunities_org_id_lead_id_leads"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "lost_reason_id"],
            ["lost_reasons.org_id", "lost_reasons.id"],
            name=op.f("fk_opportunities_org_id_lost_reason_id_lost_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_opportunities_org_id_owner_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "status_id"],
            ["lifecycle_statuses.org_id", "lifecycle_statuses.id"],
            name=op.f("fk_opportunities_org_id_status_id_lifecycle_statuses"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "type_id"],
            ["lifecycle_types.org_id", "lifecycle_types.id"],
            name=op.f("fk_opportunities_org_id_type_id_lifecycle_types"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_opportunities_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("org_id", "number", name=op.f("uq_opportunities_org_id_number")),
    )
    op.create_index("ix_opportunities_account", "opportunities", ["org_id", "account_id"], unique=False)
    op.create_index("ix_opportunities_created", "opportunities", ["org_id", "created_at", "id"], unique=False)
    op.create_index("ix_opportunities_lead", "opportunities", ["org_id", "lead_id"], unique=False)
    op.create_index(
        "ix_opportunities_search_trgm",
        "opportunities",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_opportunities_status_created",
        "opportunities",
        ["org_id", "status_id", "created_at", "id"],
        unique=False,
    )
    op.create_index("ix_opportunities_tags", "opportunities", ["tags"], unique=False, postgresql_using="gin")
    op.create_index("ix_opportunities_updated", "opportunities", ["org_id", "updated_at", "id"], unique=False)
    # Existing leads get no tags; later rows always send them.
    op.add_column(
        "leads",
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'")),
    )
    op.alter_column("leads", "tags", server_default=None)
    op.drop_index(op.f("ix_leads_status"), table_name="leads")
    op.create_index(
        "ix_leads_status_created", "leads", ["org_id", "status_id", "created_at", "id"], unique=False
    )
    op.create_index("ix_leads_tags", "leads", ["tags"], unique=False, postgresql_using="gin")
    for statement in tenant_isolation("opportunities"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_leads_tags", table_name="leads", postgresql_using="gin")
    op.drop_index("ix_leads_status_created", table_name="leads")
    op.create_index(op.f("ix_leads_status"), "leads", ["org_id", "status_id"], unique=False)
    op.drop_column("leads", "tags")
    op.drop_index("ix_opportunities_updated", table_name="opportunities")
    op.drop_index("ix_opportunities_tags", table_name="opportunities", postgresql_using="gin")
    op.drop_index("ix_opportunities_status_created", table_name="opportunities")
    op.drop_index(
        "ix_opportunities_search_trgm",
        table_name="opportunities",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_opportunities_lead", table_name="opportunities")
    op.drop_index("ix_opportunities_created", table_name="opportunities")
    op.drop_index("ix_opportunities_account", table_name="opportunities")
    op.drop_table("opportunities")

"""leads: prospects worked through the lead life cycle, scoped by owner, assignee and unit

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:36:25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crmapi.kit.migrate import tenant_isolation

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Uuid(), nullable=False),
        sa.Column("status_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("importance_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("time_zone", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("objection", sa.Text(), nullable=True),
        sa.Column("call_tries", sa.Integer(), nullable=False),
        sa.Column("call_date", sa.Date(), nullable=True),
        sa.Column("call_code", sa.Text(), nullable=True),
        sa.Column("call_status", sa.Text(), nullable=True),
        sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("product_refs", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("competitor_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("business_unit_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_member_id", sa.Uuid(), nullable=True),
        sa.Column("owner_member_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lost_reason_id", sa.Uuid(), nullable=True),
        sa.Column("cancellation_reason_id", sa.Uuid(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_completion_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("fk_leads_org_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "assigned_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_leads_org_id_assigned_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "business_unit_id"],
            ["business_units.org_id", "business_units.id"],
            name=op.f("fk_leads_org_id_business_unit_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "cancellation_reason_id"],
            ["cancellation_reasons.org_id", "cancellation_reasons.id"],
            name=op.f("fk_leads_org_id_cancellation_reason_id_cancellation_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "category_id"],
            ["categories.org_id", "categories.id"],
            name=op.f("fk_leads_org_id_category_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "contact_id"],
            ["contacts.org_id", "contacts.id"],
            name=op.f("fk_leads_org_id_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "importance_id"],
            ["importance_levels.org_id", "importance_levels.id"],
            name=op.f("fk_leads_org_id_importance_id_importance_levels"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "lost_reason_id"],
            ["lost_reasons.org_id", "lost_reasons.id"],
            name=op.f("fk_leads_org_id_lost_reason_id_lost_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_leads_org_id_owner_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "status_id"],
            ["lifecycle_statuses.org_id", "lifecycle_statuses.id"],
            name=op.f("fk_leads_org_id_status_id_lifecycle_statuses"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "type_id"],
            ["lifecycle_types.org_id", "lifecycle_types.id"],
            name=op.f("fk_leads_org_id_type_id_lifecycle_types"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_leads_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_leads")),
        sa.UniqueConstraint("org_id", "number", name=op.f("uq_leads_org_id_number")),
    )
    op.create_index("ix_leads_account", "leads", ["org_id", "account_id"], unique=False)
    op.create_index("ix_leads_assignee", "leads", ["org_id", "assigned_member_id"], unique=False)
    op.create_index("ix_leads_contact", "leads", ["org_id", "contact_id"], unique=False)
    op.create_index("ix_leads_created", "leads", ["org_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_leads_expected_open",
        "leads",
        ["org_id", "expected_completion_at"],
        unique=False,
        postgresql_where=sa.text("completed_at IS NULL AND deleted_at IS NULL"),
    )
    op.create_index("ix_leads_owner", "leads", ["org_id", "owner_member_id"], unique=False)
    op.create_index(
        "ix_leads_search_trgm",
        "leads",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_leads_status", "leads", ["org_id", "status_id"], unique=False)
    op.create_index("ix_leads_unit", "leads", ["org_id", "business_unit_id"], unique=False)
    op.create_index("ix_leads_updated", "leads", ["org_id", "updated_at", "id"], unique=False)
    for statement in tenant_isolation("leads"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_leads_updated", table_name="leads")
    op.drop_index("ix_leads_unit", table_name="leads")
    op.drop_index("ix_leads_status", table_name="leads")
    op.drop_index(
        "ix_leads_search_trgm",
        table_name="leads",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_leads_owner", table_name="leads")
    op.drop_index(
        "ix_leads_expected_open",
        table_name="leads",
        postgresql_where=sa.text("completed_at IS NULL AND deleted_at IS NULL"),
    )
    op.drop_index("ix_leads_created", table_name="leads")
    op.drop_index("ix_leads_contact", table_name="leads")
    op.drop_index("ix_leads_assignee", table_name="leads")
    op.drop_index("ix_leads_account", table_name="leads")
    op.drop_table("leads")

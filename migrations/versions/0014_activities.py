"""activities: tasks worked through the activity life cycle, on their own or for a contact,
account, lead or opportunity, with a reminder; a lead"s reminder can be closed too

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:00:15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmapi.kit.migrate import tenant_isolation

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Uuid(), nullable=False),
        sa.Column("status_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("cancellation_reason_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("opportunity_id", sa.Uuid(), nullable=True),
        sa.Column("business_unit_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_member_id", sa.Uuid(), nullable=True),
        sa.Column("owner_member_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_completion_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_closed_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("fk_activities_org_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "assigned_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_activities_org_id_assigned_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "business_unit_id"],
            ["business_units.org_id", "business_units.id"],
            name=op.f("fk_activities_org_id_business_unit_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "cancellation_reason_id"],
            ["cancellation_reasons.org_id", "cancellation_reasons.id"],
            name=op.f("fk_activities_org_id_cancellation_reason_id_cancellation_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "category_id"],
            ["categories.org_id", "categories.id"],
            name=op.f("fk_activities_org_id_category_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "contact_id"],
            ["contacts.org_id", "contacts.id"],
            name=op.f("fk_activities_org_id_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "lead_id"],
            ["leads.org_id", "leads.id"],
            name=op.f("fk_activities_org_id_lead_id_leads"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "opportunity_id"],
            ["opportunities.org_id", "opportunities.id"],
            name=op.f("fk_activities_org_id_opportunity_id_opportunities"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_activities_org_id_owner_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "status_id"],
            ["lifecycle_statuses.org_id", "lifecycle_statuses.id"],
            name=op.f("fk_activities_org_id_status_id_lifecycle_statuses"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "type_id"],
            ["lifecycle_types.org_id", "lifecycle_types.id"],
            name=op.f("fk_activities_org_id_type_id_lifecycle_types"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_activities_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_activities")),
        sa.UniqueConstraint("org_id", "number", name=op.f("uq_activities_org_id_number")),
    )
    op.create_index("ix_activities_account", "activities", ["org_id", "account_id"], unique=False)
    op.create_index("ix_activities_assignee", "activities", ["org_id", "assigned_member_id"], unique=False)
    op.create_index("ix_activities_contact", "activities", ["org_id", "contact_id"], unique=False)
    op.create_index("ix_activities_created", "activities", ["org_id", "created_at", "id"], unique=False)
    op.create_index("ix_activities_lead", "activities", ["org_id", "lead_id"], unique=False)
    op.create_index("ix_activities_opportunity", "activities", ["org_id", "opportunity_id"], unique=False)
    op.create_index("ix_activities_owner", "activities", ["org_id", "owner_member_id"], unique=False)
    op.create_index(
        "ix_activities_reminders",
        "activities",
        ["org_id", "reminder_at"],
        unique=False,
        postgresql_where=sa.text(
            "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
        ),
    )
    op.create_index(
        "ix_activities_status_created",
        "activities",
        ["org_id", "status_id", "created_at", "id"],
        unique=False,
    )
    op.create_index("ix_activities_unit", "activities", ["org_id", "business_unit_id"], unique=False)
    op.create_index("ix_activities_updated", "activities", ["org_id", "updated_at", "id"], unique=False)
    op.add_column("leads", sa.Column("reminder_closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_leads_reminders",
        "leads",
        ["org_id", "reminder_at"],
        unique=False,
        postgresql_where=sa.text(
            "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
        ),
    )
    for statement in tenant_isolation("activities"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(
        "ix_leads_reminders",
        table_name="leads",
        postgresql_where=sa.text(
            "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
        ),
    )
    op.drop_column("leads", "reminder_closed_at")
    op.drop_index("ix_activities_updated", table_name="activities")
    op.drop_index("ix_activities_unit", table_name="activities")
    op.drop_index("ix_activities_status_created", table_name="activities")
    op.drop_index(
        "ix_activities_reminders",
        table_name="activities",
        postgresql_where=sa.text(
            "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
        ),
    )
    op.drop_index("ix_activities_owner", table_name="activities")
    op.drop_index("ix_activities_opportunity", table_name="activities")
    op.drop_index("ix_activities_lead", table_name="activities")
    op.drop_index("ix_activities_created", table_name="activities")
    op.drop_index("ix_activities_contact", table_name="activities")
    op.drop_index("ix_activities_assignee", table_name="activities")
    op.drop_index("ix_activities_account", table_name="activities")
    op.drop_table("activities")

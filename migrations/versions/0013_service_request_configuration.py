"""Configuration for activities and service requests: the services catalogue, the prioritisation
matrix (seeded for every organisation), categories that require acceptance, and per type the
activity types it may schedule and whether responding recomputes key dates

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 10:50:50
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crmapi.kit.migrate import tenant_isolation

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "priority_matrix",
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_priority_matrix_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_priority_matrix")),
        sa.UniqueConstraint(
            "org_id", "urgency", "impact", name=op.f("uq_priority_matrix_org_id_urgency_impact")
        ),
    )
    op.create_table(
        "services",
        sa.Column("minimum_minutes", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_services_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_services")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_services_org_id_code")),
    )
    # Existing rows get the values a new one starts with; the defaults stay with the application.
    for table, column, kind, default in (
        ("categories", "requires_acceptance", sa.Boolean(), "false"),
        ("lifecycle_types", "activity_type_ids", postgresql.ARRAY(sa.Uuid()), "'{}'"),
        ("lifecycle_types", "recalculate_on_responding", sa.Boolean(), "false"),
    ):
        op.add_column(table, sa.Column(column, kind, nullable=False, server_default=sa.text(default)))
        op.alter_column(table, column, server_default=None)
    for table in ("priority_matrix", "services"):
        for statement in tenant_isolation(table):
            op.execute(statement)
    # crmapi.config.matrix.default as of this revision: urgency + impact - 1.
    op.execute(
        """
        INSERT INTO priority_matrix (org_id, id, urgency, impact, priority)
        SELECT o.id, crmapi_uuid7(), u, i, u + i - 1
        FROM organisations o CROSS JOIN generate_series(1, 5) AS u CROSS JOIN generate_series(1, 5) AS i
        """
    )


def downgrade() -> None:
    op.drop_column("lifecycle_types", "recalculate_on_responding")
    op.drop_column("lifecycle_types", "activity_type_ids")
    op.drop_column("categories", "requires_acceptance")
    op.drop_table("services")
    op.drop_table("priority_matrix")

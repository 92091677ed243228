"""lifecycle_statuses: each organisation's statuses of leads, opportunities, activities and
service requests, mapped to the kinds' fixed states; every organisation gets the defaults

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmapi.kit.migrate import tenant_isolation

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTS = [
    ("lead", "PENDING", "Pending", "pending", 10),
    ("lead", "IN_PROGRESS", "In progress", "in_progress", 20),
    ("lead", "WON", "Won", "won", 30),
    ("lead", "LOST", "Lost", "lost", 40),
    ("lead", "CANCELLED", "Cancelled", "cancelled", 50),
    ("opportunity", "OPEN", "Open", "open", 10),
    ("opportunity", "WON", "Won", "won", 20),
    ("opportunity", "LOST", "Lost", "lost", 30),
    ("opportunity", "CANCELLED", "Cancelled", "cancelled", 40),
    ("activity", "PENDING", "Pending", "pending", 10),
    ("activity", "IN_PROGRESS", "In progress", "in_progress", 20),
    ("activity", "COMPLETED", "Completed", "completed", 30),
    ("activity", "CANCELLED", "Cancelled", "cancelled", 40),
    ("service_request", "PENDING", "Pending", "pending", 10),
    ("service_request", "IN_PROGRESS", "In progress", "in_progress", 20),
    ("service_request", "RESPONDED", "Responded", "responded", 30),
    ("service_request", "TEMPORARILY_RESOLVED", "Temporarily resolved", "temporarily_resolved", 40),
    ("service_request", "FINALLY_RESOLVED", "Finally resolved", "finally_resolved", 50),
    ("service_request", "COMPLETED", "Completed", "completed", 60),
    ("service_request", "CANCELLED", "Cancelled", "cancelled", 70),
]


def upgrade() -> None:
    op.create_table(
        "lifecycle_statuses",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
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
            name=op.f("fk_lifecycle_statuses_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lifecycle_statuses")),
        sa.UniqueConstraint("org_id", "kind", "code", name=op.f("uq_lifecycle_statuses_org_id_kind_code")),
    )
    op.create_index(
        "ix_lifecycle_statuses_order", "lifecycle_statuses", ["org_id", "kind", "position"], unique=False
    )
    for statement in tenant_isolation("lifecycle_statuses"):
        op.execute(statement)
    # Every existing organisation gets what a new one starts with (crmapi.lifecycle.defaults as of
    # this revision; runs as the owner, so it sees every organisation).
    values = ",\n".join(f"('{k}', '{c}', '{n}', '{s}', {p})" for k, c, n, s, p in DEFAULTS)
    op.execute(
        f"""
        INSERT INTO lifecycle_statuses
            (org_id, id, kind, code, name, state, position, active, created_at, updated_at, version)
        SELECT o.id, crmapi_uuid7(), d.kind, d.code, d.name, d.state, d.position, true, now(), now(), 1
        FROM organisations o CROSS JOIN (VALUES {values}) AS d(kind, code, name, state, position)
        """
    )


def downgrade() -> None:
    op.drop_index("ix_lifecycle_statuses_order", table_name="lifecycle_statuses")
    op.drop_table("lifecycle_statuses")

"""The organisation"s configurable lists (categories, lost and cancellation reasons, competitors,
priority and importance levels, lead sources, lookup lists and values), life-cycle types and their
transition rules; every existing organisation gets what a new one starts with

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:30:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crmapi.kit.migrate import tenant_isolation

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "cancellation_reasons",
    "categories",
    "competitors",
    "importance_levels",
    "lead_sources",
    "lifecycle_types",
    "lookup_lists",
    "lost_reasons",
    "priority_levels",
    "lookup_values",
    "transition_rules",
)
# crmapi.config.defaults as of this revision (later changes to the defaults do not rewrite it).
LISTS = {
    "lost_reasons": [
        ("PRICE", "Price"),
        ("COMPETITOR", "Went to a competitor"),
        ("NO_INTEREST", "No interest"),
        ("OTHER", "Other"),
    ],
    "cancellation_reasons": [
        ("DUPLICATE", "Duplicate"),
        ("MISTAKE", "Created by mistake"),
        ("OTHER", "Other"),
    ],
    "importance_levels": [("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")],
    "lead_sources": [
        ("ADVERTISEMENT", "Advertisement"),
        ("NOTIFICATION", "Notification"),
        ("COMMUNICATION", "Communication"),
        ("RECOMMENDED_BY_CONTACT", "Recommended by contact"),
        ("RECOMMENDED_BY_EMPLOYEE", "Recommended by employee"),
        ("RECOMMENDED_BY_PARTNER", "Recommended by partner"),
        ("WEBSITE", "Website"),
        ("OTHER", "Other"),
        ("CUSTOM_1", "Custom 1"),
        ("CUSTOM_2", "Custom 2"),
        ("CUSTOM_3", "Custom 3"),
        ("CUSTOM_4", "Custom 4"),
        ("CUSTOM_5", "Custom 5"),
    ],
    "lookup_lists": [("CALL_CODE", "Call code"), ("CALL_STATUS", "Call status")],
}
PRIORITIES = [
    "Critical",
    "Very high",
    "High",
    "Above normal",
    "Normal",
    "Below normal",
    "Low",
    "Very low",
    "Minimal",
    "Lowest",
]
LOOKUP_VALUES = {
    "CALL_CODE": [
        ("NO_ANSWER", "No answer"),
        ("BUSY", "Busy"),
        ("CALL_BACK", "Call back"),
        ("INTERESTED", "Interested"),
        ("NOT_INTERESTED", "Not interested"),
    ],
    "CALL_STATUS": [("NOT_STARTED", "Not started"), ("IN_PROGRESS", "In progress"), ("DONE", "Done")],
}
COMMON = "created_at, updated_at, version"


def _values(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"('{code}', '{name}', {10 * n})" for n, (code, name) in enumerate(pairs, start=1))


def _seed() -> None:
    """Runs as the owner, so it sees every organisation."""
    for table, pairs in LISTS.items():
        op.execute(
            f"""
            INSERT INTO {table} (org_id, id, code, name, position, active, {COMMON})
            SELECT o.id, crmapi_uuid7(), d.code, d.name, d.position, true, now(), now(), 1
            FROM organisations o CROSS JOIN (VALUES {_values(pairs)}) AS d(code, name, position)
            """
        )
    levels = _values([(str(n), label) for n, label in enumerate(PRIORITIES, start=1)])
    op.execute(
        f"""
        INSERT INTO priority_levels (org_id, id, code, name, level, position, active, {COMMON})
        SELECT o.id, crmapi_uuid7(), d.code, d.name, d.code::int, d.position, true, now(), now(), 1
        FROM organisations o CROSS JOIN (VALUES {levels}) AS d(code, name, position)
        """
    )
    for list_code, pairs in LOOKUP_VALUES.items():
        op.execute(
            f"""
            INSERT INTO lookup_values (org_id, id, list_id, code, name, position, active, {COMMON})
            SELECT l.org_id, crmapi_uuid7(), l.id, d.code, d.name, d.position, true, now(), now(), 1
            FROM lookup_lists l CROSS JOIN (VALUES {_values(pairs)}) AS d(code, name, position)
            WHERE l.code = '{list_code}'
            """
        )
    # A default "Standard" type per kind with every status of the kind, the first of each state
    # its default.
    op.execute(
        f"""
        INSERT INTO lifecycle_types
            (org_id, id, kind, code, name, position, active, is_default, status_ids, default_status_ids,
             category_ids, creating_unit_ids, auto_convert, {COMMON})
        SELECT s.org_id, crmapi_uuid7(), s.kind, 'STANDARD', 'Standard', 10, true, true,
               array_agg(s.id ORDER BY s.position, s.id),
               array_agg(s.id ORDER BY s.position, s.id) FILTER (WHERE s.first_of_state),
               '{{}}', '{{}}', false, now(), now(), 1
        FROM (
            SELECT org_id, id, kind, position,
                   row_number() OVER (PARTITION BY org_id, kind, state ORDER BY position, id) = 1
                       AS first_of_state
            FROM lifecycle_statuses
            WHERE active
        ) s
        GROUP BY s.org_id, s.kind
        """
    )


def upgrade() -> None:
    op.create_table(
        "cancellation_reasons",
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
            name=op.f("fk_cancellation_reasons_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_cancellation_reasons")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_cancellation_reasons_org_id_code")),
    )
    op.create_table(
        "categories",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
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
            ["org_id", "parent_id"],
            ["categories.org_id", "categories.id"],
            name=op.f("fk_categories_org_id_parent_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_categories_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_categories")),
        sa.UniqueConstraint("org_id", "kind", "code", name=op.f("uq_categories_org_id_kind_code")),
    )
    op.create_index("ix_categories_parent", "categories", ["org_id", "kind", "parent_id"], unique=False)
    op.create_table(
        "competitors",
        sa.Column("website", sa.Text(), nullable=True),
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
            name=op.f("fk_competitors_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_competitors")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_competitors_org_id_code")),
    )
    op.create_table(
        "importance_levels",
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
            name=op.f("fk_importance_levels_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_importance_levels")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_importance_levels_org_id_code")),
    )
    op.create_table(
        "lead_sources",
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
            name=op.f("fk_lead_sources_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lead_sources")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_lead_sources_org_id_code")),
    )
    op.create_table(
        "lifecycle_types",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("status_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("default_status_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("category_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("default_category_id", sa.Uuid(), nullable=True),
        sa.Column("creating_unit_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("complete_within", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("default_priority", sa.Integer(), nullable=True),
        sa.Column("default_importance_id", sa.Uuid(), nullable=True),
        sa.Column("auto_convert", sa.Boolean(), nullable=False),
        sa.Column("conversion_classification", sa.Text(), nullable=True),
        sa.Column("conversion_credit_rating", sa.Text(), nullable=True),
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
            name=op.f("fk_lifecycle_types_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lifecycle_types")),
        sa.UniqueConstraint("org_id", "kind", "code", name=op.f("uq_lifecycle_types_org_id_kind_code")),
    )
    op.create_index(
        "uq_lifecycle_types_default",
        "lifecycle_types",
        ["org_id", "kind"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "lookup_lists",
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
            name=op.f("fk_lookup_lists_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lookup_lists")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_lookup_lists_org_id_code")),
    )
    op.create_table(
        "lost_reasons",
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
            name=op.f("fk_lost_reasons_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lost_reasons")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_lost_reasons_org_id_code")),
    )
    op.create_table(
        "priority_levels",
        sa.Column("level", sa.Integer(), nullable=False),
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
            name=op.f("fk_priority_levels_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_priority_levels")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_priority_levels_org_id_code")),
    )
    op.create_table(
        "lookup_values",
        sa.Column("list_id", sa.Uuid(), nullable=False),
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
            ["org_id", "list_id"],
            ["lookup_lists.org_id", "lookup_lists.id"],
            name=op.f("fk_lookup_values_org_id_list_id_lookup_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lookup_values_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_lookup_values")),
        sa.UniqueConstraint("org_id", "list_id", "code", name=op.f("uq_lookup_values_org_id_list_id_code")),
    )
    op.create_table(
        "transition_rules",
        sa.Column("type_id", sa.Uuid(), nullable=False),
        sa.Column("from_status_id", sa.Uuid(), nullable=False),
        sa.Column("to_status_id", sa.Uuid(), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("unit_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
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
            ["org_id", "type_id"],
            ["lifecycle_types.org_id", "lifecycle_types.id"],
            name=op.f("fk_transition_rules_org_id_type_id_lifecycle_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_transition_rules_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_transition_rules")),
        sa.UniqueConstraint(
            "org_id", "type_id", "code", name=op.f("uq_transition_rules_org_id_type_id_code")
        ),
    )
    for table in TABLES:
        for statement in tenant_isolation(table):
            op.execute(statement)
    _seed()


def downgrade() -> None:
    op.drop_table("transition_rules")
    op.drop_table("lookup_values")
    op.drop_table("priority_levels")
    op.drop_table("lost_reasons")
    op.drop_table("lookup_lists")
    op.drop_index(
        "uq_lifecycle_types_default", table_name="lifecycle_types", postgresql_where=sa.text("is_default")
    )
    op.drop_table("lifecycle_types")
    op.drop_table("lead_sources")
    op.drop_table("importance_levels")
    op.drop_table("competitors")
    op.drop_index("ix_categories_parent", table_name="categories")
    op.drop_table("categories")
    op.drop_table("cancellation_reasons")

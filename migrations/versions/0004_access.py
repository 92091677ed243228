"""access: groups, grants, business units, sales reps

Each organisation's `members.is_admin` members become the members of a new "Administrators"
group granted `org.admin`; the flag goes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 01:27:31.638000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmapi.kit.migrate import tenant_isolation

TENANT_TABLES = (
    "groups",
    "group_members",
    "group_grants",
    "business_units",
    "member_business_units",
    "sales_reps",
    "sales_rep_members",
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "business_units",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_id"],
            ["business_units.org_id", "business_units.id"],
            name=op.f("fk_business_units_org_id_parent_id_business_units"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_business_units_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_business_units")),
    )
    op.create_index("ix_business_units_parent", "business_units", ["org_id", "parent_id"], unique=False)
    op.create_index(
        "uq_business_units_name", "business_units", ["org_id", sa.literal_column("lower(name)")], unique=True
    )
    op.create_table(
        "groups",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_groups_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_groups")),
    )
    op.create_index("uq_groups_name", "groups", ["org_id", sa.literal_column("lower(name)")], unique=True)
    op.create_table(
        "sales_reps",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_sales_reps_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_sales_reps")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_sales_reps_org_id_code")),
    )
    op.create_table(
        "group_grants",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("capability", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "group_id"],
            ["groups.org_id", "groups.id"],
            name=op.f("fk_group_grants_org_id_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_group_grants_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_group_grants")),
        sa.UniqueConstraint(
            "org_id", "group_id", "capability", name=op.f("uq_group_grants_org_id_group_id_capability")
        ),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "group_id"],
            ["groups.org_id", "groups.id"],
            name=op.f("fk_group_members_org_id_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_group_members_org_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_group_members_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_group_members")),
        sa.UniqueConstraint(
            "org_id", "group_id", "member_id", name=op.f("uq_group_members_org_id_group_id_member_id")
        ),
    )
    op.create_index("ix_group_members_member", "group_members", ["org_id", "member_id"], unique=False)
    op.create_table(
        "member_business_units",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("business_unit_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "business_unit_id"],
            ["business_units.org_id", "business_units.id"],
            name=op.f("fk_member_business_units_org_id_business_unit_id_business_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_member_business_units_org_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_member_business_units_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_member_business_units")),
        sa.UniqueConstraint(
            "org_id",
            "member_id",
            "business_unit_id",
            name=op.f("uq_member_business_units_org_id_member_id_business_unit_id"),
        ),
    )
    op.create_index(
        "ix_member_business_units_unit", "member_business_units", ["org_id", "business_unit_id"], unique=False
    )
    op.create_table(
        "sales_rep_members",
        sa.Column("sales_rep_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "member_id"],
            ["members.org_id", "members.id"],
            name=op.f("fk_sales_rep_members_org_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "sales_rep_id"],
            ["sales_reps.org_id", "sales_reps.id"],
            name=op.f("fk_sales_rep_members_org_id_sales_rep_id_sales_reps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_sales_rep_members_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_sales_rep_members")),
        sa.UniqueConstraint(
            "org_id",
            "sales_rep_id",
            "member_id",
            name=op.f("uq_sales_rep_members_org_id_sales_rep_id_member_id"),
        ),
    )
    op.create_index("ix_sales_rep_members_member", "sales_rep_members", ["org_id", "member_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_accounts_org_id_business_unit_id_business_units"),
        "accounts",
        "business_units",
        ["org_id", "business_unit_id"],
        ["org_id", "id"],
    )
    op.create_foreign_key(
        op.f("fk_contacts_org_id_business_unit_id_business_units"),
        "contacts",
        "business_units",
        ["org_id", "business_unit_id"],
        ["org_id", "id"],
    )
    for table in TENANT_TABLES:
        for statement in tenant_isolation(table):
            op.execute(statement)
    # Runs as the owner (superuser or BYPASSRLS), so it sees every organisation.
    op.execute(
        """
        INSERT INTO groups (org_id, id, name, description, created_at, updated_at, version)
        SELECT id, gen_random_uuid(), 'Administrators', 'Administer the organisation.', now(), now(), 1
        FROM organisations
        """
    )
    op.execute(
        """
        INSERT INTO group_grants (org_id, id, group_id, capability)
        SELECT org_id, gen_random_uuid(), id, 'org.admin' FROM groups WHERE name = 'Administrators'
        """
    )
    op.execute(
        """
        INSERT INTO group_members (org_id, id, group_id, member_id)
        SELECT m.org_id, gen_random_uuid(), g.id, m.id
        FROM members m JOIN groups g ON g.org_id = m.org_id AND g.name = 'Administrators'
        WHERE m.is_admin
        """
    )
    op.drop_column("members", "is_admin")


def downgrade() -> None:
    op.add_column("members", sa.Column("is_admin", sa.BOOLEAN(), server_default=sa.false(), nullable=False))
    op.execute(
        """
        UPDATE members m SET is_admin = true
        FROM group_members gm JOIN group_grants gg ON gg.org_id = gm.org_id AND gg.group_id = gm.group_id
        WHERE gm.org_id = m.org_id AND gm.member_id = m.id AND gg.capability = 'org.admin'
        """
    )
    op.alter_column("members", "is_admin", server_default=None)
    op.drop_constraint(
        op.f("fk_contacts_org_id_business_unit_id_business_units"), "contacts", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_accounts_org_id_business_unit_id_business_units"), "accounts", type_="foreignkey"
    )
    op.drop_index("ix_sales_rep_members_member", table_name="sales_rep_members")
    op.drop_table("sales_rep_members")
    op.drop_index("ix_member_business_units_unit", table_name="member_business_units")
    op.drop_table("member_business_units")
    op.drop_index("ix_group_members_member", table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("group_grants")
    op.drop_table("sales_reps")
    op.drop_index("uq_groups_name", table_name="groups")
    op.drop_table("groups")
    op.drop_index("uq_business_units_name", table_name="business_units")
    op.drop_index("ix_business_units_parent", table_name="business_units")
    op.drop_table("business_units")

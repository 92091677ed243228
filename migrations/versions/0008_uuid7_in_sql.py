"""crmapi_uuid7(): UUIDv7 keys made in SQL, for rows set-based statements write

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The layout of crmapi.kit.ids.new_id (RFC 9562): 48 bits of Unix milliseconds, version 7, the
    # rest random. PostgreSQL 18 has uuidv7(); PostgreSQL 15 does not.
    op.execute(
        """
        CREATE FUNCTION crmapi_uuid7() RETURNS uuid
        LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
            SELECT encode(
                set_bit(set_bit(
                    overlay(uuid_send(gen_random_uuid())
                            PLACING substring(
                                int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                            FROM 1 FOR 6),
                    52, 1), 53, 1),
                'hex')::uuid
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION crmapi_uuid7()")

"""crmapi_api_time(): a timestamp as the API writes it, for answers PostgreSQL renders

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # As pydantic writes an aware datetime in UTC: seconds, microseconds only when there are
    # any (all six digits), and Z. A plain SQL expression, so the planner inlines it.
    op.execute(
        """
        CREATE FUNCTION crmapi_api_time(t timestamptz) RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                || CASE WHEN date_trunc('second', t) = t THEN '' ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
                || 'Z'
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION crmapi_api_time(timestamptz)")

"""sessions: when the refresh token was last rotated (the grace interval), and ending every
session of a user across organisations when the password changes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

END_USER_SESSIONS_NAME = "crmapi_end_user_sessions(uuid, uuid)"
# Cross-organisation (SECURITY DEFINER, as sign-in's membership lookup): a user's own password
# opens every organisation it belongs to, so changing it ends the sessions in all of them but
# the one the change was made from.
END_USER_SESSIONS = """
CREATE FUNCTION crmapi_end_user_sessions(p_user uuid, p_keep uuid)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH ended AS (
        UPDATE auth_sessions s SET revoked_at = now()
        FROM members m
        WHERE m.user_id = p_user AND s.org_id = m.org_id AND s.member_id = m.id
          AND s.revoked_at IS NULL AND s.id IS DISTINCT FROM p_keep
        RETURNING s.id
    )
    SELECT count(*)::integer FROM ended
$$
"""


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(END_USER_SESSIONS)
    op.execute(f"REVOKE ALL ON FUNCTION {END_USER_SESSIONS_NAME} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {END_USER_SESSIONS_NAME} TO crmapi_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {END_USER_SESSIONS_NAME}")
    op.drop_column("auth_sessions", "rotated_at")

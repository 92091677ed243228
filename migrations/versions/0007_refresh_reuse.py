"""auth_sessions.previous_refresh_hash: a rotated refresh token presented again ends the session

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("previous_refresh_hash", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("auth_sessions", "previous_refresh_hash")

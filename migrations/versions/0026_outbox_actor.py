"""outbox.actor_member_id: who made the change an event tells of

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable and without a default: adding it rewrites nothing, whatever the outbox's size.
    op.add_column("outbox", sa.Column("actor_member_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "actor_member_id")

"""The relay's claim and the webhook sweep planned afresh on every call

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both run over and over on the relay's pooled connections, and PL/pgSQL may keep a generic plan
# made while the outbox held a handful of rows. In full-suite runs on PostgreSQL 18, one claim of
# 5,000 events after a 10,000-record push ran into the 15 s statement timeout (monitored: active,
# waiting on nothing), where a fresh connection claims them in 0.2 s. A plan cached on the
# long-lived connection is the likely cause; it was not reproduced in isolation.
FUNCTIONS = ("crmapi_outbox_claim(integer, interval)", "crmapi_webhooks_due(integer, interval)")


def upgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name} SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name} RESET plan_cache_mode")

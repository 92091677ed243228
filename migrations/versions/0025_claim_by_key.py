"""The relay's claim updates its rows one by one by primary key

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Full-suite runs on PostgreSQL 18 still met the 15 s statement timeout in a claim of 5,000
# events after a 10,000-record push, active and waiting on nothing, after 0022 (custom plans).
# Both statements joined the claimed set back to the outbox, and a join planned from an
# estimate of a handful of rows (the statistics of a table that had just grown by 10,000) can
# rescan the outbox for every claimed row. Each row is now updated by its primary key in a loop:
# a plan that cannot go quadratic, whatever the statistics say, at about 30 µs a row.
CLAIM = """
CREATE OR REPLACE FUNCTION crmapi_outbox_claim(p_limit integer, p_stale interval)
RETURNS TABLE (org_id uuid, id uuid, seq bigint, stale boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    r record;
BEGIN
    -- One relay at a time; the lock lasts until the caller's transaction ends.
    IF NOT pg_try_advisory_xact_lock(hashtext('crmapi_outbox_relay')) THEN
        RETURN;
    END IF;
    -- Rows are stamped when they become visible, so seq follows commit order.
    FOR r IN
        SELECT x.org_id AS o_id, x.id AS e_id FROM outbox x
        WHERE x.seq IS NULL ORDER BY x.created_at, x.id LIMIT p_limit
    LOOP
        UPDATE outbox o SET seq = nextval('outbox_seq') WHERE o.org_id = r.o_id AND o.id = r.e_id;
    END LOOP;
    FOR r IN
        SELECT x.org_id AS o_id, x.id AS e_id, x.seq AS e_seq, x.enqueued_at IS NOT NULL AS e_stale
        FROM outbox x
        WHERE x.done_at IS NULL AND x.seq IS NOT NULL
          AND (x.enqueued_at IS NULL OR x.enqueued_at < now() - p_stale)
        ORDER BY x.seq LIMIT p_limit
    LOOP
        UPDATE outbox o SET enqueued_at = now() WHERE o.org_id = r.o_id AND o.id = r.e_id;
        org_id := r.o_id;
        id := r.e_id;
        seq := r.e_seq;
        stale := r.e_stale;
        RETURN NEXT;
    END LOOP;
END
$$
"""
# 0020's, for the downgrade.
JOINED = """
CREATE OR REPLACE FUNCTION crmapi_outbox_claim(p_limit integer, p_stale interval)
RETURNS TABLE (org_id uuid, id uuid, seq bigint, stale boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('crmapi_outbox_relay')) THEN
        RETURN;
    END IF;
    UPDATE outbox o SET seq = s.seq
    FROM (
        SELECT c.org_id, c.id, nextval('outbox_seq') AS seq
        FROM (SELECT x.org_id, x.id FROM outbox x
              WHERE x.seq IS NULL ORDER BY x.created_at, x.id LIMIT p_limit) c
    ) s
    WHERE o.org_id = s.org_id AND o.id = s.id;
    RETURN QUERY
        UPDATE outbox o SET enqueued_at = now()
        FROM (
            SELECT x.org_id, x.id, x.enqueued_at IS NOT NULL AS stale FROM outbox x
            WHERE x.done_at IS NULL AND x.seq IS NOT NULL
              AND (x.enqueued_at IS NULL OR x.enqueued_at < now() - p_stale)
            ORDER BY x.seq LIMIT p_limit
        ) c
        WHERE o.org_id = c.org_id AND o.id = c.id
        RETURNING o.org_id, o.id, o.seq, c.stale;
END
$$
"""


def upgrade() -> None:
    # CREATE OR REPLACE keeps the grants; its SET clauses replace the function's settings, so
    # both definitions repeat 0022's plan_cache_mode.
    op.execute(CLAIM)


def downgrade() -> None:
    op.execute(JOINED)

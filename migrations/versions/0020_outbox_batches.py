"""The outbox handed over in batches: a claim marks what it hands over, a release gives it back;
indexes for the undone events and for an organisation's change feed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIM = "crmapi_outbox_claim(integer, interval)"
RELEASE = "crmapi_outbox_release(uuid[], uuid[])"
MARK = "crmapi_outbox_mark_enqueued(uuid[], uuid[])"


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {CLAIM}")
    op.execute(f"DROP FUNCTION {MARK}")
    # The claim commits before the relay talks to Redis, so it marks what it hands over (a second
    # relay skips those rows) and returns each row's seq for the batch's job id.
    op.execute(
        """
        CREATE FUNCTION crmapi_outbox_claim(p_limit integer, p_stale interval)
        RETURNS TABLE (org_id uuid, id uuid, seq bigint, stale boolean)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            -- One relay at a time; the lock lasts until the caller's transaction ends.
            IF NOT pg_try_advisory_xact_lock(hashtext('crmapi_outbox_relay')) THEN
                RETURN;
            END IF;
            -- Rows are stamped when they become visible, so seq follows commit order.
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
    )
    op.execute(
        """
        CREATE FUNCTION crmapi_outbox_release(p_orgs uuid[], p_ids uuid[])
        RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            UPDATE outbox o SET enqueued_at = NULL
            FROM unnest(p_orgs, p_ids) AS e(org_id, id)
            WHERE o.org_id = e.org_id AND o.id = e.id AND o.done_at IS NULL
        $$
        """
    )
    for name in (CLAIM, RELEASE):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name} TO crmapi_app")
    # The claim walks the undone events by seq; the done ones (all but a few) stay out of it.
    op.execute("CREATE INDEX ix_outbox_undone ON outbox (seq) WHERE done_at IS NULL")
    # An organisation's change feed pages by seq.
    op.execute("CREATE INDEX ix_outbox_org_seq ON outbox (org_id, seq) WHERE seq IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_outbox_org_seq")
    op.execute("DROP INDEX ix_outbox_undone")
    op.execute(f"DROP FUNCTION {RELEASE}")
    op.execute(f"DROP FUNCTION {CLAIM}")
    op.execute(
        """
        CREATE FUNCTION crmapi_outbox_claim(p_limit integer, p_stale interval)
        RETURNS TABLE (org_id uuid, id uuid, stale boolean)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
                SELECT x.org_id, x.id, x.enqueued_at IS NOT NULL FROM outbox x
                WHERE x.done_at IS NULL AND x.seq IS NOT NULL
                  AND (x.enqueued_at IS NULL OR x.enqueued_at < now() - p_stale)
                ORDER BY x.seq LIMIT p_limit;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION crmapi_outbox_mark_enqueued(p_orgs uuid[], p_ids uuid[])
        RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            UPDATE outbox o SET enqueued_at = now()
            FROM unnest(p_orgs, p_ids) AS e(org_id, id)
            WHERE o.org_id = e.org_id AND o.id = e.id
        $$
        """
    )
    for name in (CLAIM, MARK):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name} TO crmapi_app")

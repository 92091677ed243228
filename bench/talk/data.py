"""The conversations, their messages, read markers and the rep's inbox, written set-based in SQL
as the owner (row-level security does not apply to it, as `bench-board` writes its leads).

Conversation k (1..C) is on account k % accounts; its message s (1..M) was written
(M - s) * C + (C - k) + 1 minutes ago, so every conversation gets its s-th message in round s and
the conversations interleave in time, newest last. The rep writes message s when (s + k) % 5 = 0,
the customer the others. The rep's marker stands a little past its last message of the
conversation (0 to 2 messages further, never past the end), the customer's at its own last
message or the end. The rep's inbox holds one notification for each of the newest customer
messages (`message.created`, category CONVERSATIONS, as the fan-out writes them), read when the
rep's marker is past the message. Then every table written, the API's too, is analyzed.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from bench import database

REP_EVERY = 5  # the rep writes one message in five
LINES = [
    "Good morning, when can we expect the delivery of order 4471?",
    "The goods leave the warehouse on Monday; the carrier will call ahead.",
    "Please correct the invoice: the price per pallet does not match the offer.",
    "Could we add two more pallets of the 25 kg bags to the same order?",
    "Thank you, we are waiting for the corrected invoice and the delivery note.",
    "Payment was sent yesterday, please confirm when it arrives.",
    "One pallet arrived damaged; photos are in the attachment of the next message.",
]

_KEYS = """
INSERT INTO talk_conversations (k, id, account_id)
SELECT k, crmapi_uuid7(), ($1::uuid[])[1 + (k - 1) % cardinality($1::uuid[])]
FROM generate_series(1, $2::integer) AS k
"""

# $1 org, $2 rep, $3 conversations (C), $4 messages each (M).
_CONVERSATIONS = """
INSERT INTO conversations (org_id, id, account_id, subject, status, created_by_member_id, last_seq,
    last_message_at, created_at, updated_at, version)
SELECT $1, c.id, c.account_id, 'Order ' || (4000 + c.k) || ': delivery and invoice', 'open', $2, $4,
    now() - make_interval(mins => $3 - c.k + 1), o.at, o.at, 1
FROM talk_conversations c
CROSS JOIN LATERAL (SELECT now() - make_interval(mins => ($4 - 1) * $3 + ($3 - c.k) + 2) AS at) AS o
"""

_PARTICIPANTS = """
INSERT INTO conversation_participants (org_id, conversation_id, member_id, added_at)
SELECT $1, c.id, p.member_id, cv.created_at
FROM talk_conversations c
JOIN conversations cv ON cv.org_id = $1 AND cv.id = c.id
CROSS JOIN unnest(ARRAY[$2::uuid, $3::uuid]) AS p(member_id)
"""

# $1 org, $2 rep, $3 customer, $4 C, $5 M, $6 rep every, $7 lines.
_MESSAGES = """
INSERT INTO conversation_messages (org_id, id, conversation_id, seq, author_member_id, body, mentions,
    created_at, version)
SELECT $1, crmapi_uuid7(), c.id, s, CASE WHEN (s + c.k) % $6 = 0 THEN $2::uuid ELSE $3::uuid END,
    ($7::text[])[1 + (s + c.k) % cardinality($7::text[])], '{}',
    now() - make_interval(mins => ($5 - s) * $4 + ($4 - c.k) + 1), 1
FROM talk_conversations c
CROSS JOIN generate_series(1, $5::integer) AS s
"""

# The rep's last message is M - (M + k) % 5; its marker 0 to 2 further (k % 3), within 1..M. The
# customer's last message is M unless the rep wrote it; its marker there, or at M for even k.
_READS = """
INSERT INTO conversation_reads (org_id, conversation_id, member_id, seq, read_at)
SELECT $1, c.id, r.member_id, r.seq, now() - make_interval(mins => $4 - c.k + 1)
FROM talk_conversations c
CROSS JOIN LATERAL (VALUES
    ($2::uuid, least($5, greatest(1, $5 - ($5 + c.k) % $6 + c.k % 3))),
    ($3::uuid, CASE WHEN ($5 + c.k) % $6 = 0 AND c.k % 2 = 1 THEN $5 - 1 ELSE $5 END)
) AS r(member_id, seq)
"""

# $1 org, $2 rep, $3 customer, $4 notifications.
_NOTIFICATIONS = """
INSERT INTO notifications (org_id, id, member_id, category, event_id, type, kind, record_id, details,
    created_at, read_at)
SELECT $1, crmapi_uuid7(), $2, 'CONVERSATIONS', crmapi_uuid7(), 'message.created', 'message', m.id,
    jsonb_build_object('version', 1, 'conversation_id', m.conversation_id, 'account_id', c.account_id,
        'seq', m.seq, 'mentions', '[]'::jsonb),
    m.created_at, CASE WHEN m.seq <= r.seq THEN least(now(), m.created_at + interval '5 minutes') END
FROM conversation_messages m
JOIN talk_conversations c ON c.id = m.conversation_id
JOIN conversation_reads r ON r.org_id = $1 AND r.conversation_id = m.conversation_id AND r.member_id = $2
WHERE m.org_id = $1 AND m.author_member_id = $3
ORDER BY m.created_at DESC
LIMIT $4
"""

# The accounts, assignments and members too: written through the API moments before, they have no
# statistics yet, and the rep's scope (accounts it owns) is then planned as a nested loop that reads
# every account once per account (~1.6 ms a request at 100 accounts, 0.3 ms once analyzed).
_ANALYZE = (
    "ANALYZE accounts, account_assignments, members, conversations, conversation_participants, "
    "conversation_messages, conversation_reads, notifications"
)


async def load(
    url: str,
    org_id: UUID,
    rep_id: UUID,
    customer_id: UUID,
    account_ids: list[UUID],
    *,
    conversations: int,
    messages: int,
    notifications: int,
) -> dict[str, Any]:
    """Everything in one transaction, then ANALYZE. Answers the conversations' ids (k order), the
    rows written and the seconds each step took."""
    conn = await database.connect(url)
    seconds: dict[str, float] = {}
    try:
        began = time.perf_counter()
        async with conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE talk_conversations (k integer PRIMARY KEY, id uuid NOT NULL, "
                "account_id uuid NOT NULL) ON COMMIT DROP"
            )
            await conn.execute(_KEYS, account_ids, conversations)
            steps: list[tuple[str, str, tuple[Any, ...]]] = [
                ("conversations", _CONVERSATIONS, (org_id, rep_id, conversations, messages)),
                ("participants", _PARTICIPANTS, (org_id, rep_id, customer_id)),
                (
                    "messages",
                    _MESSAGES,
                    (org_id, rep_id, customer_id, conversations, messages, REP_EVERY, LINES),
                ),
                ("reads", _READS, (org_id, rep_id, customer_id, conversations, messages, REP_EVERY)),
                ("notifications", _NOTIFICATIONS, (org_id, rep_id, customer_id, notifications)),
            ]
            for name, sql, args in steps:
                start = time.perf_counter()
                await conn.execute(sql, *args)
                seconds[name] = round(time.perf_counter() - start, 2)
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM talk_conversations ORDER BY k")]
        start = time.perf_counter()
        await conn.execute(_ANALYZE)
        seconds["analyze"] = round(time.perf_counter() - start, 2)
        seconds["total"] = round(time.perf_counter() - began, 2)
        counts = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM conversations WHERE org_id = $1) AS conversations,
                (SELECT count(*) FROM conversation_messages WHERE org_id = $1) AS messages,
                (SELECT count(*) FROM conversation_reads WHERE org_id = $1) AS read_markers,
                (SELECT count(*) FROM notifications WHERE org_id = $1 AND member_id = $2) AS notifications,
                (SELECT count(*) FROM notifications WHERE org_id = $1 AND member_id = $2
                    AND read_at IS NULL) AS unread_notifications
            """,
            org_id,
            rep_id,
        )
        assert counts is not None
    finally:
        await conn.close()
    return {"conversation_ids": ids, "rows": dict(counts), "seconds": seconds}

"""The demo's conversations and feeds: a few conversations on every account a customer member
has (the customer taking part with the account's owner), some among staff on other accounts, and
two sales-team feeds with announcements, posts and comments.

Messages are numbered as posting numbers them, read markers sit somewhere along each
conversation (so unread counts show), a few messages were edited (their earlier text kept as a
revision) and now and then a conversation is closed. When a storage is given, some messages carry
a small PDF delivery note, stored as an upload would be. All from the demo's `rng` and times
relative to `now`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from crmapi.kit.ids import new_id

SUBJECTS = (
    "Termin dostawy zamówienia",
    "Korekta faktury",
    "Nowy cennik na kwartał",
    "Reklamacja palet",
    "Zmiana adresu dostawy",
    "Warunki płatności",
)
LINES = (
    "Dzień dobry, kiedy możemy spodziewać się dostawy?",
    "Towar wyjedzie z magazynu w poniedziałek.",
    "Proszę o korektę faktury, cena nie zgadza się z ofertą.",
    "Korekta jest w przygotowaniu, prześlę ją jutro.",
    "Dziękuję, czekamy.",
    "Czy możemy zwiększyć zamówienie o dwie palety?",
    "Tak, dopiszę to do zamówienia.",
)
NOTE_LINE = "W załączeniu dokument dostawy."
FEEDS = (
    ("Sprzedaż — region północ", "Cele, wyniki i nowości zespołu północ."),
    ("Sprzedaż — kluczowi klienci", "Tylko dla opiekunów kluczowych klientów."),
)
ANNOUNCEMENTS = (
    "Cele na pierwszy kwartał są już w systemie.",
    "Od poniedziałku obowiązuje nowy cennik palet.",
    "Spotkanie zespołu w piątek o 9:00.",
)
POSTS = ("Kto ma kontakt do zakupów w Hurtowni Nowak?", "Klient pyta o dłuższy termin płatności.")
COMMENTS = ("Ja mam, podeślę.", "Zgoda do 45 dni przy ratingu A.", "Dzięki!")
# The smallest file a PDF reader opens: the delivery note some messages carry.
NOTE_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class Talk:
    conversations: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    feeds: list[dict[str, Any]] = field(default_factory=list)
    feed_members: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "conversations": len(self.conversations),
            "messages": len(self.messages),
            "feeds": len(self.feeds),
            "feed_posts": len(self.posts),
            "feed_comments": len(self.comments),
            "attachments": len(self.attachments),
        }


@dataclass
class _Maker:
    rng: random.Random
    org_id: UUID
    now: datetime
    attach: bool
    talk: Talk = field(default_factory=Talk)

    def conversation(self, account: dict[str, Any], people: list[UUID]) -> None:
        rng, opened = self.rng, self.now - timedelta(days=self.rng.uniform(1, 60))
        conversation_id, count = new_id(), rng.randint(3, 8)
        at = opened
        noted = rng.random() < 0.5  # its last message carries the delivery note
        for seq in range(1, count + 1):
            at += timedelta(hours=rng.uniform(0.2, 30))
            with_note = noted and seq == count
            self.message(conversation_id, seq, people[(seq - 1) % len(people)], min(at, self.now), with_note)
        closed = rng.random() < 0.15
        self.talk.conversations.append(
            {
                "org_id": self.org_id,
                "id": conversation_id,
                "account_id": account["id"],
                "subject": rng.choice(SUBJECTS),
                "status": "closed" if closed else "open",
                "created_by_member_id": people[0],
                "last_seq": count,
                "last_message_at": min(at, self.now),
                "closed_at": self.now if closed else None,
                "created_at": opened,
                "updated_at": opened,
                "version": 2 if closed else 1,
            }
        )
        for member_id in people:
            self.talk.participants.append(
                {
                    "org_id": self.org_id,
                    "conversation_id": conversation_id,
                    "member_id": member_id,
                    "added_at": opened,
                }
            )
            self.talk.reads.append(
                {
                    "org_id": self.org_id,
                    "conversation_id": conversation_id,
                    "member_id": member_id,
                    "seq": rng.randint(1, count),
                    "read_at": opened,
                }
            )

    def message(self, conversation_id: UUID, seq: int, author: UUID, at: datetime, with_note: bool) -> None:
        rng, message_id = self.rng, new_id()
        body = NOTE_LINE if with_note else LINES[(seq - 1) % len(LINES)]
        edited = rng.random() < 0.1
        if edited:
            self.talk.revisions.append(
                {
                    "org_id": self.org_id,
                    "message_id": message_id,
                    "revision": 1,
                    "body": body.rstrip(".?") + "…",
                    "replaced_at": at + timedelta(minutes=5),
                    "replaced_by_member_id": author,
                    "change": "edited",
                }
            )
        self.talk.messages.append(
            {
                "org_id": self.org_id,
                "id": message_id,
                "conversation_id": conversation_id,
                "seq": seq,
                "author_member_id": author,
                "body": body,
                "mentions": [],
                "created_at": at,
                "edited_at": at + timedelta(minutes=5) if edited else None,
                "deleted_at": None,
                "deleted_by_member_id": None,
                "version": 2 if edited else 1,
            }
        )
        if self.attach and with_note:
            self.attachment(author, "message", message_id, at)

    def attachment(self, author: UUID, kind: str, owner_id: UUID, at: datetime) -> None:
        self.talk.attachments.append(
            {
                "org_id": self.org_id,
                "id": new_id(),
                "uploaded_by_member_id": author,
                "filename": "dokument-dostawy.pdf",
                "content_type": "application/pdf",
                "size": len(NOTE_PDF),
                "sha256": hashlib.sha256(NOTE_PDF).hexdigest(),
                "owner_kind": kind,
                "owner_id": owner_id,
                "created_at": at,
            }
        )

    def feed(self, name: str, description: str, manager: UUID, members: list[UUID]) -> None:
        rng, feed_id = self.rng, new_id()
        made = self.now - timedelta(days=rng.uniform(30, 90))
        self.talk.feeds.append(
            {
                "org_id": self.org_id,
                "id": feed_id,
                "name": name,
                "description": description,
                "created_by_member_id": manager,
                "created_at": made,
                "updated_at": made,
                "version": 1,
            }
        )
        for member_id in [manager, *members]:
            role = "manager" if member_id == manager else "member"
            self.talk.feed_members.append(
                {
                    "org_id": self.org_id,
                    "feed_id": feed_id,
                    "member_id": member_id,
                    "role": role,
                    "added_at": made,
                }
            )
        at = made
        for index, text in enumerate(ANNOUNCEMENTS):
            at += timedelta(days=rng.uniform(1, 9))
            self.post(feed_id, manager, text, True, index == 0, min(at, self.now), members)
        for text in POSTS:
            at += timedelta(days=rng.uniform(1, 5))
            self.post(
                feed_id, rng.choice(members), text, False, False, min(at, self.now), [manager, *members]
            )

    def post(
        self,
        feed_id: UUID,
        author: UUID,
        body: str,
        announcement: bool,
        pinned: bool,
        at: datetime,
        others: list[UUID],
    ) -> None:
        post_id = new_id()
        self.talk.posts.append(
            {
                "org_id": self.org_id,
                "id": post_id,
                "feed_id": feed_id,
                "author_member_id": author,
                "announcement": announcement,
                "pinned": pinned,
                "body": body,
                "created_at": at,
                "edited_at": None,
                "deleted_at": None,
                "version": 1,
            }
        )
        for text in self.rng.sample(COMMENTS, self.rng.randint(0, len(COMMENTS))):
            self.talk.comments.append(
                {
                    "org_id": self.org_id,
                    "id": new_id(),
                    "feed_id": feed_id,
                    "post_id": post_id,
                    "author_member_id": self.rng.choice(others),
                    "body": text,
                    "created_at": min(at + timedelta(hours=self.rng.uniform(1, 48)), self.now),
                    "deleted_at": None,
                    "version": 1,
                }
            )


def build(
    rng: random.Random,
    org_id: UUID,
    now: datetime,
    staff: list[UUID],
    accounts: list[dict[str, Any]],
    assigned: dict[UUID, list[UUID]],
    *,
    attach: bool,
) -> Talk:
    """`staff[0]` is the administrator: it manages both feeds and takes part in some
    conversations; `assigned` is each customer member's accounts."""
    maker = _Maker(rng, org_id, now, attach)
    by_id = {a["id"]: a for a in accounts}
    for customer, account_ids in assigned.items():
        for account_id in account_ids:
            account = by_id[account_id]
            for _ in range(rng.randint(2, 3)):
                people = [account["owner_member_id"], customer]
                if rng.random() < 0.3 and staff[0] not in people:
                    people.append(staff[0])
                maker.conversation(account, people)
    for account in rng.sample(accounts, max(1, len(accounts) // 3)):
        colleague = rng.choice(staff[1:] or staff)
        people = list(dict.fromkeys([account["owner_member_id"], colleague, staff[0]]))
        maker.conversation(account, people)
    team = staff[1:]
    half = max(1, len(team) // 2)
    maker.feed(*FEEDS[0], staff[0], team[:half] or team)
    maker.feed(*FEEDS[1], staff[0], team[half:] or team)
    return maker.talk

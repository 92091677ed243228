"""Who is calling: a member (staff or customer) or an API key, always inside one organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from crmapi.access.capabilities import implies

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    org_id: UUID
    kind: str  # staff | customer | api_key
    member_id: UUID | None = None
    api_key_id: UUID | None = None
    session_id: UUID | None = None
    time_zone: str = "UTC"
    capabilities: frozenset[str] = field(default_factory=frozenset)
    # The sales-rep records the member works as, and the business units whose records it sees.
    sales_rep_codes: tuple[str, ...] = ()
    unit_ids: tuple[UUID, ...] = ()
    # Shared by a member's requests while its cached grants hold (policy.Grants.memo): what is
    # derived from the fields above is built once per member and policy version, not per request.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def remember(self, name: str, build: Callable[[Actor], T]) -> T:
        """`build(self)`, computed once per memo. `build` may read only the fields the grants
        decide and the member's identity (org, kind, member, capabilities, codes, units)."""
        key = (name, self.kind)
        found: T | None = self.memo.get(key)
        if found is None:
            found = self.memo[key] = build(self)
        return found

    def can(self, capability: str) -> bool:
        return implies(self.capabilities, capability)

    @property
    def key(self) -> str:
        """Stable identity for idempotency keys and logs."""
        return f"member:{self.member_id}" if self.member_id else f"api_key:{self.api_key_id}"

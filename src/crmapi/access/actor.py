"""Who is calling: a member (staff or customer) or an API key, always inside one organisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from crmapi.access.capabilities import implies


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

    def can(self, capability: str) -> bool:
        return implies(self.capabilities, capability)

    @property
    def key(self) -> str:
        """Stable identity for idempotency keys and logs."""
        return f"member:{self.member_id}" if self.member_id else f"api_key:{self.api_key_id}"

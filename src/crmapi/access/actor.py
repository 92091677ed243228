"""Who is calling: a member (staff or customer) or an API key, always inside one organisation."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from crmapi.access.capabilities import implies

T = TypeVar("T")

# Built scope predicates (and statements made from them), most recently used last. A member's
# pair of scopes is ~16-20 KB of SQLAlchemy expressions and ~0.3-0.6 ms to build, so they are
# kept, but bounded.
BUILT_MAX = 4096
_BUILT: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


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

    def remember(self, name: str, build: Callable[[Actor], T]) -> T:
        """`build(self)`, built once and shared by every request of an actor that `build` cannot
        tell apart: the key is what it may read (organisation, kind, member, capabilities,
        sales-rep codes, units), so a grant or link change makes a new key, never a stale hit."""
        key = (
            name,
            self.org_id,
            self.kind,
            self.member_id,
            self.capabilities,
            self.sales_rep_codes,
            self.unit_ids,
        )
        found: T | None = _BUILT.get(key)
        if found is None:
            found = _BUILT[key] = build(self)
            while len(_BUILT) > BUILT_MAX:
                _BUILT.popitem(last=False)
        else:
            _BUILT.move_to_end(key)
        return found

    def can(self, capability: str) -> bool:
        return implies(self.capabilities, capability)

    @property
    def key(self) -> str:
        """Stable identity for idempotency keys and logs."""
        return f"member:{self.member_id}" if self.member_id else f"api_key:{self.api_key_id}"

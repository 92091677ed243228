from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from crmapi.access.capabilities import CATALOGUE
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Name, Omittable

# A key acts for a system, not a person: everything in the catalogue but org.admin, which would
# let a key make more keys (outliving its own revocation), add members and change grants.
GRANTABLE = tuple(sorted(c for c in CATALOGUE if c != "org.admin"))
MAX_CAPABILITIES = 50


def _grantable(capabilities: list[str]) -> list[str]:
    """The capabilities once each, sorted; refuses org.admin and names outside the catalogue."""
    if "org.admin" in capabilities:
        raise ValueError("org.admin cannot be given to an API key; give the key the capabilities it needs")
    unknown = sorted({c for c in capabilities if c not in CATALOGUE})
    if unknown:
        raise ValueError(f"not in the capability catalogue: {', '.join(unknown)}")
    return sorted(set(capabilities))


Capability = Annotated[
    str, StringConstraints(max_length=64), Field(json_schema_extra={"enum": list(GRANTABLE)})
]
Capabilities = Annotated[
    list[Capability],
    Field(
        min_length=1,
        max_length=MAX_CAPABILITIES,
        description="What the key may do: capabilities from the catalogue, any but `org.admin`. "
        "Stored once each, sorted.",
        examples=[["integrations.push"]],
    ),
    AfterValidator(_grantable),
]
KeyName = Annotated[
    Name, Field(description="What the key is for; need not be unique.", examples=["ERP feed (Comarch)"])
]


class ApiKeyCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "ERP feed", "capabilities": ["integrations.push"]}]},
    )
    name: KeyName
    capabilities: Capabilities


class ApiKeyUpdate(Input):
    """Merge semantics. New capabilities apply from the key's next request."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "ERP feed (old)"}]})
    name: Omittable[KeyName] = None
    capabilities: Omittable[Capabilities] = None


class ApiKeyRead(BaseModel):
    """Never the secret. Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    name: str | None = None
    capabilities: list[str] | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = Field(None, description="Set once the key is revoked; it then answers 401.")


class ApiKeyCreated(ApiKeyRead):
    """The new key, with its token: the only time the token is shown."""

    token: str = Field(
        description="Send as `Authorization: Bearer <token>`. Shown once: only an HMAC of its secret "
        "is kept, so a lost token cannot be shown again (revoke the key and make another).",
        examples=["crm_0195f3c27a4e7d1b9c3a2b6f1e8d4c01_Xq3...secret"],
    )


class ApiKeyListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    revoked: bool | None = Field(None, description="Only revoked (true) or usable (false) keys.")

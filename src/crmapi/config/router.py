"""/v1/config: the organisation's statuses, types with their rules, and every other list.
Staff (and API keys with `config.manage`) read them; `config.manage` changes them."""

from __future__ import annotations

from crmapi.config import catalogue
from crmapi.config.routes import router_for
from crmapi.config.types import RULES, TYPES

router = router_for(catalogue.STATUSES, TYPES, RULES, *catalogue.LISTS[1:])

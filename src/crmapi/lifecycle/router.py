"""/v1/config: the organisation's statuses, types with their rules, and every other list.
Staff (and API keys with `config.manage`) read them; `config.manage` changes them."""

from __future__ import annotations

from crmapi.lifecycle.types import RULES, TYPES
from crmapi.options import catalogue
from crmapi.options.router import router_for

router = router_for(catalogue.STATUSES, TYPES, RULES, *catalogue.LISTS[1:])

"""Every model imported once, so Alembic and the catalogue tests see the whole schema."""

from crmapi.access import models as _access
from crmapi.accounts import models as _accounts
from crmapi.activities import models as _activities
from crmapi.attachments import models as _attachments
from crmapi.config import models as _options
from crmapi.contacts import models as _contacts
from crmapi.conversations import models as _conversations
from crmapi.custom_fields import models as _custom_fields
from crmapi.documents import models as _documents
from crmapi.events import models as _events
from crmapi.feedback import models as _feedback
from crmapi.feeds import models as _feeds
from crmapi.identity import models as _identity
from crmapi.issues import models as _issues
from crmapi.kit.base import Base
from crmapi.kit.idempotency import IdempotencyKey
from crmapi.leads import models as _leads
from crmapi.lifecycle import models as _lifecycle
from crmapi.notes import models as _notes
from crmapi.notifications import models as _notifications
from crmapi.opportunities import models as _opportunities
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from crmapi.sales_orders import models as _sales_orders
from crmapi.service_requests import models as _service_requests
from crmapi.tags import models as _tags

metadata = Base.metadata

__all__ = [
    "HistoryEntry",
    "IdempotencyKey",
    "OutboxEvent",
    "_access",
    "_accounts",
    "_activities",
    "_attachments",
    "_contacts",
    "_conversations",
    "_custom_fields",
    "_documents",
    "_events",
    "_feedback",
    "_feeds",
    "_identity",
    "_issues",
    "_leads",
    "_lifecycle",
    "_notes",
    "_notifications",
    "_opportunities",
    "_options",
    "_sales_orders",
    "_service_requests",
    "_tags",
    "metadata",
]

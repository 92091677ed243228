"""A read sent straight to asyncpg binds its organisation inside the statement: it reads that
organisation's rows, no other's, and leaves nothing bound on the pooled connection."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import bindparam, select

from crmapi.contacts.models import Contact
from crmapi.kit import direct
from crmapi.kit.db import Database
from tests.factories import contact
from tests.support import Tenants

NAME_BY_ID = direct.direct(select(Contact.display_name).where(Contact.id == bindparam("contact_id")))


@pytest.mark.committed
async def test_a_direct_read_sees_the_organisation_it_names_and_leaves_none_bound(
    committed_client: AsyncClient, committed_tenants: Tenants, committed_db: Database
) -> None:
    acme, globex = await committed_tenants.create("Acme"), await committed_tenants.create("Globex")
    anna = await contact(committed_client, acme.admin, first_name="Anna", last_name="Acme")

    async with committed_db.sessions() as session:
        own = await direct.fetch(session, NAME_BY_ID, acme.org_id, contact_id=anna["id"])
        other = await direct.fetch(session, NAME_BY_ID, globex.org_id, contact_id=anna["id"])
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        left_bound = await driver.fetchval("SELECT current_setting('app.org_id', true)")
        in_transaction = driver.is_in_transaction()

    assert own == ("Anna Acme",)
    assert other is None, "row-level security showed another organisation's contact"
    assert not in_transaction
    assert left_bound in (None, ""), "the organisation stayed bound on the connection"

"""Where a webhook may be sent: https (plain http only where `WEBHOOKS_ALLOW_HTTP` says local
testing), and not to a private, loopback or link-local address unless the organisation allows
them (an ERP on its own premises). Checked when an endpoint is saved (an address written in the
URL) and again before every attempt (what the name resolves to then)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.identity.models import Organisation
from crmapi.identity.service import PRIVATE_ADDRESSES
from crmapi.kit.errors import Unprocessable


async def private_allowed(session: AsyncSession, org_id: UUID) -> bool:
    org = await session.get(Organisation, org_id)
    return bool(org is not None and org.settings.get(PRIVATE_ADDRESSES))


class Refused(Exception):
    """The URL may not be sent to: the attempt fails with this reason."""


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """422 on `body.url` for a URL no delivery could go to."""
    try:
        _check_form(url, allow_http=allow_http)
        host = urlsplit(url).hostname or ""
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            _check_address(ipaddress.ip_address("127.0.0.1"), allow_private)
        else:
            with contextlib.suppress(ValueError):  # a name: checked when resolved, before each attempt
                _check_address(ipaddress.ip_address(host), allow_private)
    except Refused as refused:
        raise Unprocessable.on("body.url", str(refused)) from None


def _check_form(url: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise Refused("The URL must be https." if not allow_http else "The URL must be http or https.")
    if not parts.hostname:
        raise Refused("The URL has no host.")
    if parts.username or parts.password:
        raise Refused("The URL must not carry credentials; the signature authenticates the sender.")


def _check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        raise Refused(f"{address} is not an address a webhook can be sent to.")
    if not allow_private and (address.is_private or address.is_loopback or address.is_link_local):
        raise Refused(
            f"{address} is a private address; the organisation's setting "
            "`webhooks_private_addresses` allows them (an ERP on its own premises)."
        )


async def resolve_and_check(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Before an attempt: the URL's form and every address its host resolves to now."""
    _check_form(url, allow_http=allow_http)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as failed:
        raise Refused(f"The host {host} does not resolve: {failed.strerror}.") from None
    for *_, sockaddr in found:
        _check_address(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), allow_private)

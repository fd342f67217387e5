"""Outbound requests to addresses someone else chose (webhook URLs): which addresses are
public, and resolving a host so the request is sent to the address that was checked.

Checking a name and then letting the HTTP client resolve it again would let a DNS server
answer a public address to the check and 127.0.0.1 to the connection (DNS rebinding), so
`pin` resolves once, checks every address, and rewrites the URL to the checked address
(keeping the name in `Host` and, for TLS, in SNI and certificate checking).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeAddress(Exception):
    """The URL's host is, or resolves to, an address outbound requests may not reach."""


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (CGNAT),
    reserved, multicast or unspecified; an IPv4-mapped IPv6 address counts as its IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (in its order)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone
        if text not in addresses:
            addresses.append(text)
    return addresses


@dataclass
class Pinned:
    """A request target: the URL to connect to and what keeps the original name."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


async def resolve_checked(
    host: str,
    port: int,
    *,
    resolve: Resolver = system_resolve,
    allowed: Callable[[IPAddress], bool] = is_public,
) -> list[IPAddress]:
    """The host's addresses, all of them allowed; UnsafeAddress otherwise."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(text) for text in await resolve(host, port)]
        except (OSError, UnicodeError, ValueError) as error:
            raise UnsafeAddress(f"{host} cannot be resolved: {error}") from error
        if not addresses:
            raise UnsafeAddress(f"{host} has no address")
    refused = [address for address in addresses if not allowed(address)]
    if refused:
        raise UnsafeAddress(f"{host} resolves to {refused[0]}, which is not a public address")
    return addresses


async def pin(
    url: str,
    *,
    resolve: Resolver = system_resolve,
    allowed: Callable[[IPAddress], bool] = is_public,
) -> Pinned:
    """`url` rewritten to connect to a checked address of its host (see the module)."""
    parsed = httpx.URL(url)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve_checked(host, port, resolve=resolve, allowed=allowed)
    pinned = Pinned(url=str(parsed.copy_with(host=str(addresses[0]))))
    pinned.headers["Host"] = parsed.netloc.decode("ascii")
    if parsed.scheme == "https":
        pinned.extensions["sni_hostname"] = host
    return pinned

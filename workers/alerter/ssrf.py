"""SSRF guard for webhook deliveries: the address actually connected to must be a public one.

A webhook URL is user input, so a subscriber could point it at the metadata service, at Redis on
loopback, or at a name that resolves to an internal address (also after a DNS change). The guard sits
in the connection itself: the HTTP client's network backend resolves the host once, refuses every
address that is not global (loopback, private, link-local and metadata, CGNAT, 0/8, multicast, IPv6
ULA, and IPv4-mapped or 6to4 forms of those), and connects to the checked address, so there is no
second lookup to race. A name that does not resolve is refused too. Subscribers marked ``local``
(the demo's receiver) skip the address check. TLS still verifies the original host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore

from workers.infra.tls import client_context

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Python's is_private/is_global were wrong for some ranges before 3.12.4: deny these explicitly too.
_DENY = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
]


class AddressRefusedError(httpcore.ConnectError):
    """The webhook's host resolves only to addresses we must not connect to."""


def refusal(address: str) -> str | None:
    """Why an address must not be connected to, or None when it is a public one."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return refusal(str(embedded))
    for net in _DENY:
        if ip.version == net.version and ip in net:
            return f"{ip} is in the blocked range {net}"
    if not ip.is_global:
        return f"{ip} is not a global address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def allowed_addresses(host: str, port: int, *, local: bool, resolver: Resolver = system_resolver) -> list[str]:
    """The addresses a delivery may connect to; raise AddressRefusedError when there is none."""
    host = host.strip("[]")
    try:
        addresses = [host] if _is_ip(host) else resolver(host, port)
    except OSError as exc:
        raise AddressRefusedError(f"{host} does not resolve: {exc}") from None
    if local:
        return addresses
    allowed = [a for a in addresses if refusal(a) is None]
    if not allowed:
        reasons = "; ".join(filter(None, (refusal(a) for a in addresses))) or "no address"
        raise AddressRefusedError(f"refused to connect to {host}: {reasons} (mark the subscriber local to allow)")
    return allowed


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks, then connects to the checked address (never a second lookup)."""

    def __init__(self, *, local: bool, resolver: Resolver = system_resolver) -> None:
        self.local = local
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in allowed_addresses(host, port, local=self.local, resolver=self.resolver):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or AddressRefusedError(f"no address to connect to for {host}")


def webhook_client(
    *, local: bool, max_connections: int, resolver: Resolver = system_resolver
) -> httpcore.ConnectionPool:
    """A connection pool for one subscriber: keep-alive sized to its concurrency, the guard in its
    connections. No proxy (a proxy would be the address connected to) and no redirects (httpcore has none)."""
    return httpcore.ConnectionPool(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        ssl_context=client_context(),
        # h11 writes headers and body separately: without NODELAY, Nagle + delayed ACK add ~40 ms per alert
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        network_backend=GuardedBackend(local=local, resolver=resolver),
    )


def refused_reason(exc: BaseException) -> str | None:
    """The guard's message when a connection error was (or was caused by) a refused address."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressRefusedError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None

"""SSRF guard for webhook deliveries: the address actually connected to must be a public one.

A webhook URL is user input, so a subscriber could point it at the metadata service, at Redis on
loopback, or at a name that resolves to an internal address (also after a DNS change). The guard sits
in the connection itself: the HTTP session's resolver resolves the host once, refuses every
address that is not global (loopback, private, link-local and metadata, CGNAT, 0/8, multicast, IPv6
ULA, and IPv4-mapped or 6to4 forms of those), and connects to the checked address, so there is no
second lookup to race. A name that does not resolve is refused too. Subscribers marked ``local``
(the demo's receiver) skip the address check. TLS still verifies the original host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from aiohttp import ClientSession, DummyCookieJar, TCPConnector
from aiohttp.abc import AbstractResolver

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


class AddressRefusedError(OSError):
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


class GuardedResolver(AbstractResolver):
    """The webhook session's resolver: resolves, checks, and hands the connector only the checked addresses, so
    it connects to what was checked (never a second lookup). The lookup runs in ``executor`` (the lane's own
    threads: a name whose lookup hangs holds up no other subscriber's), or the loop's default one."""

    def __init__(self, *, local: bool, resolver: Resolver = system_resolver, executor: Executor | None = None) -> None:
        self.local = local
        self.resolver = resolver
        self.executor = executor

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(
            self.executor, lambda: allowed_addresses(host, port, local=self.local, resolver=self.resolver)
        )
        return [
            {
                "hostname": host,  # TLS verifies this name, not the address
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        pass


def webhook_session(
    *,
    local: bool,
    max_connections: int,
    resolver: Resolver = system_resolver,
    tls: ssl.SSLContext | None = None,
    executor: Executor | None = None,
) -> ClientSession:
    """A keep-alive session for one subscriber, sized to its concurrency, the guard in its resolver; made on the
    loop that will use it. No proxy from the environment (a proxy would be the address connected to), no cookies;
    each request says ``allow_redirects=False``. A URL whose host is an IP literal never reaches a resolver:
    ``refused_literal`` checks it before the request."""
    connector = TCPConnector(
        limit=max_connections,
        ssl=tls or client_context(),
        resolver=GuardedResolver(local=local, resolver=resolver, executor=executor),
        ttl_dns_cache=10,  # a DNS change (to an internal address too) is seen, and checked, within 10 s
    )
    return ClientSession(connector=connector, cookie_jar=DummyCookieJar(), trust_env=False, auto_decompress=False)


def refused_literal(host: str, *, local: bool) -> str | None:
    """Why a URL's literal IP host must not be connected to (aiohttp connects to one without resolving)."""
    host = host.strip("[]")
    if local or not _is_ip(host):
        return None
    problem = refusal(host)
    return f"refused to connect to {host}: {problem} (mark the subscriber local to allow)" if problem else None


def refused_reason(exc: BaseException) -> str | None:
    """The guard's message when a connection error was (or was caused by) a refused address."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressRefusedError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None

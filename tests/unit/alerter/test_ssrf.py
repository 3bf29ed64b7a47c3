"""The SSRF guard on the address actually connected to, with real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from workers.alerter.ssrf import (
    AddressRefusedError,
    allowed_addresses,
    refusal,
    refused_reason,
    system_resolver,
    webhook_session,
)
from workers.alerter.webhook import deliver_once
from workers.core.errors import DeliveryError
from workers.devstack.receiver import Receiver


def fake_dns(host: str, _port: int) -> list[str]:
    return {"internal.example": ["10.0.0.1"], "public.example": ["93.184.216.34"]}[host]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://internal.example/"],
)
def test_internal_addresses_are_refused_unless_local(url: str) -> None:
    host = str(urlsplit(url).hostname)
    with pytest.raises(AddressRefusedError):
        allowed_addresses(host, 80, local=False, resolver=fake_dns)
    assert allowed_addresses(host, 80, local=True, resolver=fake_dns)


@pytest.mark.parametrize(
    "address",
    [
        "0.0.0.0",
        "100.64.1.1",
        "192.168.1.1",
        "172.16.0.1",
        "224.0.0.1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",
    ],
)
def test_other_blocked_ranges(address: str) -> None:
    assert refusal(address) is not None


def test_public_addresses_pass() -> None:
    assert refusal("93.184.216.34") is None and refusal("2606:2800:220:1::1") is None
    assert allowed_addresses("public.example", 443, local=False, resolver=fake_dns) == ["93.184.216.34"]


def test_guard_is_in_the_connection(secret: str) -> None:
    """The session's resolver refuses a name resolving inside; a literal internal address is refused before any
    request; a local subscriber reaches the receiver (401: unsigned)."""
    receiver = Receiver(secret=secret)
    port = receiver.start()

    async def post(url: str, *, local: bool, resolver: Any = system_resolver) -> int:
        async with webhook_session(local=local, max_connections=2, resolver=resolver) as session:
            async with session.post(url, data=b"{}", allow_redirects=False) as resp:
                return resp.status

    try:
        with pytest.raises(aiohttp.ClientError) as err:
            asyncio.run(post(f"http://internal.example:{port}/hook", local=False, resolver=fake_dns))
        assert "10.0.0.1" in str(refused_reason(err.value))
        with pytest.raises(DeliveryError) as refused:
            deliver_once("desk", f"http://127.0.0.1:{port}/hook", secret, "msg_1", b"{}", timeout=5, local=False)
        assert not refused.value.retryable and "127.0.0.1" in refused.value.reason
        assert asyncio.run(post(f"http://127.0.0.1:{port}/hook", local=True)) == 401  # reached, unsigned
        assert receiver.received == []
    finally:
        receiver.stop()

"""The SSRF guard on the address actually connected to, with real HTTP on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpcore
import pytest

from workers.alerter.ssrf import AddressRefusedError, allowed_addresses, refusal, refused_reason, webhook_client
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
    receiver = Receiver(secret=secret)
    port = receiver.start()
    try:
        with webhook_client(local=False, max_connections=2) as client, pytest.raises(httpcore.ConnectError) as err:
            client.request("POST", f"http://127.0.0.1:{port}/hook", content=b"{}")
        assert refused_reason(err.value) and "127.0.0.1" in str(refused_reason(err.value))
        with (
            webhook_client(local=False, max_connections=2, resolver=fake_dns) as client,
            pytest.raises(httpcore.ConnectError) as err,
        ):
            client.request("POST", f"http://internal.example:{port}/hook", content=b"{}")
        assert "10.0.0.1" in str(refused_reason(err.value))
        with webhook_client(local=True, max_connections=2) as client:
            assert client.request("POST", f"http://127.0.0.1:{port}/hook", content=b"{}").status == 401  # reached
        assert receiver.received == []
    finally:
        receiver.stop()

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from workers.core.signing import check_secret, new_secret, sign, signed_headers, verify


def test_signature_matches_the_standard_webhooks_construction() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"a":1}'
    expected = base64.b64encode(hmac.new(b"k" * 32, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert sign(secret, "msg_1", 1700000000, body) == "v1," + expected


def test_verify_accepts_own_headers_and_rejects_tampering() -> None:
    secret = new_secret()
    body = '{"title":"किम जोंग उन"}'.encode()
    headers = signed_headers(secret, "msg_abc", body)
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(new_secret(), headers, body)
    assert not verify(secret, {**headers, "webhook-id": "msg_other"}, body)


def test_verify_rejects_old_timestamps_and_accepts_rotated_keys() -> None:
    secret = new_secret()
    body = b"{}"
    old = signed_headers(secret, "msg_1", body, now=1_000_000)
    assert not verify(secret, old, body, now=1_000_000 + 301)
    assert verify(secret, old, body, now=1_000_000 + 299)
    rotated = dict(old, **{"webhook-signature": "v1,bm90LXRoaXMtb25l " + old["webhook-signature"]})
    assert verify(secret, rotated, body, now=1_000_000)


@pytest.mark.parametrize(
    "secret,problem",
    [
        ("abc", "must start with whsec_"),
        ("whsec_!!!", "not valid base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24-64 bytes"),
    ],
)
def test_bad_secrets_are_named_without_echoing_them(secret: str, problem: str) -> None:
    message = check_secret(secret)
    assert message is not None and problem in message
    assert secret not in message


def test_new_secret_is_valid() -> None:
    assert check_secret(new_secret()) is None


def test_a_key_ring_signs_with_every_secret_newest_first_for_standardwebhooks() -> None:
    from standardwebhooks import Webhook, WebhookVerificationError

    old, new = new_secret(), new_secret()
    body = b'{"type":"story.matched"}'
    for ring in ([new, old], f"{new} {old}"):
        headers = signed_headers(ring, "msg_" + "0" * 32, body)
        first, second = headers["webhook-signature"].split(" ")
        ts = int(headers["webhook-timestamp"])
        assert (first, second) == (sign(new, "msg_" + "0" * 32, ts, body), sign(old, "msg_" + "0" * 32, ts, body))
        for holder in (old, new):
            assert Webhook(holder).verify(body, headers) == {"type": "story.matched"}
            assert verify(holder, headers, body) and verify([holder, new_secret()], headers, body)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(body, headers)
    with pytest.raises(ValueError):
        signed_headers([], "msg_x", body)

"""Standard Webhooks signing and verification: what the alerter signs and what a receiver checks.

A delivery signs exactly the bytes it sends: ``v1,base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))``
where key is the base64 part of the subscriber's ``whsec_`` secret. ``webhook-id`` is stable for a
(subscriber, story) so a receiver can drop repeats; the timestamp is fresh on every attempt.

Key rotation: a subscriber may have several secrets at once (a key ring, newest first). Every request is
signed with each of them, space-separated in one ``webhook-signature`` header as Standard Webhooks allows, so a
receiver holding only the old secret or only the new one verifies the same request. A key ring is passed as a
sequence of secrets or as one string of space-separated secrets (how settings carries it in one SecretStr).
Pure: no I/O, so settings (secret checks), the alerter and the dev receiver share it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import secrets as _secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh signing secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> str | None:
    """Return what is wrong with a secret, or None. The message never contains the secret."""
    if not secret.startswith(SECRET_PREFIX):
        return f"secret must start with {SECRET_PREFIX}"
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "secret is not valid base64 after whsec_"
    if not 24 <= len(key) <= 64:
        return f"secret must decode to 24-64 bytes, got {len(key)}"
    return None


KeyRing = str | Sequence[str]


def key_ring(secrets: KeyRing) -> list[str]:
    """The secrets of a key ring, newest first: a sequence, or one string of space-separated secrets."""
    ring = secrets.split() if isinstance(secrets, str) else [s for s in secrets if s]
    if not ring:
        raise ValueError("no signing secret")
    return ring


@functools.lru_cache(maxsize=1024)  # a subscriber's key is decoded once, not at every POST
def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.digest(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, "sha256")  # one-shot, in C
    return "v1," + base64.b64encode(mac).decode()


def signatures(secrets: KeyRing, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,`` signature per secret of the key ring, newest first."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in key_ring(secrets))


def verify(secrets: KeyRing, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> bool:
    """Receiver side: check the timestamp window and whether any of the space-separated v1 signatures is made
    by any of ``secrets`` (a receiver in the middle of a rotation may hold two)."""
    msg_id = headers.get("webhook-id", "")
    ts_raw = headers.get("webhook-timestamp", "")
    try:
        ts = int(ts_raw)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_S:
        return False
    expected = [sign(secret, msg_id, ts, body).split(",", 1)[1] for secret in key_ring(secrets)]
    for candidate in headers.get("webhook-signature", "").split():
        version, _, sig = candidate.partition(",")
        if version == "v1" and any(hmac.compare_digest(sig, e) for e in expected):
            return True
    return False


def signed_headers(secrets: KeyRing, msg_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of one request, signed with every secret of the key ring."""
    ts = int(time.time() if now is None else now)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signatures(secrets, msg_id, ts, body),
    }

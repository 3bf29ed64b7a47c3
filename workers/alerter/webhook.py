"""One webhook delivery attempt: POST the signed bytes, and say what became of it.

Only a 2xx counts as delivered; redirects are not followed; 410 means the endpoint is gone.
Any error of a delivery becomes a DeliveryError saying whether a retry may help.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpcore

from workers.alerter.ssrf import refused_reason
from workers.core.errors import DeliveryError
from workers.core.signing import signed_headers

USER_AGENT = b"wirewatch-webhooks/0.1"


@dataclass(frozen=True)
class DeliveryResult:
    status: int
    elapsed_s: float


def deliver(
    client: httpcore.ConnectionPool,
    subscriber: str,
    url: str,
    secret: str,
    msg_id: str,
    body: bytes,
    *,
    timeout: float,
    traceparent: str | None = None,
) -> DeliveryResult:
    """POST one signed alert; raise DeliveryError (retryable or not) unless the receiver answers 2xx.

    httpcore directly (not httpx): the alerter needs no cookies, redirects or URL helpers, and httpx's
    layer above the pool was half the CPU of a delivery."""
    started = time.monotonic()
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(secret, msg_id, body).items()]
    headers.append((b"user-agent", USER_AGENT))
    if traceparent:  # W3C Trace Context: the receiver's logs can name our trace
        headers.append((b"traceparent", traceparent.encode("ascii")))
    try:
        resp = client.request(
            "POST",
            url,
            headers=headers,
            content=body,
            extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}},
        )
    except httpcore.TimeoutException:
        raise DeliveryError(subscriber, f"timed out after {timeout:g}s") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        refused = refused_reason(exc)
        if refused:  # trying again would connect to the same place
            raise DeliveryError(subscriber, refused, retryable=False) from None
        raise DeliveryError(subscriber, f"{type(exc).__name__}: {exc}") from None
    elapsed = time.monotonic() - started
    if 200 <= resp.status < 300:
        return DeliveryResult(resp.status, elapsed)
    if resp.status == 410:
        raise DeliveryError(subscriber, "endpoint answered 410 Gone", retryable=False, status=410)
    raise DeliveryError(subscriber, f"endpoint answered {resp.status}", status=resp.status)

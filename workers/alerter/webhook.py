"""One webhook delivery attempt: POST the signed bytes, and say what became of it.

Only a 2xx counts as delivered; redirects are not followed; 410 means the endpoint is gone.
Any error of a delivery becomes a DeliveryError saying whether a retry may help.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from workers.alerter.ssrf import refused_literal, refused_reason
from workers.core.errors import DeliveryError
from workers.core.signing import signed_headers

USER_AGENT = "wirewatch-webhooks/0.1"
MAX_ANSWER_BYTES = 64 * 1024  # read of an answer's body at most; the status is what counts


@dataclass(frozen=True)
class DeliveryResult:
    status: int
    elapsed_s: float


async def deliver(
    session: aiohttp.ClientSession,
    subscriber: str,
    url: str,
    secret: str,
    msg_id: str,
    body: bytes,
    *,
    timeout: float,
    refused: str | None = None,
    traceparent: str | None = None,
) -> DeliveryResult:
    """POST one signed alert; raise DeliveryError (retryable or not) unless the receiver answers 2xx.

    aiohttp on the sender's one event loop (``workers.alerter.sender``): its C parser and no thread per request
    cost about a fifth of the CPU of a thread per POST through httpcore. ``timeout`` bounds the whole attempt.
    ``refused``: the URL's ``literal_refusal``, decided once per subscriber."""
    started = time.monotonic()
    if refused:  # an IP literal: no resolver sees it, so the guard is here
        raise DeliveryError(subscriber, refused, retryable=False)
    headers = signed_headers(secret, msg_id, body)
    headers["user-agent"] = USER_AGENT
    if traceparent:  # W3C Trace Context: the receiver's logs can name our trace
        headers["traceparent"] = traceparent
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=_total(timeout),
        ) as resp:
            status = resp.status
            await _drain(resp)
    except TimeoutError:
        raise DeliveryError(subscriber, f"timed out after {timeout:g}s") from None
    except ValueError as exc:  # not a URL at all (the config check makes this rare): retried, as a client error
        raise DeliveryError(subscriber, f"InvalidUrl: {exc}") from None
    except (aiohttp.ClientError, OSError) as exc:
        refused = refused_reason(exc)
        if refused:  # trying again would connect to the same place
            raise DeliveryError(subscriber, refused, retryable=False) from None
        raise DeliveryError(subscriber, f"{type(exc).__name__}: {exc}") from None
    elapsed = time.monotonic() - started
    if 200 <= status < 300:
        return DeliveryResult(status, elapsed)
    if status == 410:
        raise DeliveryError(subscriber, "endpoint answered 410 Gone", retryable=False, status=410)
    raise DeliveryError(subscriber, f"endpoint answered {status}", status=status)


@functools.lru_cache(maxsize=16)  # one per delivery_timeout: not an object per POST
def _total(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


def literal_refusal(url: str, *, local: bool) -> str | None:
    """Why a URL whose host is an IP literal must not be posted to (aiohttp connects to one without resolving,
    so no resolver checks it), or None. A URL that does not even parse is left to the POST to report."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    return refused_literal(host, local=local)


async def _drain(resp: aiohttp.ClientResponse) -> None:
    """Read the answer's body, which we do not use, so the connection goes back to the pool; past
    ``MAX_ANSWER_BYTES`` drop the connection instead: an endpoint's body never fills the alerter's memory."""
    seen = 0
    while not resp.content.at_eof():
        chunk = await resp.content.readany()
        if not chunk:
            return
        seen += len(chunk)
        if seen > MAX_ANSWER_BYTES:
            resp.close()
            return


def deliver_once(
    subscriber: str, url: str, secret: str, msg_id: str, body: bytes, *, timeout: float, local: bool
) -> DeliveryResult:
    """One delivery on a session of its own (``wirewatch subscribers test``)."""
    from workers.alerter.ssrf import webhook_session

    async def once() -> DeliveryResult:
        async with webhook_session(local=local, max_connections=1) as session:
            refused = literal_refusal(url, local=local)
            return await deliver(session, subscriber, url, secret, msg_id, body, timeout=timeout, refused=refused)

    return asyncio.run(once())

"""The poller's HTTP client rules: one GET of a feed, polite and bounded.

In order: send the stored validators (If-None-Match / If-Modified-Since) and our User-Agent; follow
at most MAX_REDIRECTS redirects ourselves, remembering whether every hop was permanent (301/308), so
the caller can update the stored URL; then decide on the status: 304 is "not modified", 200 (and 203, 226) is read,
410 raises FeedGoneError (the feed is disabled), 429/503 raise FeedThrottledError carrying
Retry-After, anything else raises FeedFetchError. The body is read raw and decompressed here, with
zlib's ``max_length``, so neither a huge body nor a gzip bomb is ever held in memory past the cap.
A body that is itself gzip (a .xml.gz served without Content-Encoding) is unpacked the same way, and so
is a deflate body without the zlib header (raw RFC 1951).
Cache-Control max-age is returned so the scheduler does not poll a feed before it may have changed.

The client is httpcore's connection pool, not httpx: a revalidation (304) is almost all client
overhead, and httpx's layers above the pool (request building, auth, cookies, redirects we follow
ourselves anyway) cost a third of it. What httpx did for us and we now do here: URLs with non-ASCII
hosts or paths are encoded (IDNA, percent-encoding), user:password in a URL becomes Basic auth, and
an optional HTTP proxy is a pool of its own (``feed_client``).
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpcore

from workers.core.errors import FeedFetchError
from workers.core.urls import UrlError, wire_url
from workers.infra.tls import client_context

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
GZIP_MAGIC = b"\x1f\x8b"
_REDIRECTS = (301, 302, 303, 307, 308)
# read like 200: 203 is a 200 passed on by a transforming proxy; 226 (IM Used) answers an A-IM header we never
# send, so the body a publisher's server sends with it is the whole feed
_OK = (200, 203, 226)
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.I)


class FeedGoneError(FeedFetchError):
    """410 Gone: the publisher removed the feed; it is disabled until an operator re-enables it."""


class FeedThrottledError(FeedFetchError):
    """429 or 503: the publisher asks us to come back later (``retry_after`` seconds, when it said so)."""

    def __init__(self, feed: str, url: str, reason: str, retry_after: float | None) -> None:
        super().__init__(feed, url, reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the validators still hold
    body: bytes
    headers: dict[str, str]
    url: str  # the final URL after redirects
    moved_to: str | None = None  # set when every redirect hop was permanent (301/308)

    @property
    def validators(self) -> dict[str, str]:
        return {k: v for k in ("etag", "last-modified") if (v := self.headers.get(k))}

    @property
    def max_age(self) -> float | None:
        """Seconds the publisher says the response stays fresh (Cache-Control max-age), if any."""
        m = _MAX_AGE.search(self.headers.get("cache-control", ""))
        return float(m.group(1)) if m else None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() is true of '¹', which float() refuses
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def gunzip_capped(data: bytes, max_bytes: int, *, feed: str, url: str) -> bytes:
    """Decompress gzip/zlib data to at most max_bytes; raise FeedFetchError past the cap or on corrupt data."""
    d = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    try:
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise FeedFetchError(feed, url, f"corrupt compressed body: {exc}") from None
    if len(out) > max_bytes:
        raise FeedFetchError(feed, url, f"decompressed body exceeds {max_bytes} bytes")
    if not d.eof:  # cut before the end of its stream: partial bytes, not the document
        raise FeedFetchError(feed, url, "corrupt compressed body: truncated")
    return out


def read_file(name: str, url: str, max_bytes: int) -> Fetched:
    path = Path(unquote(urlsplit(url).path))
    try:
        with path.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FeedFetchError(name, url, f"cannot read file: {exc.strerror}") from None
    if len(body) > max_bytes:
        raise FeedFetchError(name, url, f"body larger than {max_bytes} bytes")
    if body.startswith(GZIP_MAGIC):
        body = gunzip_capped(body, max_bytes, feed=name, url=url)
    return Fetched(200, body, {}, url)


def feed_client(max_connections: int, proxy_url: str | None = None) -> httpcore.ConnectionPool:
    """The poller's HTTP client: TLS verified (workers.infra.tls), keep-alive, at most ``max_connections`` open;
    through ``proxy_url`` (an http:// proxy, CONNECT for https feeds) when one is configured."""
    tls = client_context()
    if proxy_url:
        return httpcore.HTTPProxy(
            proxy_url=proxy_url,
            ssl_context=tls,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
        )
    return httpcore.ConnectionPool(
        ssl_context=tls, max_connections=max_connections, max_keepalive_connections=max_connections
    )


def header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-case name; a repeated header's values joined with ", " (as httpx did)."""
    out: dict[str, str] = {}
    for k, v in raw:
        key, value = k.decode("latin-1").lower(), v.decode("latin-1")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _utf8_header(value: str) -> str:
    """A header value as the UTF-8 most servers send in practice (Location with a raw non-ASCII path)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _read_body(
    resp: httpcore.Response, headers: dict[str, str], name: str, url: str, timeout: float, max_bytes: int
) -> bytes:
    """The decoded body, capped at max_bytes after decompression and at ``timeout`` seconds in total."""
    declared = headers.get("content-length", "")
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses (found by the fuzz test)
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes and not headers.get("content-encoding"):
        raise FeedFetchError(name, url, f"body of {declared} bytes exceeds {max_bytes}")
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FeedFetchError(name, url, f"unsupported content-encoding {encoding!r}")
    # 47 = 32 + 15: zlib detects a gzip or zlib header (servers label deflate either way); a deflate body
    # may also be raw RFC 1951 without any header, which is decided on its first two bytes (_deflate_wbits)
    compressed = encoding not in ("identity", "")
    inflater = zlib.decompressobj(wbits=47) if compressed and encoding != "deflate" else None
    head = b""  # the first bytes of a deflate body, until there are two to decide by
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout  # a slow drip must not hold a worker past the timeout
    for raw in resp.iter_stream():
        if time.monotonic() > deadline:
            raise FeedFetchError(name, url, f"body not complete after {timeout:g}s")
        pending = raw
        if compressed and inflater is None:
            head += pending
            if len(head) < 2:
                continue
            inflater, pending = zlib.decompressobj(wbits=_deflate_wbits(head)), head
        while pending:
            if inflater is None:
                piece, pending = pending, b""
            else:
                try:
                    piece = inflater.decompress(pending, max_bytes + 1 - size)
                except zlib.error as exc:
                    raise FeedFetchError(name, url, f"corrupt {encoding} body: {exc}") from None
                pending = inflater.unconsumed_tail
            size += len(piece)
            if size > max_bytes:
                raise FeedFetchError(name, url, f"body exceeds {max_bytes} bytes")
            chunks.append(piece)
            if inflater is not None and not piece:
                break
    if compressed and inflater is None and head:  # a deflate body of one byte: not a valid stream
        raise FeedFetchError(name, url, f"corrupt {encoding} body: truncated")
    if inflater is not None and not inflater.eof:  # the stream stopped before its end: what came is partial
        raise FeedFetchError(name, url, f"corrupt {encoding} body: truncated")
    body = b"".join(chunks)
    if body.startswith(GZIP_MAGIC):  # a gzip file served as plain bytes
        body = gunzip_capped(body, max_bytes, feed=name, url=url)
    return body


def _deflate_wbits(head: bytes) -> int:
    """zlib's wbits for a body labelled deflate: a zlib (RFC 1950) or gzip header when it has one, else raw
    RFC 1951 (what some servers send; curl, httpx and feedparser read it too)."""
    if head.startswith(GZIP_MAGIC):
        return 31
    if head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:  # CM = 8 (deflate), FCHECK holds
        return 15
    return -15


def _raise_for_status(status: int, headers: dict[str, str], name: str, url: str) -> None:
    if status == 410:
        raise FeedGoneError(name, url, "HTTP 410 Gone")
    if status in (429, 503):
        after = retry_after_seconds(headers.get("retry-after"))
        hint = f", retry after {after:.0f}s" if after is not None else ""
        raise FeedThrottledError(name, url, f"HTTP {status}{hint}", after)
    raise FeedFetchError(name, url, f"HTTP {status}")


def fetch(
    client: httpcore.ConnectionPool,
    name: str,
    url: str,
    validators: dict[str, str],
    *,
    timeout: float,
    max_bytes: int,
    user_agent: str,
) -> Fetched:
    """GET a feed (conditional when validators are known); raise FeedFetchError or a subclass on failure."""
    if url.startswith("file://"):
        return read_file(name, url, max_bytes)
    headers = [(b"user-agent", user_agent.encode()), (b"accept-encoding", b"gzip, deflate")]
    if "etag" in validators:
        headers.append((b"if-none-match", validators["etag"].encode("latin-1", "replace")))
    if "last-modified" in validators:
        headers.append((b"if-modified-since", validators["last-modified"].encode("latin-1", "replace")))
    extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
    current, permanent = url, True
    try:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                target, auth = wire_url(current)
            except UrlError as exc:  # a redirect to a bad port, say: this feed's problem, not the poller's
                raise FeedFetchError(name, url, str(exc)) from None
            sent = headers if auth is None else [*headers, (b"authorization", auth)]
            with client.stream("GET", target, headers=sent, extensions=extensions) as resp:
                got = header_dict(resp.headers)
                if resp.status in _REDIRECTS and got.get("location"):
                    permanent = permanent and resp.status in (301, 308)
                    current = urljoin(current, _utf8_header(got["location"]))
                    if not current.startswith(("http://", "https://")):
                        raise FeedFetchError(name, url, f"redirect to unsupported URL {current!r}")
                    continue
                moved = current if permanent and current != url else None
                if resp.status == 304:
                    return Fetched(304, b"", got, current, moved)
                if resp.status not in _OK:
                    _raise_for_status(resp.status, got, name, url)
                body = _read_body(resp, got, name, url, timeout, max_bytes)
                return Fetched(200, body, got, current, moved)
        raise FeedFetchError(name, url, f"more than {MAX_REDIRECTS} redirects")
    except httpcore.TimeoutException:
        raise FeedFetchError(name, url, f"timed out after {timeout:g}s") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, httpcore.ProxyError) as exc:
        raise FeedFetchError(name, url, f"{type(exc).__name__}: {exc or 'connection failed'}") from None

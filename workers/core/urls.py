"""URL helpers shared by the poller and the settings: canonical form (for ids and fingerprints) and wire form
(what an HTTP client can send). Pure: no I/O, no client library.

``canonical_url`` is total: whatever a feed or a Kafka record carries, it returns a string and never raises,
because it feeds story ids and dedup fingerprints, and one bad link must not fail a feed or a batch. What it
does with input it cannot read, deterministically:

- a port that is not a number or out of range (``http://example.com:80a/x``): kept as written, host and
  scheme lower-cased, everything else canonicalised as usual;
- a URL ``urlsplit`` refuses (an unclosed ``[`` IPv6 literal, a netloc NFKC would change): the string as
  written, minus surrounding whitespace and the fragment.

``wire_url`` is strict instead: it raises ``UrlError`` (a ValueError) for what no request could be sent to,
so the config loader can name the key and the poller can fail the one fetch.
"""

from __future__ import annotations

import base64
import functools
import re
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ns_source|ns_mchannel|ref|rss)$", re.I)
_DEFAULT_PORTS = {("http", "80"), ("https", "443")}

# RFC 3986 characters a path or query may carry as they are; everything else is percent-encoded
_URL_SAFE = "/?&=%:@!$'()*+,;~-._[]"
# RFC 3986 reg-name and IP-literal characters: what a host may hold once IDNA-encoded (no space, no control)
_HOST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=%:-]*")


class UrlError(ValueError):
    """A URL no request can be sent to (bad port, host IDNA cannot encode, unreadable)."""


def _port_text(parts: SplitResult) -> str:
    """The port as written ('' when none); no int() here, so a bad port cannot raise."""
    hostinfo = parts.netloc.rpartition("@")[2]
    _, bracket, after = hostinfo.partition("]")
    _, colon, port = (after if bracket else hostinfo).rpartition(":")
    return port if colon else ""


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, drop the fragment, default ports and tracking parameters, sort the query.

    Never raises (see the module docstring for what an unreadable URL becomes)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        try:
            port = str(parts.port or "")
        except ValueError:
            port = _port_text(parts)
        netloc = f"{host}:{port}" if port and (scheme, port) not in _DEFAULT_PORTS else host
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
        return urlunsplit((scheme, netloc, parts.path or "/", urlencode(sorted(query)), ""))
    except ValueError:
        return url.partition("#")[0]


@functools.lru_cache(maxsize=8192)  # the same few thousand feed URLs, polled again and again
def wire_url(url: str) -> tuple[str, bytes | None]:
    """The URL as httpcore can send it (ASCII: IDNA host, percent-encoded path and query, no user
    info), and the Basic Authorization header value when the URL carried user:password.

    Raises UrlError for a URL no request can be sent to."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
        try:
            host.encode("ascii")
        except UnicodeEncodeError:
            host = host.encode("idna").decode("ascii")
        if not host:  # "http:////0" splits into no host and the path //0
            raise ValueError("no host")
        if not _HOST.fullmatch(host):
            raise ValueError(f"host {host!r} holds characters no host name can")
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = f"{host}:{port}" if port else host
        auth = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = b"Basic " + base64.b64encode(pair)
        path = quote(parts.path or "/", safe=_URL_SAFE)
        query = quote(parts.query, safe=_URL_SAFE)
    except ValueError as exc:  # UnicodeError is one: a label IDNA cannot encode, a lone surrogate
        raise UrlError(f"{url!r} cannot be sent: {exc}") from None
    return urlunsplit((parts.scheme.lower(), netloc, path, query, "")), auth


_PASSWORD = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")


def mask_url(url: str) -> str:
    """The URL with the password of its user info masked (``https://reader:***@host/``), for output and errors."""
    return _PASSWORD.sub(r"\1:***@", url)

"""Fetching a feed with our own HTTP client and parsing it into stories.

feedparser's own fetcher has no timeout and no size limit, so we fetch with httpx (timeouts, a cap on
the decompressed body, a redirect limit, conditional GET) and hand feedparser the bytes together with
the response headers, so it sees the declared charset. A feed that yields no entry and is bozo is
unusable; a bozo feed that yields entries is used as far as it parsed.
"""

from __future__ import annotations

import calendar
import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
import httpx

from workers.config import Feed
from workers.errors import FeedFetchError, FeedParseError
from workers.htmltext import html_to_text
from workers.stories import Story, story_id

logger = logging.getLogger(__name__)

MIN_YEAR = 1995  # feedparser sometimes reads two-digit years as year 200


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the validators still hold
    body: bytes
    headers: dict[str, str]
    url: str  # the final URL after redirects

    @property
    def validators(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (("etag", self.headers.get("etag")), ("last-modified", self.headers.get("last-modified")))
            if v
        }


def _read_file(feed: Feed, max_bytes: int) -> Fetched:
    path = Path(unquote(urlsplit(feed.url).path))
    try:
        with path.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FeedFetchError(feed.name, feed.url, f"cannot read file: {exc.strerror}") from None
    if len(body) > max_bytes:
        raise FeedFetchError(feed.name, feed.url, f"body larger than {max_bytes} bytes")
    return Fetched(200, body, {}, feed.url)


def fetch(client: httpx.Client, feed: Feed, validators: dict[str, str], *, timeout: float, max_bytes: int) -> Fetched:
    """GET the feed (conditional when validators are known); raise FeedFetchError on any failure."""
    if feed.url.startswith("file://"):
        return _read_file(feed, max_bytes)
    headers = {}
    if "etag" in validators:
        headers["if-none-match"] = validators["etag"]
    if "last-modified" in validators:
        headers["if-modified-since"] = validators["last-modified"]
    try:
        with client.stream("GET", feed.url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code == 304:
                return Fetched(304, b"", dict(resp.headers), str(resp.url))
            if resp.status_code != 200:
                raise FeedFetchError(feed.name, feed.url, f"HTTP {resp.status_code}")
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedFetchError(feed.name, feed.url, f"body of {declared} bytes exceeds {max_bytes}")
            chunks, size = [], 0
            deadline = time.monotonic() + timeout  # a slow drip must not hold a worker past the timeout
            for chunk in resp.iter_bytes():  # decompressed: the cap also stops gzip bombs
                size += len(chunk)
                if size > max_bytes:
                    raise FeedFetchError(feed.name, feed.url, f"body exceeds {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FeedFetchError(feed.name, feed.url, f"body not complete after {timeout:g}s")
                chunks.append(chunk)
            return Fetched(200, b"".join(chunks), dict(resp.headers), str(resp.url))
    except httpx.TimeoutException:
        raise FeedFetchError(feed.name, feed.url, f"timed out after {timeout:g}s") from None
    except httpx.TooManyRedirects:
        raise FeedFetchError(feed.name, feed.url, "too many redirects") from None
    except httpx.HTTPError as exc:
        raise FeedFetchError(feed.name, feed.url, f"{type(exc).__name__}: {exc}") from None


def _utc_iso(parsed: Any) -> str | None:
    """A feedparser time tuple (UTC) as ISO 8601, or None when absent or implausible."""
    if not parsed:
        return None
    try:
        ts = calendar.timegm(parsed)
    except (TypeError, ValueError, OverflowError):
        return None
    if parsed.tm_year < MIN_YEAR or ts > time.time() + 2 * 86400:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _language_hint(value: Any) -> str | None:
    """'en-US' or 'hi_IN' -> 'en' / 'hi'; anything else -> None."""
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _entry_html(entry: Any) -> str:
    for content in entry.get("content") or []:
        if content.get("value"):
            return str(content["value"])
    return str(entry.get("summary") or entry.get("description") or "")


def parse(feed: Feed, fetched: Fetched, *, fetched_at: str | None = None) -> list[Story]:
    """Parse a fetched body into stories; raise FeedParseError when nothing usable came out."""
    headers = {k.lower(): v for k, v in fetched.headers.items()}
    headers.setdefault("content-location", fetched.url)
    try:
        parsed = feedparser.parse(io.BytesIO(fetched.body), response_headers=headers)
    except Exception as exc:  # feedparser should not raise, but one broken feed must not stop the poller
        raise FeedParseError(feed.name, feed.url, f"parser crashed: {type(exc).__name__}: {exc}") from None
    if not parsed.entries:
        reason = f"not a feed: {parsed.get('bozo_exception')}" if parsed.bozo else "feed has no entries"
        raise FeedParseError(feed.name, feed.url, reason)
    if parsed.bozo:
        logger.info("feed parsed with problems feed=%s problem=%s", feed.name, parsed.get("bozo_exception"))
    now = fetched_at or datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stories = []
    for entry in parsed.entries:
        title = html_to_text(str(entry.get("title") or ""))
        link = str(entry.get("link") or "")
        markup = _entry_html(entry)
        published = _utc_iso(entry.get("published_parsed") or entry.get("updated_parsed"))
        guid = entry.get("id")
        if not (title or link or markup):
            continue
        stories.append(
            Story(
                id=story_id(feed.url, guid, link, title, published),
                feed=feed.name,
                feed_url=feed.url,
                title=title,
                link=link,
                text=html_to_text(markup),
                html=markup,
                guid=guid,
                published=published,
                fetched_at=now,
                language_hint=_language_hint(feed.language or parsed.feed.get("language")),
                tags=list(feed.tags),
            )
        )
    if not stories:
        raise FeedParseError(feed.name, feed.url, "no entry has a title, link or text")
    return stories

"""Parsing a fetched feed into stories (fetching itself is workers.poller.fetch).

feedparser gets the bytes together with the response headers, so it sees the declared charset and
falls back to sniffing when the declaration is missing or wrong. A feed that yields no entry is
unusable, with the reason; a bozo feed that yields entries is used as far as it parsed. JSON Feed
(jsonfeed.org), which feedparser 6 does not read, is mapped here. Per entry: title and body are
reduced to clean text (the original markup is kept in ``html`` for the alert), dates become UTC or
None (implausible years are dropped), and the story id comes from workers.core.stories.story_id.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from workers.core.errors import FeedParseError
from workers.core.stories import Story, story_id
from workers.poller.fetch import Fetched
from workers.poller.htmltext import html_to_text
from workers.poller.xmlsafety import UnsafeDocumentError, defuse_doctype
from workers.settings.config import Feed

logger = logging.getLogger(__name__)

MIN_YEAR = 1995  # feedparser sometimes reads two-digit years as year 200
# A story must fit in one Kafka message (1 MB by default, up to 3 bytes per character): a feed that puts a
# whole book in one entry would otherwise fail to produce on every poll. Longer fields are cut.
MAX_HTML_CHARS = 150_000
MAX_TEXT_CHARS = 50_000
# feedparser's HTML sanitiser and relative-URI rewriting run sgmllib over every HTML field and cost about
# two thirds of its parse time (measured on the corpus). We keep the original markup for the alert (the
# issue asks for the original) and derive clean text ourselves, so neither is needed. Consumers that
# render ``Story.html`` must sanitise it themselves, as they must for any markup from a feed.
PARSE_OPTIONS = {"sanitize_html": False, "resolve_relative_uris": False}


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


@dataclass(frozen=True)
class RawEntry:
    """One entry as the feed gave it, before cleaning: the same shape for XML feeds and JSON Feed."""

    title: str
    link: str
    markup: str
    guid: str | None
    published: str | None


def _iso_utc(value: Any) -> str | None:
    """An RFC 3339 string (JSON Feed dates) as ISO 8601 UTC, or None."""
    try:
        dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _utc_iso(dt.astimezone(UTC).timetuple())


def _json_feed(feed: Feed, body: bytes) -> tuple[list[RawEntry], str | None] | None:
    """Entries of a JSON Feed (jsonfeed.org) document; None when the body is not one."""
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return None
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedParseError(feed.name, feed.url, f"not a feed: invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):  # some omit the jsonfeed.org URL
        raise FeedParseError(feed.name, feed.url, "not a feed: JSON without an items list")
    entries = []
    for item in doc.get("items") or []:
        if not isinstance(item, dict):
            continue
        markup = item.get("content_html") or html.escape(str(item.get("content_text") or item.get("summary") or ""))
        entries.append(
            RawEntry(
                title=html.escape(str(item.get("title") or "")),  # JSON Feed titles are plain text
                link=str(item.get("url") or item.get("external_url") or ""),
                markup=str(markup),
                guid=str(item["id"]) if item.get("id") not in (None, "") else None,
                published=_iso_utc(item.get("date_published") or item.get("date_modified")),
            )
        )
    return entries, doc.get("language")


def _xml_feed(feed: Feed, fetched: Fetched) -> tuple[list[RawEntry], str | None]:
    headers = {k.lower(): v for k, v in fetched.headers.items()}
    headers.setdefault("content-location", fetched.url)
    try:
        body = defuse_doctype(fetched.body)
    except UnsafeDocumentError as exc:
        raise FeedParseError(feed.name, feed.url, str(exc)) from None
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, **PARSE_OPTIONS)
    except Exception as exc:  # feedparser should not raise, but one broken feed must not stop the poller
        raise FeedParseError(feed.name, feed.url, f"parser crashed: {type(exc).__name__}: {exc}") from None
    if not parsed.entries:
        reason = f"not a feed: {parsed.get('bozo_exception')}" if parsed.bozo else "feed has no entries"
        raise FeedParseError(feed.name, feed.url, reason)
    if parsed.bozo:
        logger.info("feed parsed with problems feed=%s problem=%s", feed.name, parsed.get("bozo_exception"))
    entries = [
        RawEntry(
            title=str(entry.get("title") or ""),
            link=str(entry.get("link") or ""),
            markup=_entry_html(entry),
            guid=entry.get("id"),
            # dict.get: FeedParserDict.get maps the two keys onto each other with a DeprecationWarning
            published=_utc_iso(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")),
        )
        for entry in parsed.entries
    ]
    return entries, parsed.feed.get("language")


def parse(feed: Feed, fetched: Fetched, *, fetched_at: str | None = None) -> list[Story]:
    """Parse a fetched body into stories; raise FeedParseError when nothing usable came out."""
    found = _json_feed(feed, fetched.body) or _xml_feed(feed, fetched)
    entries, feed_language = found
    if not entries:
        raise FeedParseError(feed.name, feed.url, "feed has no entries")
    now = fetched_at or datetime.now(UTC).isoformat().replace("+00:00", "Z")
    hint = _language_hint(feed.language or feed_language)
    stories = []
    for e in entries:
        title = html_to_text(e.title)[:1000]
        if not (title or e.link or e.markup):
            continue
        stories.append(
            Story(
                id=story_id(feed.url, e.guid, e.link, title, e.published),
                feed=feed.name,
                feed_url=feed.url,
                title=title,
                link=e.link,
                text=html_to_text(e.markup[: MAX_HTML_CHARS * 2])[:MAX_TEXT_CHARS],
                html=e.markup[:MAX_HTML_CHARS],
                guid=e.guid,
                published=e.published,
                fetched_at=now,
                language_hint=hint,
                tags=list(feed.tags),
            )
        )
    if not stories:
        raise FeedParseError(feed.name, feed.url, "no entry has a title, link or text")
    return stories

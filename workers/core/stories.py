"""The story record that flows through Kafka, its stable id, and its content fingerprints.

A story's id is decided in this order: the entry's guid (a URL guid is global; any other guid is
scoped to its feed, because "1" or "item-5" collide across feeds), else its canonical link, else a
hash of title + date + feed. The id never depends on content, so an edited entry is not a new story.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from workers.core.urls import canonical_url

SCHEMA_VERSION = 1


class StoryFormatError(ValueError):
    """A Kafka message that is not a story of a schema we understand (a poison message)."""


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _str_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(t, str) for t in v)


def _version(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


# The optional fields' types: a story of another writer with a wrong one is malformed, not a matcher crash.
_OPTIONAL: dict[str, Callable[[Any], bool]] = {
    "html": _is_str,
    "guid": _str_or_none,
    "published": _str_or_none,
    "fetched_at": _is_str,
    "language_hint": _str_or_none,
    "tags": _str_list,
    "version": _version,
    "previous_hash": _str_or_none,
}


@dataclass(frozen=True)
class Story:
    id: str
    feed: str
    feed_url: str
    title: str
    link: str
    text: str  # clean text of summary/content
    html: str = ""  # the original markup, kept for the alert
    guid: str | None = None
    published: str | None = None  # ISO 8601 UTC or None
    fetched_at: str = ""
    language_hint: str | None = None
    tags: list[str] = field(default_factory=list)
    # 1 for the first text the poller saw under this id; n+1 each time the entry's title or body changed since
    # (an UPDATE, a correction, a withdrawal), with the content hash of the version it replaces
    version: int = 1
    previous_hash: str | None = None
    schema: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return dataclass_json(self)

    @classmethod
    def from_dict(cls, data: Any) -> Story:
        if not isinstance(data, dict):
            raise StoryFormatError("story is not a JSON object")
        if data.get("schema") != SCHEMA_VERSION:
            raise StoryFormatError(f"unsupported story schema {data.get('schema')!r}")
        missing = [k for k in ("id", "feed", "feed_url", "title", "link", "text") if not isinstance(data.get(k), str)]
        if missing:
            raise StoryFormatError(f"story lacks string field(s): {', '.join(missing)}")
        wrong = [k for k, ok in _OPTIONAL.items() if k in data and not ok(data[k])]
        if wrong:
            raise StoryFormatError(f"story field(s) of the wrong type: {', '.join(wrong)}")
        known = {f for f in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise StoryFormatError(str(exc)) from None

    @classmethod
    def from_json(cls, raw: bytes) -> Story:
        return cls.from_dict(load_json(raw))


# orjson writes what ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` writes for the JSON types, at a
# fifth to a tenth of its CPU (a tenth of the alerter's was JSON); what it will not take (an int past 64 bits, a
# key that is no string, a dataclass or datetime, which these flags pass through) goes to the standard library,
# so both accept and refuse the same values. Floats may be spelled otherwise (1e-05 as 0.00001), the same number.
_DUMPS_AS_STDLIB = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def compact_json(data: Any) -> bytes:
    """The wire form of every message and payload: UTF-8 JSON without spaces, non-ASCII kept as is."""
    try:
        return orjson.dumps(data, option=_DUMPS_AS_STDLIB)
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def dataclass_json(obj: Any) -> bytes:
    """``compact_json(asdict(obj))`` without the deep copy ``asdict`` makes: orjson reads the fields itself."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return compact_json(asdict(obj))


def read_json(raw: bytes | str) -> Any:
    """``json.loads`` for our own stored JSON (Redis values): orjson when it takes the text, else the standard
    library (NaN, a lone surrogate), so both read the same values."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except RecursionError:  # nesting deeper than the stack: a bad value, not a crash of whoever reads it
        raise ValueError("JSON nested too deeply") from None


# JSON can carry a lone surrogate only as an escape (raw bytes must be UTF-8): a high or low surrogate's \\uDxxx
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(data: Any) -> Any:
    if isinstance(data, str):
        return _SURROGATE.sub("\ufffd", data)
    if isinstance(data, list):
        return [_without_surrogates(v) for v in data]
    if isinstance(data, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in data.items()}
    return data


def load_json(raw: bytes) -> Any:
    """Parse a Kafka message; anything that is not JSON is a poison message (StoryFormatError).

    A lone surrogate (``"\\ud800"``, valid JSON, not valid Unicode) becomes U+FFFD here, at the boundary: no
    encoder downstream (Kafka, Redis, the webhook body) could write it. A valid pair is one character already.
    It may come as an escape or as raw bytes: ``json.loads`` decodes bytes with ``surrogatepass``, so the UTF-8
    form of a surrogate (``ED A0 80``), which no UTF-8 decoder accepts, reads as one too.

    orjson reads the common case, UTF-8 JSON with no lone surrogate, at a fraction of the CPU; what it refuses
    (another encoding, a BOM, a lone surrogate, NaN) the standard library decides, as before. One difference:
    orjson reads an integer past 64 bits as a float, as JavaScript does; no field of ours holds one, and the
    checks of each record refuse a float where they want an int."""
    if isinstance(raw, bytes):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads(bytes) decodes
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoryFormatError(f"not JSON: {exc}") from None
    except RecursionError:  # orjson refuses past 1,024 levels, json.loads overflows the stack: poison either way
        raise StoryFormatError("not JSON: nested too deeply") from None
    return _without_surrogates(data) if _SURROGATE_ESCAPE.search(raw) or _SURROGATE.search(text) else data


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def story_id(feed_url: str, guid: str | None, link: str | None, title: str, published: str | None) -> str:
    if guid and guid.strip():
        guid = guid.strip()
        if re.match(r"^https?://", guid, re.I):
            return _digest("guid-url", canonical_url(guid))
        return _digest("guid", canonical_url(feed_url), guid)
    if link and link.strip():
        return _digest("link", canonical_url(link))
    return _digest("hash", canonical_url(feed_url), title.strip(), published or "")


_CREDIT = re.compile(r"[\(\[]?\b(ani|reuters|ap|afp|pti|ians|tass|yonhap|xinhua)\b[\)\]]?[:\s]*", re.I)


def normalise_for_fingerprint(text: str) -> str:
    """Casefolded letters and digits only, so whitespace, punctuation and credit tokens do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CREDIT.sub(" ", text)
    return " ".join(
        "".join(ch if ch.isalnum() or unicodedata.category(ch).startswith("M") else " " for ch in text).split()
    )


# A body is the story's own, and decides alone, from this size on; a shorter one is a line a feed may give
# every entry ("Read the full story on our website..."), so the title joins it. The upper bound: a body of
# three sentences under a new headline is still a syndicated copy (tests/integration/test_dedup.py).
UNIQUE_BODY_MIN_CHARS = 40
UNIQUE_BODY_MIN_WORDS = 15


def content_hash(title: str, text: str) -> str:
    """Exact-content fingerprint of a story's body, with the title when the body is too short to be unique.

    The body decides: syndicated copies of a wire story keep the body and often rewrite the headline. A
    short body (under UNIQUE_BODY_MIN_WORDS words) may be a teaser the feed repeats for unrelated stories,
    so there the title is part of the fingerprint.
    """
    return normalised_content_hash(title, normalise_for_fingerprint(text))


def normalised_content_hash(title: str, body: str) -> str:
    """``content_hash`` of a body already passed through ``normalise_for_fingerprint`` (the alerter normalises
    a body once for this hash and the SimHash)."""
    unique = len(body) >= UNIQUE_BODY_MIN_CHARS and body.count(" ") + 1 >= UNIQUE_BODY_MIN_WORDS
    return _digest("content", body if unique else normalise_for_fingerprint(title) + "|" + body)

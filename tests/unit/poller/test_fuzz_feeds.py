"""Fuzz: feed bytes and response headers into parse and the fetch decoding helpers. Mutated corpus feeds (the
mutations are made here, at test time) with random content-type, charset, language and encoding headers parse
to stories or fail with FeedParseError; bodies, compressed or not, mutated and cut into random chunks, decode
within the cap or fail with FeedFetchError; header values of any bytes never raise. Then a good feed still
parses."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import examples, mutated
from tests.support import corpus_dir, rss
from workers.core.errors import FeedFetchError, FeedParseError
from workers.core.stories import Story
from workers.poller.fetch import Fetched, _read_body, gunzip_capped, header_dict, retry_after_seconds
from workers.poller.parse import parse
from workers.settings.config import Feed

FEEDS = corpus_dir() / "feeds"
# small enough that feedparser takes milliseconds, so a few hundred examples fit in seconds
CORPUS = sorted(p for p in FEEDS.rglob("*") if p.is_file() and p.stat().st_size < 60_000) if FEEDS.is_dir() else []
FEED = Feed(name="fuzz", url="http://127.0.0.1/feed.xml")
GOOD = rss([{"title": "North Korea", "link": "http://127.0.0.1/a", "description": "Pyongyang said."}])
MAX = 200_000

content_types = st.sampled_from(
    ["application/rss+xml", "application/atom+xml", "text/xml", "application/xml", "text/html", "application/json"]
    + ["application/feed+json", "text/plain", "", "garbage/;;", "application/octet-stream"]
)
charsets = st.sampled_from(["", "utf-8", "UTF-16", "iso-8859-1", "koi8-r", "shift_jis", "nonsense", '"utf-8"', "x"])
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.builds(lambda t, c: f"{t}; charset={c}" if c else t, content_types, charsets),
        "content-language": st.sampled_from(["en", "hi-IN", "", "xx-yy-zz", "*"]),
        "content-location": st.sampled_from(["http://127.0.0.1/other.xml", "", "not a url", "http://[::1"]),
        "etag": st.text(max_size=10),
    },
)


def corpus_bytes() -> st.SearchStrategy[bytes]:
    if not CORPUS:
        pytest.skip(f"no corpus feeds in {FEEDS} (set WIREWATCH_CORPUS to the shared corpus)")
    return st.sampled_from(CORPUS).map(Path.read_bytes)


def check_parse(body: bytes, got_headers: dict[str, str]) -> None:
    try:
        stories = parse(FEED, Fetched(200, body, got_headers, FEED.url))
    except FeedParseError as exc:
        assert exc.reason
    else:
        assert stories
        for s in stories:
            assert Story.from_json(s.to_json()) == s  # the filter can read what the poller writes
    assert parse(FEED, Fetched(200, GOOD, {}, FEED.url))[0].title == "North Korea"


@examples(150)
@given(data=st.data(), got_headers=headers)
def test_fuzz_parse_mutated_corpus_feeds(data: st.DataObject, got_headers: dict[str, str]) -> None:
    body = data.draw(corpus_bytes().flatmap(lambda b: mutated(b, max_ops=8)))
    check_parse(body, got_headers)


@examples(150)
@given(body=st.binary(max_size=2000) | st.binary(max_size=300).map(lambda b: GOOD[:200] + b), got_headers=headers)
def test_fuzz_parse_random_bytes(body: bytes, got_headers: dict[str, str]) -> None:
    check_parse(body, got_headers)


class Response:
    """What _read_body reads of an httpcore response: its body, in chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def iter_stream(self) -> Iterator[bytes]:
        yield from self.chunks


ENCODINGS = {
    "identity": lambda b: b,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw-deflate": lambda b: zlib.compress(b)[2:-4],
}


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str, bytes, bool]:
    """(plain body, content-encoding header, body on the wire, whether the wire bytes were mutated)."""
    plain = draw(st.binary(max_size=3000) | st.just(GOOD * draw(st.integers(1, 50))))
    kind = draw(st.sampled_from(sorted(ENCODINGS)))
    wire = ENCODINGS[kind](plain)
    header = draw(
        st.sampled_from(["deflate"] if kind == "raw-deflate" else [kind, "x-gzip" if kind == "gzip" else kind])
        | st.sampled_from(["", " GZIP ", "br", "gzip, deflate", "compress"])
    )
    broken = draw(st.booleans())
    if broken:
        wire = draw(mutated(wire))
    return plain, header, wire, broken


@examples(400)
@given(body=bodies(), cuts=st.lists(st.integers(0, 4000), max_size=6), length=st.none() | st.text(max_size=8))
def test_fuzz_read_body(body: tuple[bytes, str, bytes, bool], cuts: list[int], length: str | None) -> None:
    plain, encoding, wire, broken = body
    points = sorted({c for c in cuts if c < len(wire)} | {0, len(wire)})
    chunks = [wire[a:b] for a, b in zip(points, points[1:], strict=False)]
    got = {"content-encoding": encoding} | ({} if length is None else {"content-length": length})
    try:
        out = _read_body(Response(chunks), got, "fuzz", FEED.url, 5.0, MAX)  # type: ignore[arg-type]
    except FeedFetchError as exc:
        assert exc.reason
        return
    assert len(out) <= MAX
    named = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "identity": "identity", "": "identity"}
    applied = "identity" if wire == plain else "gzip" if wire[:2] == b"\x1f\x8b" else "deflate"
    if not broken and named.get(encoding.strip().lower()) == applied and plain[:2] != b"\x1f\x8b":
        assert out == plain, "an intact body labelled with its encoding decodes to what was compressed"


@examples(200)
@given(data=st.binary(max_size=500) | st.binary(max_size=3000).map(gzip.compress).flatmap(mutated))
def test_fuzz_gunzip_capped(data: bytes) -> None:
    try:
        assert len(gunzip_capped(data, 10_000, feed="fuzz", url=FEED.url)) <= 10_000
    except FeedFetchError as exc:
        assert exc.reason


latin1 = st.text(st.characters(codec="latin-1"), max_size=12)


@examples(300)
@given(
    raw=st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=8),
    retry_after=latin1 | st.builds(str.__add__, st.integers(0, 999).map(str), latin1),
    cache_control=latin1 | st.builds("max-age={}".format, latin1),
)
def test_fuzz_response_headers(raw: list[tuple[bytes, bytes]], retry_after: str, cache_control: str) -> None:
    """Any header bytes a server sends: read as latin-1, and the values the poller interprets never raise."""
    raw = [*raw, (b"Retry-After", retry_after.encode("latin-1")), (b"Cache-Control", cache_control.encode("latin-1"))]
    got = header_dict(raw)
    after = retry_after_seconds(got["retry-after"])
    assert after is None or after >= 0
    age = Fetched(200, b"", got, FEED.url).max_age
    assert age is None or age >= 0
    assert Fetched(200, b"", got, FEED.url).validators.keys() <= {"etag", "last-modified"}


# Found by test_fuzz_response_headers (at WIREWATCH_FUZZ_SCALE=20): "Retry-After: ¹" (byte B9, read as latin-1)
# passed str.isdigit() and float() raised ValueError, which the poller took for Kafka or Redis trouble.
@pytest.mark.parametrize("value", ["¹", "²³", "1²"])
def test_a_retry_after_of_superscript_digits_is_unreadable(value: str) -> None:
    assert retry_after_seconds(value) is None

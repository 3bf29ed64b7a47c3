"""Every real feed of the shared corpus, served over HTTP, parses to clean stories or is reported as
unusable with a reason; none crashes the fetch-and-parse path. Plus the encoding edge cases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpcore
import pytest

from tests.support import corpus_dir
from workers.core.errors import FeedParseError
from workers.core.stories import Story
from workers.devstack.feedserver import FeedServer, Route
from workers.poller.fetch import feed_client, fetch
from workers.poller.parse import parse
from workers.poller.xmlsafety import defuse_doctype
from workers.settings.config import Feed

FEEDS = corpus_dir() / "feeds"
CORPUS_FILES = (
    sorted(p.relative_to(FEEDS).as_posix() for p in FEEDS.rglob("*") if p.is_file()) if FEEDS.is_dir() else []
)
# The corpus's one feed that holds no item at all: Reuters cut off by a server error before the first item.
KNOWN_UNUSABLE = {"feed-rs/rss_2.0_invalid_1.xml"}
_TAG = re.compile(r"<[A-Za-z/!]")


@pytest.fixture(scope="module")
def served() -> Iterator[FeedServer]:
    routes: dict[str, Route] = {}
    for directory in (FEEDS, corpus_dir() / "edge"):
        if directory.is_dir():
            for p in directory.rglob("*"):
                if p.is_file():
                    ctype = "application/feed+json" if p.suffix == ".json" else "application/xml"  # no charset
                    routes[f"/{directory.name}/{p.relative_to(directory).as_posix()}"] = Route(
                        p.read_bytes(), 200, 0, ctype
                    )
    server = FeedServer(routes)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client() -> Iterator[httpcore.ConnectionPool]:
    with feed_client(4) as c:
        yield c


def load(served: FeedServer, client: httpcore.ConnectionPool, path: str) -> list[Story]:
    url = served.url(path)
    fetched = fetch(client, "corpus", url, {}, timeout=10, max_bytes=10_000_000, user_agent="wirewatch-test")
    return parse(Feed(name="corpus", url=url), fetched)


def assert_clean(story: Story) -> None:
    assert story.id and (story.title or story.link or story.text), "a story needs an id and some content"
    assert story.text == story.text.strip() and "\n\n" not in story.text
    if "&lt;" not in story.html and "&#60;" not in story.html and "<![CDATA[" not in story.html:
        # the original had no escaped '<', so any tag left in the text is leftover markup
        assert not _TAG.search(story.text), f"markup left in text: {story.text[:120]!r}"
    assert story.published is None or re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", story.published)


@pytest.mark.skipif(not CORPUS_FILES, reason=f"corpus feeds not found at {FEEDS} (set WIREWATCH_CORPUS)")
@pytest.mark.parametrize("path", CORPUS_FILES)
def test_corpus_feed_parses_or_is_reported(served: FeedServer, client: httpcore.ConnectionPool, path: str) -> None:
    try:
        stories = load(served, client, f"/feeds/{path}")
    except FeedParseError as exc:
        assert path in KNOWN_UNUSABLE, f"unusable: {exc.reason}"
        assert exc.reason
        return
    assert path not in KNOWN_UNUSABLE
    assert stories
    for story in stories:
        assert_clean(story)


EDGE = corpus_dir() / "edge"
EDGE_FILES = sorted(p.relative_to(EDGE).as_posix() for p in EDGE.rglob("*") if p.is_file())


@pytest.mark.skipif(not EDGE_FILES, reason=f"corpus edge cases not found at {EDGE} (set WIREWATCH_CORPUS)")
def test_every_edge_case_parses_or_is_reported(served: FeedServer, client: httpcore.ConnectionPool) -> None:
    """Bad dates, bozo documents, odd encodings, duplicate guids: stories or a reason, never a crash."""
    usable = 0
    for path in EDGE_FILES:
        try:
            stories = load(served, client, f"/edge/{path}")
        except FeedParseError as exc:
            assert exc.reason, path
            continue
        usable += 1
        for story in stories:
            assert_clean(story)
    assert usable >= len(EDGE_FILES) // 2


@pytest.mark.parametrize(
    "path,title",
    [
        ("/edge/feedparser/illformed_chardet_koi8r.xml", "Как пережить новогоднюю ночь"),
        ("/edge/feedparser/illformed_chardet_euckr.xml", "EUC-KR 에서 TypeKey 한글닉네임 표시하기"),
        ("/edge/feedparser/illformed_chardet_shiftjis.xml", "DrecomRSSに記事投稿が反映されない…"),
        ("/feeds/node-feedparser/compressed.xml", None),  # raw gzip bytes served without Content-Encoding
        ("/feeds/feedjira/json_feed.json", None),  # JSON Feed, which feedparser 6 does not read
    ],
)
def test_undeclared_encodings_gzip_and_json_feed(
    served: FeedServer, client: httpcore.ConnectionPool, path: str, title: str | None
) -> None:
    if path not in served.routes:
        pytest.skip(f"corpus file {path} not found")
    stories = load(served, client, path)
    assert stories[0].title == title if title else all(s.title and s.id for s in stories)


def test_defuse_keeps_simple_entities_and_drops_nested_and_external_ones() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY a "x"><!ENTITY b "&a;&a;">'
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">]><rss/>'
    )
    out = defuse_doctype(doc)
    assert b'<!ENTITY nbsp "&#160;">' in out and b'<!ENTITY a "x">' in out
    assert b"&a;&a;" not in out and b"SYSTEM" not in out and out.endswith(b"<rss/>")
    assert defuse_doctype(b"<rss/>") == b"<rss/>"


def test_corpus_path_is_outside_the_repo() -> None:
    assert not Path(FEEDS).resolve().is_relative_to(Path(__file__).resolve().parents[3])

"""Feed documents a careless publisher serves: one bad entry must not fail the feed."""

from __future__ import annotations

from tests.support import rss
from workers.poller.fetch import Fetched
from workers.poller.parse import parse
from workers.settings.config import Feed

FEED = Feed(name="f", url="http://127.0.0.1/f.xml")


def test_an_entry_with_a_bad_port_link_is_a_story_like_the_others() -> None:
    items = [
        {"title": "Bad port", "link": "http://example.com:80a/x", "description": "no guid: the id is the link"},
        {"title": "Bad guid", "link": "http://example.com/1", "guid": "http://example.com:99999/g", "description": "d"},
        {"title": "Good", "link": "http://example.com/2", "description": "d"},
    ]
    stories = parse(FEED, Fetched(200, rss(items), {}, FEED.url))
    assert [s.title for s in stories] == ["Bad port", "Bad guid", "Good"]
    assert len({s.id for s in stories}) == 3

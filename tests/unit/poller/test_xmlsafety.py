"""The entity-bomb guard against documents built to slip past it, parsed by feedparser as the poller does."""

from __future__ import annotations

import pytest

from workers.core.errors import FeedParseError
from workers.poller.fetch import Fetched
from workers.poller.parse import parse
from workers.poller.xmlsafety import defuse_doctype
from workers.settings.config import Feed

FEED = Feed(name="f", url="http://127.0.0.1/f.xml")
# four levels of ten references over 30 characters: 300 000 characters if expanded
BOMB = '<!ENTITY e0 "lollollollollollollollollollol">' + "".join(
    f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 5)
)
BODY = (
    '<rss version="2.0"><channel><title>t</title><item><title>T &e4;</title>'
    "<link>http://127.0.0.1/1</link><description>d &e4;</description></item></channel></rss>"
)


def doc(before_doctype: str = "", subset: str = BOMB) -> bytes:
    return f'<?xml version="1.0"?>{before_doctype}<!DOCTYPE rss [{subset}]>{BODY}'.encode()


@pytest.mark.parametrize(
    "body",
    [
        doc(),  # the plain bomb
        doc(before_doctype="<!-- <a -->"),  # a comment that looks like a root element before the DOCTYPE
        doc(before_doctype="<?pi <b ?>"),  # the same in a processing instruction
        doc(subset='<!ENTITY x "<b>">' + BOMB),  # markup inside an entity value
        doc(subset=BOMB.replace('"lol', '"<b>lol')),  # markup in the bomb's own first value
        doc(subset="<!-- ]> <a -->" + BOMB),  # a comment inside the subset that looks like its end
        doc(before_doctype="<!--" + "x" * 70_000 + "-->"),  # the declarations past the first 64 KB
        doc(subset=BOMB.replace("<!ENTITY", "<!ENTITY\n")),  # declarations split over lines
    ],
    ids=["plain", "comment", "pi", "markup-entity", "markup-in-bomb", "subset-comment", "past-64k", "newlines"],
)
def test_an_entity_bomb_is_never_expanded(body: bytes) -> None:
    stories = parse(FEED, Fetched(200, body, {"content-type": "application/rss+xml"}, FEED.url))
    assert len(stories) == 1
    assert len(stories[0].title) < 100 and len(stories[0].text) < 100, (len(stories[0].title), len(stories[0].text))


def test_simple_entities_survive_and_external_ones_go() -> None:
    subset = '<!ENTITY nbsp "&#160;"><!ENTITY who "Kim"><!ENTITY ext SYSTEM "file:///etc/passwd">'
    out = defuse_doctype(doc(before_doctype="<!-- c -->", subset=subset).replace(b"&e4;", b"&who;"))
    assert b'<!ENTITY nbsp "&#160;">' in out and b'<!ENTITY who "Kim">' in out and b"SYSTEM" not in out
    stories = parse(FEED, Fetched(200, out, {"content-type": "application/rss+xml"}, FEED.url))
    assert stories[0].title == "T Kim"


def test_an_unterminated_doctype_is_refused() -> None:
    with pytest.raises(FeedParseError, match="DOCTYPE"):
        parse(FEED, Fetched(200, b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">', {}, FEED.url))

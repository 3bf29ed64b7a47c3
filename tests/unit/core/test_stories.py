from __future__ import annotations

import json

import pytest

from workers.core.stories import Story, StoryFormatError, canonical_url, content_hash, story_id


@pytest.mark.parametrize(
    "url,canonical",
    [
        ("HTTP://Example.COM/a?utm_source=rss&b=2&a=1#frag", "http://example.com/a?a=1&b=2"),
        ("https://example.com:443/x?fbclid=1", "https://example.com/x"),
        ("http://example.com", "http://example.com/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_story_id_prefers_guid_scoped_to_the_feed() -> None:
    a = story_id("http://a/feed", "item-1", "http://a/1", "T", None)
    assert a == story_id("http://a/feed", "item-1", "http://a/changed", "Other title", None), (
        "content edits keep the id"
    )
    assert a != story_id("http://b/feed", "item-1", "http://a/1", "T", None), "plain guids collide across feeds"
    url_guid = story_id("http://a/feed", "http://a/story/1", None, "T", None)
    assert url_guid == story_id("http://b/feed", "http://A/story/1#x", None, "T", None), "URL guids are global"


def test_story_id_falls_back_to_link_then_hash() -> None:
    assert story_id("f", None, "http://x/1?utm_medium=a", "T", None) == story_id("g", "", "http://x/1", "U", None)
    assert story_id("f", None, None, "T", "2024") != story_id("f", None, None, "T", "2025")


def test_content_hash_ignores_whitespace_case_and_credits() -> None:
    body = "Kim Jong Un ended his visit to Russia on Sunday, state media said, after talks with Putin."
    assert content_hash("A", body) == content_hash("B", "  " + body.upper().replace(" ", "  ") + " (ANI)")
    assert content_hash("A", body) != content_hash("A", body.replace("Sunday", "Monday"))


def test_story_json_round_trip_and_poison() -> None:
    s = Story(id="1", feed="f", feed_url="http://f", title="उत्तर कोरिया", link="http://l", text="t")
    assert Story.from_json(s.to_json()) == s
    for raw in (b"not json", b"[]", b'{"schema": 99}', b'{"schema": 1, "id": 5}', b"\xff\xfe"):
        with pytest.raises(StoryFormatError):
            Story.from_json(raw)


BAD_URLS = [
    "http://example.com:80a/x",  # a port that is not a number
    "http://example.com:99999/x",  # a port out of range
    "http://[::1/x",  # an unclosed IPv6 literal
    "http://ex\uff03ample.com/",  # a netloc NFKC would change
    "http://example.com/\ud800",  # a lone surrogate, as JSON "\ud800" decodes
    "",
    "   ",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_canonical_url_ids_and_fingerprints_never_raise(url: str) -> None:
    once = canonical_url(url)
    assert once == canonical_url(url) and isinstance(once, str), "deterministic"
    assert story_id("http://f/feed", "plain-guid", url, "T", None)
    assert story_id("http://f/feed", url, url, "T", None)
    assert story_id(url, None, url, "T", None)
    assert story_id(url, None, None, url, url)
    assert content_hash(url, url)


def test_a_bad_port_canonicalises_like_any_other_url() -> None:
    # Unparsable ports stay as written; scheme and host are lower-cased, the fragment and tracking dropped.
    assert canonical_url("HTTP://Example.COM:80a/x?utm_source=1#f") == "http://example.com:80a/x"
    # A URL urlsplit refuses is kept as written, minus surrounding whitespace and the fragment.
    assert canonical_url(" http://[::1/x#frag ") == "http://[::1/x"


# Found by tests/unit/filter/test_fuzz_records.py and tests/unit/alerter/test_fuzz_records.py: json.loads reads
# the UTF-8 form of a lone surrogate (bytes ED A0 80, which no UTF-8 decoder accepts) as "\ud800"; the filter then
# dead-lettered the story (its event could not be encoded) and the alerter's dedup raised, rewinding its batch.
@pytest.mark.parametrize("field", ["text", "html", "id", "link"])
def test_a_raw_utf8_surrogate_is_replaced_when_read(field: str) -> None:
    s = Story(id="0", feed="", feed_url="", title="NORTH KOREA", link="", text="NORTH KOREA")
    raw = s.to_json().replace(f'"{field}":"'.encode(), f'"{field}":"\xed\xa0\x80'.encode("latin-1"))
    read = Story.from_json(raw)
    assert getattr(read, field).startswith("\ufffd")
    assert read.to_json()  # every encoder downstream can write it


# Found by tests/unit/filter/test_fuzz_records.py: "language_hint": true reached the language detector, which
# raised AttributeError, so the story was dead-lettered as a filter crash (with a traceback) instead of malformed.
@pytest.mark.parametrize(
    ("field", "value"),
    [("language_hint", True), ("html", 5), ("guid", []), ("published", {}), ("fetched_at", None), ("tags", "x")],
)
def test_an_optional_field_of_the_wrong_type_is_a_malformed_story(field: str, value: object) -> None:
    s = Story(id="0", feed="", feed_url="", title="", link="", text="")
    data = {**json.loads(s.to_json()), field: value}
    with pytest.raises(StoryFormatError, match=f"wrong type: {field}"):
        Story.from_json(json.dumps(data).encode())

"""Hypothesis strategies shared by the fuzz tests of every boundary: random JSON, mutated bytes, stories and
match events as the stages write them, then broken field by field.

``examples(n)``: each fuzz test's example count, times ``WIREWATCH_FUZZ_SCALE`` (default 1) for a bigger run
(``WIREWATCH_FUZZ_SCALE=20 pytest -m slow tests/unit -k fuzz --hypothesis-show-statistics``)."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SCALE = max(1, int(os.environ.get("WIREWATCH_FUZZ_SCALE", "1")))


def examples(n: int) -> settings:
    """Explicit settings of one fuzz test: ``n`` examples (scaled), no deadline (the first call of a detector or
    a parser warms caches, and 2 shared cores make timings noisy), no health check on slow data generation."""
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# Numbers at the edges of what JSON and Python disagree on: huge integers, floats that overflow, NaN.
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


def to_bytes(value: Any) -> bytes:
    """JSON as another client might write it: NaN and Infinity allowed, non-ASCII raw or escaped."""
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw: st.DrawFn, data: bytes, max_ops: int = 6) -> bytes:
    """``data`` with a few byte-level edits: flips, inserts, deletes, a cut, a repeated slice."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat", "splice"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[at] = draw(st.integers(0, 255))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(INTERESTING))
        elif op == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        elif op == "cut":
            del out[at:]
        elif op == "repeat":
            out[at:at] = out[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 4))
        elif op == "splice" and out:
            end = draw(st.integers(at, len(out)))
            out[at:end] = draw(st.sampled_from(INTERESTING))
    return bytes(out)


# Fragments that make parsers take their rare paths.
INTERESTING = [
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate
    b'"\\ud800"',
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&undefined;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>',
    b'<?xml version="1.0" encoding="koi8-r"?>',
    b'<?xml version="1.0" encoding="nonsense"?>',
    b"</channel>",
    b"<item>",
    b"</item>",
    b"<entry>",
    b"<link>http://example.com:80a/x</link>",
    b"<guid>http://[::1</guid>",
    b"<pubDate>Mon, 31 Feb 99999 25:61:00 +9999</pubDate>",
    b"1e400",
    b"-0",
    b"NaN",
    b"null",
    b"[]",
    b"{}",
    b'{"schema":1}',
]

texts = st.text(max_size=300) | st.sampled_from(
    [
        "North Korea fired a missile towards the sea, Pyongyang said.",
        "Россия и КНДР провели переговоры в Москве во вторник.",
        "북한이 미사일을 발사했다.",
        "",
        " ",
        "\ud800",
        "\u202e\u200b",
    ]
)
links = st.text(max_size=60) | st.sampled_from(
    ["http://127.0.0.1/a", "http://example.com:80a/x", "http://[::1", "javascript:alert(1)", "//x", ""]
)


@st.composite
def story_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A story as the poller writes it (``Story.to_json``), with random but well-typed fields."""
    return {
        "id": draw(st.text(min_size=1, max_size=20)),
        "feed": draw(st.text(max_size=10)),
        "feed_url": draw(links),
        "title": draw(texts),
        "link": draw(links),
        "text": draw(texts),
        "html": draw(texts),
        "guid": draw(st.none() | st.text(max_size=20)),
        "published": draw(st.none() | st.sampled_from(["2024-01-02T03:04:05Z", "", "yesterday"])),
        "fetched_at": draw(st.sampled_from(["2024-01-02T03:04:05Z", ""])),
        "language_hint": draw(st.none() | st.sampled_from(["en", "ru", "ko", "hi", "xx", "", "en-US"])),
        "tags": draw(st.lists(st.text(max_size=8), max_size=3)),
        "schema": 1,
    }


@st.composite
def broken(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> Any:
    """A JSON value from ``base`` with a few fields, at any depth, removed or replaced by random JSON."""
    value = draw(base)

    def walk(v: Any) -> Any:
        if isinstance(v, dict) and v:
            keys = sorted(v)
            for _ in range(draw(st.integers(0, 2))):
                key = draw(st.sampled_from(keys))
                if key not in v:
                    continue
                action = draw(st.sampled_from(["drop", "replace", "recurse"]))
                if action == "drop":
                    del v[key]
                elif action == "replace":
                    v[key] = draw(scalars | json_values)  # a wrong type or an edge value, mostly
                else:
                    v[key] = walk(v[key])
        elif isinstance(v, list) and v:
            i = draw(st.integers(0, len(v) - 1))
            v[i] = walk(v[i]) if draw(st.booleans()) else draw(scalars | json_values)
        return v

    return walk(value)


@st.composite
def match_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A match event as the filter writes it (``MatchEvent.to_json``)."""
    topics = {}
    for name in draw(st.lists(st.sampled_from(["dprk", "russia", "other"]), min_size=1, max_size=3, unique=True)):
        hits = draw(st.lists(st.fixed_dictionaries({"term": texts, "start": st.integers(0, 99)}), max_size=3))
        topics[name] = {
            "terms": [h["term"] for h in hits],
            "hits": hits,
            "snippet": draw(texts),
            "hit_count": draw(st.integers(-1, 200)),
        }
    return {
        "story": draw(story_dicts()),
        "language": draw(st.sampled_from(["en", "ru", "ko", "und"])),
        "probability": draw(st.floats(0, 1)),
        "topics": topics,
        "schema": 1,
    }


def records(valid: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    """Kafka record values: random bytes, random JSON, valid records broken field by field, then byte by byte."""
    return st.one_of(
        st.binary(max_size=200),
        json_values.map(to_bytes),
        broken(valid).map(to_bytes),
        broken(valid).map(to_bytes).flatmap(lambda raw: mutated(raw)),
    )

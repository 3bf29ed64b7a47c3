"""The match event: what the filter produces and the alerter consumes (JSON, keyed by story id).

Its size is bounded by construction, so the producer's 1 MiB limit (kafka-python's ``max_request_size``)
is never hit: the filter keeps at most ``MAX_HITS_PER_TOPIC`` hits per topic (``hit_count`` says how many
there were), and ``fitted_json`` cuts the story's ``html``, then its ``text``, until key + value fit in
``MAX_EVENT_BYTES``. Hit offsets keep pointing into the original title + text, so after a cut a hit may lie
past the end of the text carried. An event that still does not fit (a huge title, say) raises
``EventTooLargeError``, and the filter dead-letters the story.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from workers.core.stories import SCHEMA_VERSION, Story, StoryFormatError, dataclass_json, load_json

MAX_HITS_PER_TOPIC = 100  # hits listed per topic in an event and an alert; hit_count has the full count
MAX_EVENT_BYTES = 1_000_000  # key + value of one match event: under the producer's 1 MiB with room for headers


class EventTooLargeError(ValueError):
    """A match event that does not fit in MAX_EVENT_BYTES even without the story's markup and text."""


def hit_offsets(text: str, hits: Iterable[tuple[str, int, int]]) -> list[dict[str, Any]]:
    """The hits of an event: term, ``start``/``end`` in code points (Python and most languages index so) and
    ``start16``/``end16`` in UTF-16 code units (JavaScript's, Java's and C#'s string indices), which differ after
    each character beyond the BMP (an emoji, a rare CJK ideograph) before the offset."""
    astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if not text.isascii() else []

    def units(offset: int) -> int:
        return offset + bisect_left(astral, offset)  # each astral character before it is two units

    return [{"term": t, "start": s, "end": e, "start16": units(s), "end16": units(e)} for t, s, e in hits]


@dataclass(frozen=True)
class TopicHit:
    terms: list[str]
    # {"term", "start", "end", "start16", "end16"} offsets into title + "\n" + text (hit_offsets); at most MAX_HITS
    hits: list[dict[str, Any]]
    snippet: str
    hit_count: int = field(default=-1)  # every hit of the topic, listed or not; -1: len(hits) (older events)

    def __post_init__(self) -> None:
        if self.hit_count < 0:
            object.__setattr__(self, "hit_count", len(self.hits))


@dataclass(frozen=True)
class MatchEvent:
    story: Story
    language: str
    probability: float
    topics: dict[str, TopicHit]
    # published, fetched, produced, matched: ISO 8601 UTC (workers.core.tracing); {} in events of older filters
    timings: dict[str, str] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION
    # topics an earlier version of this story matched and this one does not (workers.filter.followups): a later
    # version reaches the subscribers who received the story even when its text no longer names their topic
    carried: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return dataclass_json(self)

    def fitted_json(self, max_bytes: int = MAX_EVENT_BYTES) -> bytes:
        """``to_json``, with the story's html and then its text cut at the end until it fits in ``max_bytes``."""
        raw = self.to_json()
        story = self.story
        if len(raw) > max_bytes:
            story = replace(story, html=_cut_utf8(story.html, len(raw) - max_bytes))
            raw = replace(self, story=story).to_json()
        if len(raw) > max_bytes:
            story = replace(story, text=_cut_utf8(story.text, len(raw) - max_bytes))
            raw = replace(self, story=story).to_json()
        if len(raw) > max_bytes:
            raise EventTooLargeError(f"match event of {len(raw)} bytes exceeds {max_bytes} without html and text")
        return raw

    @classmethod
    def from_json(cls, raw: bytes) -> MatchEvent:
        data = load_json(raw)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
            raise StoryFormatError("not a match event of a known schema")
        try:
            topics = {name: TopicHit(**t) for name, t in dict(data["topics"]).items()}
            probability = float(data["probability"])
            if not 0.0 <= probability <= 1.0:  # NaN too: it would make the alert invalid JSON
                raise ValueError(f"probability {data['probability']!r} is not within 0-1")
            timings = data.get("timings") or {}
            if not isinstance(timings, dict) or not all(isinstance(v, str) for v in timings.values()):
                raise ValueError("timings is not an object of strings")
            carried = data.get("carried") or []
            if not isinstance(carried, list) or not all(isinstance(t, str) for t in carried):
                raise ValueError("carried is not a list of strings")
            return cls(
                story=Story.from_dict(data["story"]),
                language=str(data["language"]),
                probability=probability,
                topics=topics,
                timings={str(k): v for k, v in timings.items()},
                carried=list(carried),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # OverflowError: a 400-digit integer
            raise StoryFormatError(f"bad match event: {exc}") from None


def _cut_utf8(text: str, drop_bytes: int) -> str:
    """``text`` without its last characters of at least ``drop_bytes`` UTF-8 bytes. A character takes at least
    its UTF-8 size in JSON (escapes only add), so the event shrinks by at least ``drop_bytes``."""
    data = text.encode()
    return data[: max(0, len(data) - drop_bytes)].decode("utf-8", "ignore")

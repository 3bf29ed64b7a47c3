"""The match event: what the filter produces and the alerter consumes (JSON, keyed by story id)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workers.core.stories import SCHEMA_VERSION, Story, StoryFormatError, compact_json, load_json


@dataclass(frozen=True)
class TopicHit:
    terms: list[str]
    hits: list[dict[str, Any]]  # {"term", "start", "end"} offsets into title + "\n" + text
    snippet: str


@dataclass(frozen=True)
class MatchEvent:
    story: Story
    language: str
    probability: float
    topics: dict[str, TopicHit]
    schema: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return compact_json(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes) -> MatchEvent:
        data = load_json(raw)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
            raise StoryFormatError("not a match event of a known schema")
        try:
            topics = {name: TopicHit(**t) for name, t in dict(data["topics"]).items()}
            return cls(
                story=Story.from_dict(data["story"]),
                language=str(data["language"]),
                probability=float(data["probability"]),
                topics=topics,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StoryFormatError(f"bad match event: {exc}") from None

"""What a backtest counts, story by story, and how the counts of several workers add up.

Only counters and bounded samples are kept, so memory stays flat whatever the window: per topic, the matches of
the candidate topics per UTC day, feed, language and hour, the running topics' matches per hour, and the
stories gained, lost and nearly matched, each with the ``samples`` earliest (by record time, then id) kept for
reading. Choosing the earliest, not the first seen, makes the samples the same whichever worker saw what.
Labelled stories (at most one entry per label) keep the topic names each side matched, for scoring.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workers.core.stories import Story
from workers.filter.matcher import NearMiss, TopicMatch

SAMPLES = 20
BAD_SAMPLES = 10
HOUR_MS = 3_600_000


@dataclass(frozen=True, order=True)
class Sample:
    """One story shown as an example: enough to judge a match by eye."""

    timestamp: int  # the record's time, ms since the epoch
    id: str
    title: str = field(compare=False)
    feed: str = field(compare=False)
    link: str = field(compare=False)
    language: str = field(compare=False)
    snippet: str = field(compare=False)
    terms: tuple[str, ...] = field(compare=False)
    note: str = field(default="", compare=False)  # near misses: what removed the match

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": iso(self.timestamp),
            "title": self.title,
            "feed": self.feed,
            "link": self.link,
            "language": self.language,
            "snippet": self.snippet,
            "terms": list(self.terms),
            **({"removed_by": self.note} if self.note else {}),
        }


def iso(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d")


def keep(samples: list[Sample], sample: Sample, limit: int) -> None:
    """Insert ``sample`` into the sorted ``samples`` and keep the ``limit`` earliest."""
    if len(samples) >= limit and sample >= samples[-1]:
        return
    bisect.insort(samples, sample)
    del samples[limit:]


def merged(a: list[Sample], b: list[Sample], limit: int) -> list[Sample]:
    return sorted([*a, *b])[:limit]


@dataclass
class TopicTally:
    matches: int = 0  # stories the candidate topic matches
    running: int = 0  # stories the running topic of that name matches
    gained: int = 0  # matched now, not by the running topic
    lost: int = 0  # matched by the running topic, not now
    near: int = 0  # kept from a match by a veto or none term
    per_day: Counter[str] = field(default_factory=Counter)
    per_feed: Counter[str] = field(default_factory=Counter)
    per_language: Counter[str] = field(default_factory=Counter)
    hourly: Counter[int] = field(default_factory=Counter)  # hour index (ms // HOUR_MS) -> candidate matches
    hourly_running: Counter[int] = field(default_factory=Counter)
    gained_samples: list[Sample] = field(default_factory=list)
    lost_samples: list[Sample] = field(default_factory=list)
    near_samples: list[Sample] = field(default_factory=list)

    def merge(self, other: TopicTally, limit: int) -> None:
        self.matches += other.matches
        self.running += other.running
        self.gained += other.gained
        self.lost += other.lost
        self.near += other.near
        for mine, theirs in (
            (self.per_day, other.per_day),
            (self.per_feed, other.per_feed),
            (self.per_language, other.per_language),
        ):
            mine.update(theirs)
        self.hourly.update(other.hourly)
        self.hourly_running.update(other.hourly_running)
        self.gained_samples = merged(self.gained_samples, other.gained_samples, limit)
        self.lost_samples = merged(self.lost_samples, other.lost_samples, limit)
        self.near_samples = merged(self.near_samples, other.near_samples, limit)


@dataclass
class Summary:
    samples: int = SAMPLES
    stories: int = 0  # stories matched (decodable records inside the window)
    bad: int = 0  # records that are no story, or that the filter failed on
    bad_reasons: Counter[str] = field(default_factory=Counter)
    bad_samples: list[tuple[int, int, str]] = field(default_factory=list)  # (partition, offset, reason)
    first: int | None = None  # earliest and latest record time seen, ms
    last: int | None = None
    topics: dict[str, TopicTally] = field(default_factory=dict)
    # story id -> (candidate topics, running topics) matched, for the labelled stories only
    labelled: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    def add_bad(self, partition: int, offset: int, reason: str) -> None:
        self.bad += 1
        self.bad_reasons[reason.split(":", 1)[0]] += 1
        if len(self.bad_samples) < BAD_SAMPLES:
            self.bad_samples.append((partition, offset, reason))

    def add(
        self,
        story: Story,
        timestamp: int,
        language: str,
        candidate: Mapping[str, TopicMatch],
        running: Mapping[str, TopicMatch],
        near: Mapping[str, NearMiss],
        topics: Iterable[str],
        labelled: bool = False,
    ) -> None:
        """Count one story's outcome for every topic in ``topics`` (candidate and running names)."""
        self.stories += 1
        self.first = timestamp if self.first is None else min(self.first, timestamp)
        self.last = timestamp if self.last is None else max(self.last, timestamp)
        hour = timestamp // HOUR_MS
        for name in topics:
            new, old = candidate.get(name), running.get(name)
            miss = near.get(name)
            if new is None and old is None and miss is None:
                continue
            t = self.topics.setdefault(name, TopicTally())
            if new is not None:
                t.matches += 1
                t.per_day[day(timestamp)] += 1
                t.per_feed[story.feed] += 1
                t.per_language[language] += 1
                t.hourly[hour] += 1
            if old is not None:
                t.running += 1
                t.hourly_running[hour] += 1
            if new is not None and old is None:
                t.gained += 1
                keep(t.gained_samples, _sample(story, timestamp, language, new), self.samples)
            elif old is not None and new is None:
                t.lost += 1
                keep(t.lost_samples, _sample(story, timestamp, language, old), self.samples)
            if miss is not None:
                t.near += 1
                removed = [*(f"veto {v!r}" for v in miss.veto), *(f"none {n!r}" for n in miss.none)]
                keep(t.near_samples, _sample(story, timestamp, language, miss.match, ", ".join(removed)), self.samples)
        if labelled and story.id not in self.labelled:
            self.labelled[story.id] = (frozenset(candidate), frozenset(running))

    def merge(self, other: Summary) -> None:
        self.stories += other.stories
        self.bad += other.bad
        self.bad_reasons.update(other.bad_reasons)
        self.bad_samples = [*self.bad_samples, *other.bad_samples][:BAD_SAMPLES]
        for bound in (other.first, other.last):
            if bound is not None:
                self.first = bound if self.first is None else min(self.first, bound)
                self.last = bound if self.last is None else max(self.last, bound)
        for name, tally in other.topics.items():
            self.topics.setdefault(name, TopicTally()).merge(tally, self.samples)
        for story_id, found in other.labelled.items():
            self.labelled.setdefault(story_id, found)


def _sample(story: Story, timestamp: int, language: str, match: TopicMatch, note: str = "") -> Sample:
    return Sample(
        timestamp, story.id, story.title, story.feed, story.link, language, match.snippet, tuple(match.terms), note
    )

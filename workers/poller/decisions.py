"""The poller's pure decisions, apart from its I/O: what Redis told us about a feed before its poll, what a poll
ended with, when to poll next, which stories are new, and the digest that tells an unchanged body."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from workers.core.stories import Story

JITTER = 0.1


@dataclass(frozen=True)
class FeedState:
    """What Redis holds about a feed before its poll; read for a whole claimed batch in one round trip."""

    url: str  # where to fetch: the URL a permanent redirect moved the feed to, else the configured one
    validators: dict[str, str]
    errors: int = 0  # consecutive errors before this poll
    body_digest: str | None = None  # SHA-256 of the last body whose stories were all acknowledged


BODY_DIGEST = "body-sha256"  # a field of the feed's validators hash in Redis, beside etag and last-modified


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    new: int = 0
    error: str | None = None
    status: int | None = None
    next_in: float = 0.0  # seconds until the next poll (inf: disabled)
    errors: int = 0  # consecutive errors after this poll
    moved_to: str | None = None


def next_delay(interval: float, consecutive_errors: int, rand: random.Random, max_backoff: float = 3600.0) -> float:
    """Interval with +-10% jitter; after errors, exponential backoff from the interval up to max_backoff."""
    if consecutive_errors == 0:
        base = interval
    else:
        base = min(max(max_backoff, interval), interval * 2 ** min(consecutive_errors, 16))
    return base * (1 + rand.uniform(-JITTER, JITTER))


def polite_delay(delay: float, floor: float | None, ceiling: float) -> float:
    """At least what the publisher asked (max-age, Retry-After), but never more than the ceiling."""
    return max(delay, min(floor, ceiling)) if floor is not None else delay


def new_stories(stories: list[Story], seen_flags: list[int]) -> list[Story]:
    """Stories whose id Redis has not seen, each id once (some feeds repeat a guid)."""
    out, ids = [], set()
    for story, seen in zip(stories, seen_flags, strict=True):
        if not seen and story.id not in ids:
            ids.add(story.id)
            out.append(story)
    return out

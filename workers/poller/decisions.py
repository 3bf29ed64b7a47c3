"""The poller's pure decisions, apart from its I/O: what Redis told us about a feed before its poll, what a poll
ended with, when to poll next, which stories are new, and the digest that tells an unchanged body."""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field, replace

from workers.core.opsevents import QuietFeed
from workers.core.stories import Story, content_hash
from workers.poller.quiet import Activity

logger = logging.getLogger(__name__)

JITTER = 0.1


@dataclass(frozen=True)
class FeedState:
    """What Redis holds about a feed before its poll; read for a whole claimed batch in one round trip."""

    url: str  # where to fetch: the URL a permanent redirect moved the feed to, else the configured one
    validators: dict[str, str]
    errors: int = 0  # consecutive errors before this poll
    body_digest: str | None = None  # SHA-256 of the last body whose stories were all acknowledged
    activity: Activity = field(default_factory=Activity)  # how often it publishes, for the quiet alarm


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
    activity: Activity | None = None  # after a success: the publishing record with this poll folded in
    quiet: bool = False
    validators: dict[str, str] | None = None  # the response's validators and body digest to store; None: keep
    fell_quiet: QuietFeed | None = None  # quiet since this poll: noted for feed.quiet with the health


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


MAX_VERSIONS = 20  # the default of ``max_versions``


def version_hash(story: Story) -> str:
    """The fingerprint of one version: title and body both. ``content_hash`` leaves a long body's title out
    (copies rewrite headlines), so a new headline on the same body would not be a new version by it."""
    return hashlib.sha256(f"{story.title}\x1f{story.text}".encode()).hexdigest()[:32]


def seen_mark(story: Story) -> str:
    """What Redis keeps for a story id produced: its version and the fingerprint of that version."""
    return f"{story.version}:{version_hash(story)}"


def new_versions(
    stories: list[Story], marks: list[bytes | None], max_versions: int = MAX_VERSIONS
) -> tuple[list[Story], list[Story]]:
    """Decide, per parsed entry and the mark Redis holds for its id: a story never seen (version 1), a new
    version of one whose title or body changed (version n+1, with the hash it replaces), or nothing. Each id
    once (some feeds repeat a guid). Returns (to produce, to re-mark only): a mark of the layout before
    versions (``1``, no hash) or of the content hash is upgraded in place without producing, so the next
    change is noticed; so is an entry past ``max_versions`` (a feed whose summary changes on every fetch must
    not flood the topics)."""
    out: list[Story] = []
    remark: list[Story] = []
    ids: set[str] = set()
    for story, mark in zip(stories, marks, strict=True):
        if story.id in ids:
            continue
        ids.add(story.id)
        if mark is None:
            out.append(story)
            continue
        version, _, old_hash = mark.decode("ascii", "replace").partition(":")
        new_hash = version_hash(story)
        n = int(version) if version.isdigit() else 1
        if old_hash == new_hash:
            continue
        if not old_hash or old_hash == content_hash(story.title, story.text):
            # a mark of an earlier layout (no hash; the content hash, which ignored a long body's title)
            # of what may be this very text: upgraded in place, the next change is noticed
            remark.append(replace(story, version=n))
        elif old_hash != new_hash:
            if n >= max_versions:
                logger.info("version cap story=%s feed=%s versions=%d", story.id, story.feed, n)
                continue
            out.append(replace(story, version=n + 1, previous_hash=old_hash))
    return out, remark

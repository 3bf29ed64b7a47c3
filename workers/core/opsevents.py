"""The operators' events: ``feed.quiet`` (a feed answering but silent for k of its usual gaps) and ``topic.quiet``
(a topic whose day fell under a fraction of its baseline), sent to the subscribers with ``ops: true``.

The poller notes a feed that fell quiet as a ``QuietFeed`` record in Redis, in the same pipeline as the feed's
health; the alerter turns each into one ``feed.quiet`` per ops subscriber. The webhook-id is stable per
(subscriber, kind, feed or topic, UTC day), so a record noted twice (a poll redone after a lost health write),
a restart or two alerters make one event: the alerter also marks each id it queued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

FEED_QUIET = "feed.quiet"
TOPIC_QUIET = "topic.quiet"
DAY_S = 86400


def ops_event_id(subscriber: str, kind: str, subject: str, day: int) -> str:
    """``msg_`` + 32 hex, stable per (subscriber, kind, feed or topic, UTC day index)."""
    raw = f"{subscriber}\x1f{kind}\x1f{subject}\x1f{day}".encode("utf-8", "surrogatepass")
    return "msg_" + hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class QuietFeed:
    """A feed that fell quiet at ``at`` (Unix seconds), silent since ``last_new_at`` (None: never seen to publish),
    for ``expected`` of its usual publications (at least ``quiet_after_gaps``)."""

    feed: str
    url: str
    at: float
    last_new_at: float | None
    expected: float
    quiet_after_gaps: float

    @property
    def day(self) -> int:
        return int(self.at // DAY_S)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> QuietFeed | None:
        """The record, or None when it is not one (another version's, or damaged): skipped, never fatal."""
        try:
            d = json.loads(raw)
            last = d.get("last_new_at")
            return cls(
                str(d["feed"]),
                str(d["url"]),
                float(d["at"]),
                None if last is None else float(last),
                float(d["expected"]),
                float(d["quiet_after_gaps"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

"""Pickup: ``story.spreading`` when a story cluster reaches a subscriber's threshold of outlets.

In order, per batch: only clusters that gathered a new story this batch and now count at least the smallest
threshold of the subscribers they matched are read (their record's members: feed, first seen); the outlets
are the distinct feeds among the members first seen within the subscriber's window; the step is how many
times the threshold fits (10 outlets at a threshold of 10: step 1; 20: step 2). A step above the one the
subscriber's mark holds (``Names.spreading_slice``, slot ``{s:<name>}``) is queued and marked in one script,
so a redone batch or a restart sends it once. The webhook-id is stable per (subscriber, cluster, step).

The marks live in hashes of one time slice each (a quarter of the dedup retention, like the outbox markers):
written to the open slice, read from every slice still within retention (the highest step wins), each slice
expiring on its own, so an active subscriber's marks do not pile up under one key whose expiry every event
pushes back. The single hash of the layout before (``Names.spreading_marks``) is still read, never written,
until its own expiry (one retention after the upgrade). A mark that expired lets a cluster still spreading
after the retention send a step again, under the same webhook-id: receivers drop it by that id.

Choices where the issue is silent: a subscriber hears of the spreading of clusters whose story matched its
topics (the same match that would alert it); the outlets are counted among the members the cluster record keeps
(``dedup.MAX_MEMBERS``), so a threshold is at most 50; one event per step, not per outlet; the event carries
the story of the batch that reached the step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workers.alerter.dedup import Resolved
from workers.alerter.outbox import Item, marker_field
from workers.core.events import MatchEvent
from workers.core.names import Names, as_text
from workers.infra.redis import run_scripts
from workers.settings.config import Subscriber

SPREADING = "story.spreading"

SPREAD_LUA = """
-- KEYS: 1 queue, 2 items, 3 the old single hash of marks, 4.. the mark slices, oldest first (the last is open)
-- ARGV: 1 TTL of the open slice, then per event: cluster field, step, item id, score, item json.
-- Queues an event only for a step above the highest one marked, and marks it in the open slice.
local open = KEYS[#KEYS]
local sent = 0
for j = 2, #ARGV, 5 do
  local had = 0
  for k = 3, #KEYS do
    had = math.max(had, tonumber(redis.call('HGET', KEYS[k], ARGV[j]) or '0'))
  end
  if tonumber(ARGV[j + 1]) > had then
    redis.call('HSET', open, ARGV[j], ARGV[j + 1])
    if redis.call('HSETNX', KEYS[2], ARGV[j + 2], ARGV[j + 4]) == 1 then
      redis.call('ZADD', KEYS[1], ARGV[j + 3], ARGV[j + 2])
    end
    sent = sent + 1
  end
end
if sent > 0 then redis.call('EXPIRE', open, ARGV[1]) end
return sent
"""
SLICES = 4  # mark slices per retention window: a mark outlives its retention by at most a quarter of it


@dataclass(frozen=True)
class Pickup:
    """A cluster's outlets within a window: the feeds, and when the first and latest of them was seen."""

    feeds: list[str]
    first_seen: int
    latest_seen: int

    @property
    def rate_per_hour(self) -> float:
        span = max(60, self.latest_seen - self.first_seen)  # a burst within a minute reads as that minute
        return round(len(self.feeds) * 3600 / span, 1)


def pickup(members: Iterable[Mapping[str, Any]], now: int, within_s: float) -> Pickup:
    """The distinct feeds among the members first seen in the last ``within_s``; each feed at its first sighting."""
    first: dict[str, int] = {}
    for m in members:
        seen = int(m.get("first_seen", 0))
        if seen >= now - within_s:
            feed = str(m.get("feed", ""))
            first[feed] = min(seen, first.get(feed, seen))
    feeds = sorted(first, key=lambda f: (first[f], f))
    return Pickup(feeds, min(first.values(), default=now), max(first.values(), default=now))


def step(outlets: int, threshold: int) -> int:
    return outlets // threshold


def spreading_id(subscriber: str, cluster: str, n: int) -> str:
    key = f"{subscriber}\x1f{cluster}\x1fspreading\x1f{n}"
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def build_spreading(
    sub: Subscriber, event: MatchEvent, res: Resolved, seen: Pickup, n: int, story: dict[str, Any]
) -> dict[str, Any]:
    """The payload (docs/story.spreading.schema.json)."""
    assert sub.spreading is not None
    return {
        "schema": 1,
        "type": SPREADING,
        "alert_id": spreading_id(sub.name, res.cluster, n),
        "subscriber": sub.name,
        "subscribed_topics": [t for t in sub.topics if t in event.topics],
        "threshold": {"outlets": sub.spreading.outlets, "within_minutes": sub.spreading.within_minutes},
        "step": n,
        "outlets": seen.feeds,
        "outlet_count": len(seen.feeds),
        "first_seen": _iso(seen.first_seen),
        "latest_seen": _iso(seen.latest_seen),
        "rate_per_hour": seen.rate_per_hour,
        "story": story,
        "cluster": {"id": res.cluster, "stories": res.count},
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class Spreads:
    def __init__(self, redis: Any, names: Names, retention_s: int) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = max(1, retention_s)
        self.slice_s = max(1, self.retention_s // SLICES)
        self._spread = redis.register_script(SPREAD_LUA)

    def mark_keys(self, subscriber: str, now: float) -> list[str]:
        """The subscriber's mark slices still within retention at ``now``, oldest first, the open one last."""
        first, last = (int(now) - self.retention_s + 1) // self.slice_s, int(now) // self.slice_s
        return [self.names.spreading_slice(subscriber, self.slice_s, i) for i in range(first, last + 1)]

    def members(self, clusters: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each cluster's members as its record keeps them, one pipeline."""
        with self.redis.pipeline(transaction=False) as pipe:
            for c in clusters:
                pipe.hgetall(self.names.cluster(c))
            replies = pipe.execute()
        out = {}
        for c, raw in zip(clusters, replies, strict=True):
            out[c] = [json.loads(v) for k, v in raw.items() if not as_text(k).startswith("#")]
        return out

    def enqueue(self, events: Mapping[str, Sequence[tuple[str, int, Item]]], now: float) -> None:
        """Per subscriber: (cluster, step, item) to queue unless that step was sent; one script each."""
        calls = []
        for name, evs in events.items():
            keys = [self.names.outbox_queue(name), self.names.outbox_items(name), self.names.spreading_marks(name)]
            keys += self.mark_keys(name, now)
            # the open slice lives until its last mark is a retention old
            args: list[Any] = [(int(now) // self.slice_s + 1) * self.slice_s + self.retention_s - int(now)]
            for i, (cluster, n, item) in enumerate(evs):
                item.queued_at = now
                args += [marker_field(cluster), n, item.id, now + i * 1e-6, item.to_json()]
            calls.append((self._spread, keys, args))
        if calls:
            run_scripts(self.redis, calls)

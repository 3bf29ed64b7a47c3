"""Topic spikes in the alerter: count story clusters per topic in Redis, and send ``topic.spike``.

Per batch, in order: the stories that founded a cluster (a copy, a re-poll, a redone batch or a later version
does not: clusters are counted, not copies) are counted per topic they matched; each such topic's detector
state (``workers.alerter.spikes``: baseline per hour of the week, the open window) is read, advanced and
written back under its own hash tag (``Names.topic_spikes``) with an optimistic transaction (WATCH), so two
alerters counting one topic lose no count; a spike is queued to every subscriber with ``spikes: true`` and
the topic, before the state is written, under a webhook-id stable per (subscriber, topic, window), so a
retried transaction queues it once. The gauges show each topic's open window count and threshold.

Choices where the issue is silent: a crash between the resolve and the state write loses those clusters from
the count (a redone batch finds them filed, not new): an undercount of one batch, never a repeated event; the
event's "top stories" are the first ``TOP_STORIES`` clusters of the window (the detector keeps no ranking).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import WatchError

from workers.alerter import spikes
from workers.alerter.outbox import Item, Outbox
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.infra import metrics
from workers.settings.config import Subscriber

TOPIC_SPIKE = "topic.spike"
TOP_STORIES = 10
STATE_TTL_S = 35 * 86400  # a topic silent for five weeks starts its baseline again


def spike_id(subscriber: str, topic: str, window: int) -> str:
    return "msg_" + hashlib.sha256(f"{subscriber}\x1f{topic}\x1fspike\x1f{window}".encode()).hexdigest()[:32]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def build_spike(
    sub: Subscriber, topic: str, spike: spikes.Spike, stories: list[dict[str, Any]], window_s: int
) -> dict[str, Any]:
    """The payload (docs/topic.spike.schema.json)."""
    return {
        "schema": 1,
        "type": TOPIC_SPIKE,
        "alert_id": spike_id(sub.name, topic, spike.window),
        "subscriber": sub.name,
        "topic": topic,
        "window": {"start": _iso(spike.window * window_s), "minutes": window_s / 60},
        "count": spike.count,
        "baseline": {"mean": round(spike.baseline.mean, 3), "sd": round(spike.baseline.sd, 3)},
        "stories": stories[:TOP_STORIES],
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class TopicSpikes:
    def __init__(
        self,
        redis: Any,
        names: Names,
        outbox: Outbox,
        params: spikes.SpikeParams | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.names = names
        self.outbox = outbox
        self.params = params or spikes.SpikeParams()
        self.clock = clock

    def count(self, founded: Iterable[MatchEvent], subscribers: Sequence[Subscriber]) -> set[str]:
        """Fold the clusters founded in this batch into their topics' detectors; returns the subscribers a
        spike was queued for."""
        per_topic: dict[str, list[dict[str, Any]]] = {}
        for ev in founded:
            story = {"id": ev.story.id, "title": ev.story.title, "url": ev.story.link, "feed": ev.story.feed}
            for topic in ev.topics:
                per_topic.setdefault(topic, []).append(story)
        woken: set[str] = set()
        for topic, stories in per_topic.items():
            woken |= self._observe(topic, stories, [s for s in subscribers if s.spikes and topic in s.topics])
        return woken

    def _observe(self, topic: str, stories: list[dict[str, Any]], subs: list[Subscriber]) -> set[str]:
        key = self.names.topic_spikes(topic)
        p = self.params
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    data = json.loads(raw) if raw else {}
                    state = spikes.TopicState.from_json(data.get("state"))
                    now = self.clock()
                    if int(now // p.window_s) != state.window:
                        data["stories"] = []
                    spike = spikes.observe(state, now, len(stories), p)
                    window_stories = (data.get("stories") or []) + stories
                    queued = set()
                    if spike is not None:
                        for sub in subs:
                            payload = build_spike(sub, topic, spike, window_stories, p.window_s)
                            self.outbox.put(Item(str(payload["alert_id"]), sub.name, payload, queued_at=now))
                            queued.add(sub.name)
                    data = {"state": state.to_json(), "stories": window_stories[:TOP_STORIES]}
                    pipe.multi()
                    pipe.set(key, json.dumps(data, ensure_ascii=False, separators=(",", ":")), ex=STATE_TTL_S)
                    pipe.execute()
                except WatchError:  # another alerter counted this topic meanwhile: read it again
                    continue
            limit = spikes.threshold(spikes.baseline(state, state.window, p), p)
            metrics.TOPIC_WINDOW_CLUSTERS.labels(topic=topic, kind="count").set(state.count)
            metrics.TOPIC_WINDOW_CLUSTERS.labels(topic=topic, kind="threshold").set(limit)
            metrics.TOPIC_SPIKING.labels(topic=topic).set(int(state.spiking))
            return queued

"""The operators' events in the alerter: ``feed.quiet`` and ``topic.quiet`` to the subscribers with ``ops: true``.

Per batch: the story clusters founded are counted per topic and UTC day (``Names.topic_day_counts``, one
HINCRBY per topic, in the same place and under the same rule as the spike counts: a redone batch finds its
clusters filed and counts nothing twice).

Every ``CHECK_EVERY_S``, from the alerter's loop:

1. the feeds the pollers noted as fallen quiet (``Names.quiet_feed_events``) become one ``feed.quiet`` per ops
   subscriber, then their notes are removed;
2. once per UTC day, each subscribed topic's previous day is judged by ``spikes.is_quiet_day`` against its
   spike baseline (``Names.topic_spikes``, read only): a quiet day sets ``wirewatch_topic_quiet`` to 1 (shown in
   ``/readyz``, and on the console's topics page through ``Names.quiet_topics``) and queues one ``topic.quiet``
   per ops subscriber.

Each event is queued under a webhook-id stable per (subscriber, feed or topic, day) and marked
(``Names.ops_sent``) after it was queued: a restart, a redone drain or a second alerter queue it once; a crash
between the queueing and the mark queues it again under the same webhook-id, which the receiver catches.
A note is removed only after its events were queued, so a crash loses none.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from workers.alerter import spikes
from workers.alerter.outbox import Item, Outbox
from workers.core.events import MatchEvent
from workers.core.names import Names, as_text
from workers.core.opsevents import DAY_S, FEED_QUIET, TOPIC_QUIET, QuietFeed, ops_event_id
from workers.infra import metrics
from workers.settings.config import Subscriber

logger = logging.getLogger(__name__)

CHECK_EVERY_S = 5.0
DAY_COUNTS_TTL_S = 3 * DAY_S  # yesterday's count is read today; older ones only for a look by hand
SENT_MARK_TTL_S = 3 * DAY_S
DRAIN_BATCH = 100


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_feed_quiet(sub: Subscriber, note: QuietFeed) -> dict[str, Any]:
    """The payload (docs/feed.quiet.schema.json)."""
    return {
        "schema": 1,
        "type": FEED_QUIET,
        "alert_id": ops_event_id(sub.name, FEED_QUIET, note.feed, note.day),
        "subscriber": sub.name,
        "feed": {"name": note.feed, "url": note.url},
        "quiet_since": _iso(note.at),
        "last_new_at": None if note.last_new_at is None else _iso(note.last_new_at),
        "expected_publications": round(note.expected, 1),
        "quiet_after_gaps": note.quiet_after_gaps,
        "created_at": _iso(time.time()),
    }


def build_topic_quiet(sub: Subscriber, topic: str, day: int, count: int, expected: float) -> dict[str, Any]:
    """The payload (docs/topic.quiet.schema.json)."""
    return {
        "schema": 1,
        "type": TOPIC_QUIET,
        "alert_id": ops_event_id(sub.name, TOPIC_QUIET, topic, day),
        "subscriber": sub.name,
        "topic": topic,
        "day": datetime.fromtimestamp(day * DAY_S, UTC).date().isoformat(),
        "count": count,
        "expected": round(expected, 1),
        "created_at": _iso(time.time()),
    }


class OpsEvents:
    def __init__(
        self,
        redis: Any,
        names: Names,
        outbox: Outbox,
        params: spikes.SpikeParams,
        clock: Callable[[], float] = time.time,
        fraction: float = 0.2,
        floor: float = 10.0,
    ) -> None:
        self.redis = redis
        self.names = names
        self.outbox = outbox
        self.params = params
        self.clock = clock
        self.fraction = fraction
        self.floor = floor
        self.judged_day: int | None = None  # the last day judged by this process
        self.quiet_topics: set[str] = set()
        self._checked_at = float("-inf")

    def count(self, founded: Iterable[MatchEvent]) -> None:
        """Add the clusters founded in a batch to today's count of each topic they matched."""
        per_topic: dict[str, int] = {}
        for ev in founded:
            for topic in ev.topics:
                per_topic[topic] = per_topic.get(topic, 0) + 1
        if not per_topic:
            return
        key = self.names.topic_day_counts(int(self.clock() // DAY_S))
        with self.redis.pipeline(transaction=False) as pipe:
            for topic, n in per_topic.items():
                pipe.hincrby(key, topic, n)
            pipe.expire(key, DAY_COUNTS_TTL_S)
            pipe.execute()

    def due(self) -> bool:
        return time.monotonic() - self._checked_at >= CHECK_EVERY_S

    def check(self, subscribers: Sequence[Subscriber]) -> set[str]:
        """Send the noted quiet feeds and, on a new day, judge the topics; the subscribers an event was queued for."""
        self._checked_at = time.monotonic()
        ops = [s for s in subscribers if s.ops]
        woken = self.drain_feeds(ops)
        day = int(self.clock() // DAY_S)
        if self.judged_day != day:
            topics = sorted({t for s in subscribers for t in s.topics})
            woken |= self.judge_topics(day - 1, topics, ops)
            self.judged_day = day
        return woken

    def drain_feeds(self, ops: Sequence[Subscriber]) -> set[str]:
        key = self.names.quiet_feed_events()
        raws: Any = self.redis.zrange(key, 0, DRAIN_BATCH - 1)
        if not raws:
            return set()
        woken: set[str] = set()
        for raw in raws:
            note = QuietFeed.from_json(raw)
            if note is None:
                logger.warning("quiet feed note skipped: not a record of this version note=%.80s", as_text(raw))
                continue
            for sub in ops:
                if self._queue(sub, build_feed_quiet(sub, note), note.at):
                    woken.add(sub.name)
                    logger.info("feed.quiet queued feed=%s subscriber=%s", note.feed, sub.name)
        self.redis.zrem(key, *raws)  # only now that every event of these notes is queued
        return woken

    def judge_topics(self, day: int, topics: Sequence[str], ops: Sequence[Subscriber]) -> set[str]:
        """Judge ``day`` of each topic against its spike baseline; queue topic.quiet for the quiet ones."""
        if not topics:
            return set()
        counts: Any = self.redis.hmget(self.names.topic_day_counts(day), list(topics))
        raws = [self.redis.get(self.names.topic_spikes(topic)) for topic in topics]  # a slot each, once a day
        per_day = DAY_S // self.params.window_s
        woken: set[str] = set()
        quiet = set()
        for topic, raw_count, raw_state in zip(topics, counts, raws, strict=True):
            count = int(raw_count or 0)
            try:
                state = spikes.TopicState.from_json(_state_of(raw_state))
            except (ValueError, KeyError, TypeError):  # a state of another version: no baseline, no judgement
                continue
            if not spikes.is_quiet_day(state, day * per_day, count, self.params, self.fraction, self.floor):
                continue
            quiet.add(topic)
            expected = spikes.expected_between(state, day * per_day, (day + 1) * per_day, self.params)
            logger.warning("topic quiet topic=%s day=%d count=%d expected=%.1f", topic, day, count, expected)
            for sub in ops:
                if self._queue(sub, build_topic_quiet(sub, topic, day, count, expected), self.clock()):
                    woken.add(sub.name)
        key = self.names.quiet_topics(day)
        with self.redis.pipeline(transaction=False) as pipe:  # the console's copy of the judgement
            pipe.delete(key)
            if quiet:
                pipe.sadd(key, *sorted(quiet))
                pipe.expire(key, DAY_COUNTS_TTL_S)
            pipe.execute()
        metrics.drop_series(metrics.TOPIC_QUIET, "topic", set(topics))  # a topic no one subscribes to any more
        for topic in topics:
            metrics.TOPIC_QUIET.labels(topic=topic).set(int(topic in quiet))
        self.quiet_topics = quiet
        return woken

    def _queue(self, sub: Subscriber, payload: dict[str, Any], at: float) -> bool:
        """Queue an event once: skipped when its mark is there; the mark is set after the queueing."""
        event_id = str(payload["alert_id"])
        mark = self.names.ops_sent(sub.name, event_id)
        if self.redis.exists(mark):
            return False
        self.outbox.put(Item(event_id, sub.name, payload, queued_at=at))
        self.redis.set(mark, "1", ex=SENT_MARK_TTL_S)
        return True


def quiet_yesterday(redis: Any, names: Names, now: float) -> set[str]:
    """The topics the alerters judged quiet for the UTC day before ``now`` (for the console)."""
    members: Any = redis.smembers(names.quiet_topics(int(now // DAY_S) - 1))
    return {as_text(m) for m in members}


def _state_of(raw: bytes | str | None) -> str | None:
    """The detector state inside a topic's spike record (``workers.alerter.topicspikes``: {"state": ..., ...})."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    state = data.get("state") if isinstance(data, dict) else None
    return state if isinstance(state, str) else None

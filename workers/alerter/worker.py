"""The alerter: consume matches, resolve story clusters once, append alerts to each subscriber's outbox.

Per batch of matches, in order: parse (a malformed match is dead-lettered); pick the subscribers whose
topics and languages cover each match; resolve each story of the batch to its cluster, once whatever the
number of subscribers (``workers.alerter.dedup``: exact and near-duplicate fingerprints, two pipelines); then,
in one pipeline of one script per subscriber, mark each (subscriber, cluster) and append the alert to the
subscriber's durable queue (``workers.alerter.outbox``), unless the subscriber already had that cluster (a
re-poll, a syndicated copy, the same story twice in the batch). Then the batch's offsets are committed. No
endpoint is waited for: each subscriber's lane (``workers.alerter.delivery``) drains its own queue with its
own concurrency, retries, digests and disabling. If Redis or Kafka fails, the batch is rewound and done
again: resolving and enqueueing are idempotent, so nothing is lost and nothing is queued twice.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from pydantic import SecretStr

from workers.alerter import spans
from workers.alerter.dedup import Clusters, Resolved, alert_id
from workers.alerter.delivery import DEAD, DELIVERED, PARKED, Deliverer
from workers.alerter.endpoints import Endpoints
from workers.alerter.lane import Lane, lanes_for
from workers.alerter.legacy import OldLayout, has_old_layout, has_old_markers
from workers.alerter.opsevents import OpsEvents
from workers.alerter.outbox import QUEUED, REPEAT, Depth, Had, Item, Outbox, Outgoing
from workers.alerter.sender import Sender
from workers.alerter.spreading import Spreads, build_spreading, pickup, step
from workers.alerter.topicspikes import TopicSpikes, params_of
from workers.alerter.versions import build_event, change_of, follows, runs, story_fields
from workers.core.deadletter import dead_letter
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.core.revisions import worth_sending
from workers.core.stories import StoryFormatError
from workers.core.tracing import child, from_headers, iso, seconds_between
from workers.infra import metrics, otel
from workers.infra.attemptlog import AttemptLog
from workers.infra.kafka import client_id, commit_records, make_consumer, poll_records, rewind, send_all, update_lag
from workers.infra.lifecycle import Stopper
from workers.infra.redis import is_cluster
from workers.settings.config import AlerterSettings, Config, Subscriber
from workers.settings.env import Env

logger = logging.getLogger(__name__)

ALERT_SCHEMA_VERSION = 1
DEPTH_EVERY_S = 5.0  # queue depth metrics: a few reads per subscriber, not per batch


def covers(sub: Subscriber, event: MatchEvent) -> bool:
    """Whether a subscriber wants this match: a shared topic with enough hits, and an accepted language."""
    if sub.languages and event.language not in sub.languages:
        return False
    return any(t in event.topics and event.topics[t].hit_count >= sub.min_hits for t in sub.topics)


@dataclass(frozen=True)
class Routed:
    """What one match record becomes: its event and the subscribers it is for, or (``event`` None) a dead letter
    for ``problem``."""

    event: MatchEvent | None
    subscribers: list[Subscriber]
    problem: str = ""
    trace: str | None = None  # the match record's traceparent header

    @property
    def reason(self) -> str:
        return f"malformed match: {self.problem}"


def route(raw: bytes, subscribers: Sequence[Subscriber], trace: str | None = None) -> Routed:
    """The alerter's decision on one record's value (and its traceparent), before Redis: the event and who wants
    it."""
    try:
        event = MatchEvent.from_json(raw)
    except StoryFormatError as exc:
        return Routed(None, [], str(exc))
    return Routed(event, [sub for sub in subscribers if covers(sub, event) or follows(sub, event)], trace=trace)


def build_alert(
    sub: Subscriber,
    event: MatchEvent,
    aid: str,
    excerpt_chars: int,
    duplicates: int = 0,
    cluster: str = "",
    trace: str | None = None,
    now: float | None = None,
    shared: SharedParts | None = None,
) -> dict[str, Any]:
    """The alert payload (docs/alert.schema.json). ``duplicates`` and ``cluster.stories`` are refreshed from
    the live cluster when the alert is sent (``delivery.refresh_duplicates``), and ``timings.sent`` is set then.
    ``trace`` is the match record's traceparent: the alert carries its trace id, the POST a child span.
    ``shared``: ``SharedParts`` of the event, when the caller builds one alert per subscriber of it."""
    parts = shared or SharedParts.of(event, excerpt_chars, time.time() if now is None else now)
    return {
        "schema": ALERT_SCHEMA_VERSION,
        "type": "story.matched",
        "alert_id": aid,
        "subscriber": sub.name,
        "subscribed_topics": [t for t in sub.topics if t in event.topics],
        "topics": parts.topics,
        "story": parts.story,
        "duplicates": duplicates,
        "cluster": {"id": cluster or "", "stories": duplicates + 1},
        "timings": dict(parts.timings),  # the sender sets "sent" in each alert's own
        "trace": {"traceparent": child(trace)},
        "created_at": parts.created_at,
    }


@dataclass(frozen=True)
class SharedParts:
    """What every subscriber's alert of one event says alike, made once per event of a batch: the alerts are
    written to the outbox as they are built, and the lanes read their own copies back, so nothing mutates these
    between alerts. (Building them per alert was a quarter of the batch thread's CPU at 10 subscribers.)"""

    topics: dict[str, Any]
    story: dict[str, Any]
    timings: dict[str, str]
    created_at: str

    @classmethod
    def of(cls, event: MatchEvent, excerpt_chars: int, now: float) -> SharedParts:
        story = event.story
        excerpt = story.text[:excerpt_chars].rstrip() + ("…" if len(story.text) > excerpt_chars else "")
        return cls(
            topics={
                name: {"terms": hit.terms, "hits": hit.hits, "snippet": hit.snippet, "hit_count": hit.hit_count}
                for name, hit in event.topics.items()
            },
            story={**story_fields(event), "language_probability": event.probability, "excerpt": excerpt},
            timings={**event.timings, "enqueued": iso(now)},
            created_at=datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        )


class Alerter:
    def __init__(
        self,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        redis: Any,
        sender: Sender,
        subscribers: list[Subscriber],
        secrets: dict[str, SecretStr],
        names: Names,
        settings: AlerterSettings,
        stopper: Stopper,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.sender = sender
        self.subscribers = subscribers
        self.names = names
        self.settings = settings
        self.stopper = stopper
        retention = int(settings.dedup_retention_hours * 3600)
        self.clusters = Clusters(
            redis,
            names,
            retention,
            max_distance=settings.near_duplicate_distance,
            min_tokens=settings.near_duplicate_min_words,
        )
        self.outbox = Outbox(redis, names, retention)
        if has_old_markers(redis, names):  # the markers' unpacked layout: read for one window (legacy.py)
            self.outbox.old_markers_until = self.outbox.clock() + retention
        self.spreads = Spreads(redis, names, retention)
        self.spikes = TopicSpikes(redis, names, self.outbox, params_of(settings.spikes), clock=self.clusters.clock)
        self.ops = OpsEvents(
            redis,
            names,
            self.outbox,
            self.spikes.params,
            clock=self.clusters.clock,
            fraction=settings.spikes.quiet_fraction,
            floor=settings.spikes.quiet_min_per_day,
        )
        self.endpoints = Endpoints(redis, names, settings.disable_after_hours * 3600)
        self.totals: Counter[str] = Counter()
        self._traces: dict[str, str | None] = {}  # story id -> its match record's traceparent, for one batch
        self._totals_lock = threading.Lock()  # lanes count their outcomes from their own threads
        self.deliverer = Deliverer(
            self.outbox,
            self.clusters,
            self.endpoints,
            producer,
            names,
            settings,
            lambda: [s.name for s in self.subscribers],
            random.Random(),
            self._count,
            AttemptLog(redis, names),
        )
        self.outbox.undecodable = self.deliverer.dead_undecodable  # a broken item is dead-lettered, not retried
        self.lanes = {
            name: lane.start() for name, lane in lanes_for(subscribers, secrets, sender, self.deliverer).items()
        }
        self.old: OldLayout | None = None
        if not is_cluster(redis) and has_old_layout(redis, names):
            self.old = OldLayout(redis, names, retention, settings.near_duplicate_distance)
            self.old.drain(self.outbox, {s.name: s.digest_seconds is not None for s in subscribers})
        self._depth_at = 0.0
        self.depths: dict[str, Depth] = {}
        metrics.configure_subscribers(s.name for s in subscribers)
        self._tidy_queues(set(self.outbox.queues()) - {s.name for s in subscribers})

    @classmethod
    def from_settings(
        cls, cfg: Config, env: Env, producer: KafkaProducer, redis: Any, stopper: Stopper, stack: ExitStack
    ) -> Alerter:
        """The alerter of an install: the event loop its lanes POST on, its consumer in the alerter group."""
        sender = Sender()
        stack.callback(sender.close)  # after the alerter's own close (a stack closes last in, first out)
        names = cfg.names
        consumer = make_consumer(
            env.kafka_bootstrap, names.matches, names.alerter_group, cfg.settings.kafka, client_id("alert")
        )
        stack.callback(consumer.close, autocommit=False)
        alerter = cls(
            consumer, producer, redis, sender, cfg.subscribers, cfg.secrets, names, cfg.settings.alerter, stopper
        )
        stack.callback(alerter.close)
        return alerter

    def _count(self, outcome: str) -> None:
        with self._totals_lock:
            self.totals[outcome] += 1

    def after_batch(self) -> None:
        update_lag(self.consumer, self.names.alerter_group)
        if self.ops.due():  # feed.quiet and topic.quiet (workers.alerter.opsevents)
            self._wake(self.ops.check(self.subscribers))
        if time.monotonic() - self._depth_at >= DEPTH_EVERY_S:
            self._depth_at = time.monotonic()
            self.queue_depths()

    def queue_depths(self) -> dict[str, Depth]:
        """Each subscriber's queue depth and oldest item's age, also set as metrics (``/readyz`` shows them)."""
        depths = self.outbox.depth([s.name for s in self.subscribers])
        self.depths = depths
        for name, d in depths.items():
            metrics.OUTBOX_DEPTH.labels(subscriber=name).set(d.queued + d.buffered)
            metrics.OUTBOX_OLDEST.labels(subscriber=name).set(d.oldest_age_s)
        return depths

    def readiness_details(self) -> dict[str, Any]:
        """What ``/readyz`` reports: each subscriber's queue depth and oldest item's age, as of the last reading
        (every ``DEPTH_EVERY_S``; the probe itself does not touch Redis)."""
        return {
            "outbox": {
                name: {"queued": d.queued, "buffered": d.buffered, "oldest_age_s": round(d.oldest_age_s, 1)}
                for name, d in self.depths.items()
            },
            "quiet_topics": sorted(self.ops.quiet_topics),
        }

    def run_once(self) -> int:
        records = poll_records(self.consumer, timeout_ms=500)
        if not records:
            return 0
        try:
            self._process(records)
            commit_records(self.consumer, records)
        except Exception:
            rewind(self.consumer, records)  # Redis or Kafka down: the batch is done again later
            raise
        return len(records)

    def _process(self, records: list[Any]) -> None:
        wanted: list[tuple[Subscriber, MatchEvent]] = []
        dead: list[tuple[str, bytes, bytes]] = []
        self._traces = {}
        for rec in records:
            routed = route(rec.value or b"", self.subscribers, from_headers(getattr(rec, "headers", None)))
            if routed.event is None:
                logger.warning("dead letter offset=%s reason=%s", rec.offset, routed.problem)
                dead.append((self.names.alerts_dlq, rec.key or b"", dead_letter(routed.reason, rec)))
                metrics.ALERTS_DEAD.labels(subscriber=metrics.NO_SUBSCRIBER).inc()
                continue
            wanted.extend((sub, routed.event) for sub in routed.subscribers)
            self._traces[routed.event.story.id] = routed.trace
        for run in runs(wanted):
            self._enqueue(run)
        if dead:
            send_all(self.producer, dead)
            self._count(DEAD)

    def _enqueue(self, wanted: list[tuple[Subscriber, MatchEvent]]) -> None:
        started = time.time()
        stories = list({ev.story.id: ev.story for _, ev in wanted}.values())
        resolved = dict(zip((s.id for s in stories), self.clusters.resolve_many(stories), strict=True))
        for r in resolved.values():
            metrics.CLUSTER_STORIES.observe(r.count)
        self._spreading([(s, e) for s, e in wanted if covers(s, e)], resolved)
        # clusters founded now (a version founds one only when the alerter never saw the story before)
        founded = {ev.story.id: ev for _, ev in wanted if resolved[ev.story.id].how == "new"}
        founded = {sid: ev for sid, ev in founded.items() if resolved[sid].new_story}
        if founded:
            self._wake(self.spikes.count(founded.values(), self.subscribers))
            self.ops.count(founded.values())
        wanted = self._revisions(wanted, resolved)
        old_seen = self._old_seen(wanted)
        batches: dict[str, tuple[bool, list[Outgoing]]] = {}
        order: list[tuple[Subscriber, MatchEvent]] = []
        # per event: the parts its subscribers' alerts share, and its matched-to-enqueued hop (read once)
        shared: dict[int, tuple[SharedParts, float | None]] = {}
        for (sub, event), seen in zip(wanted, old_seen, strict=True):
            if seen:
                self._duplicate(sub, event, "the previous layout")
                continue
            res = resolved[event.story.id]
            aid = alert_id(sub.name, event.story.id)
            trace = self._traces.get(event.story.id)
            per_event = shared.get(id(event))
            if per_event is None:
                parts = SharedParts.of(event, self.settings.excerpt_chars, time.time())
                hop = seconds_between(event.timings.get("matched"), parts.timings["enqueued"])
                per_event = shared[id(event)] = (parts, hop)
            parts, hop = per_event
            alert = build_alert(
                sub, event, aid, self.settings.excerpt_chars, res.count - 1, res.cluster, trace, shared=parts
            )
            metrics.observe_hop("matched_to_enqueued", hop)  # per alert, as before
            item = Item(aid, sub.name, alert, clusters=[res.cluster])
            batches.setdefault(sub.name, (sub.digest_seconds is not None, []))[1].append(Outgoing(item, res.cluster))
            order.append((sub, event))
        states = self.outbox.enqueue(batches)
        if otel.enabled():
            spans.enqueue(batches, self._traces, started, time.time())
        at = {name: iter(s) for name, s in states.items()}
        queued: set[str] = set()
        for sub, event in order:
            state = next(at[sub.name])
            if state == QUEUED:
                queued.add(sub.name)
                self._count("buffered" if sub.digest_seconds is not None else "queued")
            else:
                self._duplicate(sub, event, "a re-poll" if state == REPEAT else "a copy of a story it had")
        self._wake(queued)

    def _wake(self, names: set[str]) -> None:
        for name in names:
            lane = self.lanes.get(name)
            if lane is not None:
                lane.wake.set()

    def _revisions(
        self, wanted: list[tuple[Subscriber, MatchEvent]], resolved: dict[str, Resolved]
    ) -> list[tuple[Subscriber, MatchEvent]]:
        """Queue the later versions of stories their subscribers received (``workers.alerter.versions``);
        returns the rest, for the ordinary path (a version newly matching a subscriber is a plain match)."""
        changes = {sid: c for sid, res in resolved.items() if (c := change_of(self._event(wanted, sid), res))}
        if not changes:  # a version only followed (versions.follows) is for those who had the story: none here
            return [(sub, ev) for sub, ev in wanted if covers(sub, ev)]
        revised = [(sub, ev) for sub, ev in wanted if ev.story.id in changes]
        asked: dict[str, list[str]] = {}
        for sub, ev in revised:
            asked.setdefault(sub.name, []).append(resolved[ev.story.id].cluster)
        had = {name: iter(found) for name, found in self.outbox.had(asked).items()}
        rest = [(sub, ev) for sub, ev in wanted if ev.story.id not in changes and covers(sub, ev)]
        updates: dict[str, list[tuple[Outgoing, Had, int]]] = {}
        for sub, ev in revised:
            got = next(had[sub.name])
            change, res = changes[ev.story.id], resolved[ev.story.id]
            if got is None:
                if covers(sub, ev):  # the version newly matches this subscriber: a plain story.matched
                    rest.append((sub, ev))
            elif got.version >= ev.story.version:
                self._duplicate(sub, ev, f"version {ev.story.version} was sent")
            elif not worth_sending(change, sub.updates):
                self._duplicate(sub, ev, f"version {ev.story.version} is no change for updates={sub.updates}")
            else:
                aid, payload = build_event(sub, ev, change, res.cluster, got)
                item = Item(aid, sub.name, payload)
                updates.setdefault(sub.name, []).append((Outgoing(item, res.cluster), got, ev.story.version))
                self._count(str(payload["type"]))
        self.outbox.enqueue_updates(updates)
        self._wake(set(updates))
        return rest

    def _spreading(self, wanted: list[tuple[Subscriber, MatchEvent]], resolved: dict[str, Resolved]) -> None:
        """Queue ``story.spreading`` for the clusters of this run that reached a subscriber's threshold
        (``workers.alerter.spreading``). Not only for new stories: a redone batch must still send it."""
        candidates: dict[tuple[str, str], tuple[Subscriber, MatchEvent]] = {}
        for sub, ev in wanted:
            res = resolved[ev.story.id]
            if sub.spreading is not None and res.count >= sub.spreading.outlets:
                candidates.setdefault((sub.name, res.cluster), (sub, ev))
        if not candidates:
            return
        members = self.spreads.members(sorted({c for _, c in candidates}))
        now = int(self.clusters.clock())
        events: dict[str, list[tuple[str, int, Item]]] = {}
        for sub, ev in candidates.values():
            assert sub.spreading is not None
            res = resolved[ev.story.id]
            seen = pickup(members[res.cluster], now, sub.spreading.within_minutes * 60)
            n = step(len(seen.feeds), sub.spreading.outlets)
            if n >= 1:
                payload = build_spreading(sub, ev, res, seen, n, story_fields(ev))
                events.setdefault(sub.name, []).append((res.cluster, n, Item(payload["alert_id"], sub.name, payload)))
        self.spreads.enqueue(events, time.time())
        self._wake(set(events))

    @staticmethod
    def _event(wanted: list[tuple[Subscriber, MatchEvent]], story_id: str) -> MatchEvent:
        return next(ev for _, ev in wanted if ev.story.id == story_id)

    def _old_seen(self, wanted: list[tuple[Subscriber, MatchEvent]]) -> list[bool]:
        if self.old is None or not self.old.active:
            return [False] * len(wanted)
        prints = {ev.story.id: self.clusters.story_prints(ev.story) for _, ev in wanted}
        return self.old.seen([(s.name, alert_id(s.name, ev.story.id), prints[ev.story.id]) for s, ev in wanted])

    def _duplicate(self, sub: Subscriber, event: MatchEvent, why: str) -> None:
        self._count("duplicates")
        metrics.ALERTS_DEDUPLICATED.labels(subscriber=sub.name).inc()
        logger.info("duplicate story=%s subscriber=%s: %s", event.story.id, sub.name, why)

    def reload(self, cfg: Any) -> None:
        """Subscribers of a reloaded config (SIGHUP), between batches: a new or changed subscriber gets a new
        lane; a removed or replaced lane finishes what it holds, then closes. Unchanged lanes keep their state.
        A removed subscriber's queue expires one retention window later, unless it is configured again by then."""
        wanted = {s.name: s for s in cfg.subscribers}
        removed = {s.name for s in self.subscribers} - set(wanted)
        for name, lane in list(self.lanes.items()):
            if wanted.get(name) != lane.sub or cfg.secrets.get(name) != lane.secret:
                del self.lanes[name]
                lane.close()
        self.subscribers = list(cfg.subscribers)
        metrics.configure_subscribers(wanted)  # after the removed lanes closed: they count nothing more
        self.depths = {name: d for name, d in self.depths.items() if name in wanted}
        self._tidy_queues(removed)
        for name, sub in wanted.items():
            if name not in self.lanes:
                self.lanes[name] = Lane(sub, cfg.secrets[name], self.sender, self.deliverer).start()

    def _tidy_queues(self, removed: set[str]) -> None:
        """Configured subscribers' queues are kept; those of subscribers no longer configured expire one retention
        window from when this was first seen (a subscriber configured again within it finds its queue)."""
        self.outbox.keep([s.name for s in self.subscribers])
        if not removed:
            return
        for name, left in self.outbox.forget(sorted(removed)).items():
            logger.warning(
                "subscriber=%s is no longer configured: its queue (%d item(s)) expires in %.0f h unless it is again",
                name,
                left,
                self.outbox.retention_s / 3600,
            )

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.close()
        logger.info(
            "alerter stopped delivered=%d queued=%d buffered=%d duplicates=%d parked=%d dead=%d",
            self.totals[DELIVERED],
            self.totals["queued"],
            self.totals["buffered"],
            self.totals["duplicates"],
            self.totals[PARKED],
            self.totals[DEAD],
        )

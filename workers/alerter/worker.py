"""The alerter: consume matches, deduplicate per subscriber in Redis, deliver signed webhooks.

Per batch of matches, in order: parse (a malformed match is dead-lettered); pick the subscribers whose
topics and languages cover each match; claim every (subscriber, story) in Redis in one pipeline (exact
and near-duplicate fingerprints, see ``workers.alerter.dedup``): a copy of a story another alert owns stops
there, as does one already delivered, and a repeat of an alert earlier in the same batch (the same story read
twice). Each remaining alert goes to its subscriber's lane: a disabled
endpoint's alert is dead-lettered, a digest subscriber's is buffered (``workers.alerter.digest``), a failing
lane's is parked, others are attempted concurrently. The batch's offsets are committed only after every
alert of it is delivered (and marked in one pipeline), buffered, parked or dead-lettered. If Redis or
Kafka fails, the batch is rewound and done again: never skipped, and a repeat carries the same
webhook-id. Before each poll, due digests are sealed into the retry queue, then each lane with free
workers takes its parked alerts and digests whose time has come; those settle on their own and do not
hold the batch.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpcore
from kafka import KafkaConsumer, KafkaProducer
from pydantic import SecretStr
from redis import Redis

from workers.alerter.dedup import Claim, ClaimRequest, Dedup, alert_id
from workers.alerter.delivery import DEAD, DELIVERED, Deliverer, Lane, webhook_clients
from workers.alerter.digest import Digests
from workers.alerter.endpoints import Endpoints
from workers.alerter.retryqueue import Parked, RetryQueue
from workers.core.deadletter import dead_letter
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.core.stories import StoryFormatError
from workers.infra import metrics
from workers.infra.kafka import client_id, commit_records, make_consumer, poll_records, rewind, send_all, update_lag
from workers.infra.lifecycle import Stopper
from workers.settings.config import AlerterSettings, Config, Subscriber
from workers.settings.env import Env

logger = logging.getLogger(__name__)

ALERT_SCHEMA_VERSION = 1


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

    @property
    def reason(self) -> str:
        return f"malformed match: {self.problem}"


def route(raw: bytes, subscribers: Sequence[Subscriber]) -> Routed:
    """The alerter's decision on one record's value, before Redis: the event and who wants it."""
    try:
        event = MatchEvent.from_json(raw)
    except StoryFormatError as exc:
        return Routed(None, [], str(exc))
    return Routed(event, [sub for sub in subscribers if covers(sub, event)])


def build_alert(
    sub: Subscriber, event: MatchEvent, aid: str, excerpt_chars: int, duplicates: int = 0
) -> dict[str, Any]:
    story = event.story
    excerpt = story.text[:excerpt_chars].rstrip() + ("…" if len(story.text) > excerpt_chars else "")
    return {
        "schema": ALERT_SCHEMA_VERSION,
        "type": "story.matched",
        "alert_id": aid,
        "subscriber": sub.name,
        "subscribed_topics": [t for t in sub.topics if t in event.topics],
        "topics": {
            name: {"terms": hit.terms, "hits": hit.hits, "snippet": hit.snippet, "hit_count": hit.hit_count}
            for name, hit in event.topics.items()
        },
        "story": {
            "id": story.id,
            "title": story.title,
            "url": story.link,
            "feed": story.feed,
            "language": event.language,
            "language_probability": event.probability,
            "published": story.published,
            "excerpt": excerpt,
        },
        "duplicates": duplicates,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class Alerter:
    def __init__(
        self,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        redis: Redis,
        clients: Mapping[str, httpcore.ConnectionPool],
        subscribers: list[Subscriber],
        secrets: dict[str, SecretStr],
        names: Names,
        settings: AlerterSettings,
        stopper: Stopper,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.subscribers = subscribers
        self.names = names
        self.settings = settings
        self.stopper = stopper
        self.dedup = Dedup(
            redis,
            names,
            int(settings.dedup_retention_hours * 3600),
            max_distance=settings.near_duplicate_distance,
            min_tokens=settings.near_duplicate_min_words,
        )
        # an item whose alerter died is due again after the lease: longer than one attempt can take
        self.retries = RetryQueue(redis, names, lease_s=2 * settings.delivery_timeout + 5)
        self.digests = Digests(
            redis, names, self.retries, int(settings.dedup_retention_hours * 3600), settings.digest_max_alerts
        )
        self.endpoints = Endpoints(redis, names, settings.disable_after_hours * 3600)
        self.lanes = {s.name: Lane(s, secrets[s.name], clients[s.name]) for s in subscribers}
        self.deliverer = Deliverer(
            self.lanes,
            self.retries,
            self.endpoints,
            producer,
            names,
            settings,
            self.dedup.mark_delivered,
            self.dedup.is_delivered,
            random.Random(),
        )
        self.totals: Counter[str] = Counter()

    @classmethod
    def from_settings(
        cls, cfg: Config, env: Env, producer: KafkaProducer, redis: Redis, stopper: Stopper, stack: ExitStack
    ) -> Alerter:
        """The alerter of an install: one webhook pool per subscriber, its consumer in the alerter group."""
        clients = webhook_clients(cfg.subscribers)
        for client in clients.values():
            stack.callback(client.close)
        names = cfg.names
        consumer = make_consumer(
            env.kafka_bootstrap, names.matches, names.alerter_group, cfg.settings.kafka, client_id("alert")
        )
        stack.callback(consumer.close, autocommit=False)
        alerter = cls(
            consumer, producer, redis, clients, cfg.subscribers, cfg.secrets, names, cfg.settings.alerter, stopper
        )
        stack.callback(alerter.close)
        return alerter

    def after_batch(self) -> None:
        update_lag(self.consumer, self.names.alerter_group)

    def run_once(self) -> int:
        self.retry_due()
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
        for rec in records:
            routed = route(rec.value or b"", self.subscribers)
            if routed.event is None:
                logger.warning("dead letter offset=%s reason=%s", rec.offset, routed.problem)
                dead.append((self.names.alerts_dlq, rec.key or b"", dead_letter(routed.reason, rec)))
                metrics.ALERTS_DEAD.labels(subscriber="-").inc()
                continue
            wanted.extend((sub, routed.event) for sub in routed.subscribers)
        requests = [ClaimRequest(sub.name, ev.story, alert_id(sub.name, ev.story.id)) for sub, ev in wanted]
        claims = self.dedup.claim_many(requests)
        disabled = self.endpoints.disabled([s.name for s in self.subscribers])
        futures: list[tuple[str, Future[str]]] = []
        to_buffer: list[Parked] = []
        taken: set[str] = set()  # alert ids of this batch: a story twice in one batch is one alert
        for (sub, event), req, claim in zip(wanted, requests, claims, strict=True):
            if req.alert_id in taken:
                self.totals["duplicates"] += 1
                metrics.ALERTS_DEDUPLICATED.labels(subscriber=sub.name).inc()
                logger.info("repeat in batch story=%s subscriber=%s", event.story.id, sub.name)
                continue
            item = self._fresh(sub, event, req.alert_id, claim)
            if item is None:
                continue
            taken.add(req.alert_id)
            if sub.name in disabled:
                dead.append(self._disabled_letter(item))
            elif sub.digest_seconds is not None:
                to_buffer.append(item)
            else:
                futures.append((item.alert_id, self.lanes[sub.name].submit(self.deliverer.attempt_new, item)))
        buffered = sum(self.digests.buffer(to_buffer))  # an error here (Redis down) rewinds the batch
        self.totals["buffered"] += buffered
        self.totals["duplicates"] += len(to_buffer) - buffered  # already sealed into a digest or delivered
        outcomes = [(aid, f.result()) for aid, f in futures]
        self.dedup.mark_delivered([aid for aid, outcome in outcomes if outcome == DELIVERED])
        self.totals.update(outcome for _, outcome in outcomes)
        if dead:
            send_all(self.producer, dead)
            self.totals[DEAD] += len(dead)

    def _fresh(self, sub: Subscriber, event: MatchEvent, aid: str, claim: Claim) -> Parked | None:
        if claim.is_duplicate_of_other(aid) or claim.delivered:
            self.totals["duplicates"] += 1
            metrics.ALERTS_DEDUPLICATED.labels(subscriber=sub.name).inc()
            logger.info(
                "duplicate story=%s subscriber=%s owner=%s how=%s", event.story.id, sub.name, claim.owner, claim.how
            )
            return None
        alert = build_alert(sub, event, aid, self.settings.excerpt_chars, claim.duplicates)
        return Parked(aid, sub.name, alert, attempts=0, last_error="")

    def _disabled_letter(self, item: Parked) -> tuple[str, bytes, bytes]:
        payload = {"subscriber": item.subscriber, "alert": item.alert, "attempts": 0}
        logger.warning("endpoint disabled: dead-lettered alert=%s subscriber=%s", item.alert_id, item.subscriber)
        metrics.ALERTS_DEAD.labels(subscriber=item.subscriber).inc()
        return (self.names.alerts_dlq, item.alert_id.encode(), dead_letter("endpoint disabled", payload=payload))

    def retry_due(self) -> None:
        self.seal_digests()
        disabled = self.endpoints.disabled([s.name for s in self.subscribers])
        for name, lane in self.lanes.items():
            free = lane.sub.concurrency - lane.retries_in_flight
            if free <= 0 or self.stopper.stopping:
                continue
            for item in self.retries.take_due(name, free):
                if name in disabled:
                    self.deliverer.dead(item, "endpoint disabled")
                    continue
                with lane.lock:
                    lane.retries_in_flight += 1
                lane.submit(self.deliverer.attempt_parked, item).add_done_callback(partial(self._retry_settled, lane))

    def seal_digests(self) -> None:
        """Seal each subscriber's buffer once its oldest alert waited ``digest_seconds``; a subscriber whose
        batching was turned off by a reload has what is left sealed at once."""
        if self.stopper.stopping:
            return
        periods = {s.name: s.digest_seconds or 0.0 for s in self.subscribers}
        for name in self.digests.due(periods):
            self.digests.flush(name)

    def _retry_settled(self, lane: Lane, fut: Future[str]) -> None:
        with lane.lock:
            lane.retries_in_flight -= 1
        exc = fut.exception()
        if exc is not None:  # Redis or Kafka down: the item's lease runs out and it is due again
            logger.warning("retry attempt failed subscriber=%s error=%s: %s", lane.sub.name, type(exc).__name__, exc)
        else:
            self.totals[fut.result()] += 1

    def reload(self, cfg: Any) -> None:
        """Subscribers of a reloaded config (SIGHUP), between batches: a new or changed subscriber gets a new
        lane; a removed or replaced lane finishes what it holds, then closes. Unchanged lanes keep their state."""
        from workers.alerter.ssrf import webhook_client

        wanted = {s.name: s for s in cfg.subscribers}
        for name, lane in list(self.lanes.items()):
            if wanted.get(name) != lane.sub or cfg.secrets.get(name) != lane.secret:
                del self.lanes[name]  # the Deliverer shares this dict: it stops routing to the old lane at once
                lane.pool.shutdown(wait=True)
                lane.client.close()
        for name, sub in wanted.items():
            if name not in self.lanes:
                client = webhook_client(local=sub.local, max_connections=sub.concurrency)
                self.lanes[name] = Lane(sub, cfg.secrets[name], client)
        self.subscribers = list(cfg.subscribers)

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.pool.shutdown(wait=True, cancel_futures=False)
        logger.info(
            "alerter stopped delivered=%d buffered=%d duplicates=%d parked=%d dead=%d",
            self.totals[DELIVERED],
            self.totals["buffered"],
            self.totals["duplicates"],
            self.totals["parked"],
            self.totals[DEAD],
        )

"""The alerter: consume matches, deduplicate per subscriber in Redis, deliver signed webhooks.

Per match, for each subscriber whose topics and languages cover it, in order: claim the story's
fingerprints in Redis (one atomic script); a story owned by another alert is a duplicate and stops
here, one already delivered stops here; otherwise POST the signed alert. A 2xx marks it delivered; a
retryable failure parks it in the Redis retry queue; a final failure (410) dead-letters it. The batch's
offsets are committed only after every alert of it is delivered, parked or dead-lettered. Before each
poll, parked alerts whose time has come get their next attempt.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer
from pydantic import SecretStr
from redis import Redis

from workers.config import AlerterSettings, Subscriber
from workers.daemon import Stopper
from workers.deadletter import dead_letter
from workers.dedup import Dedup, alert_id
from workers.errors import DeliveryError
from workers.events import MatchEvent
from workers.kafka_io import commit_records, poll_records, rewind, send_all
from workers.names import Names
from workers.retryqueue import Parked, RetryQueue, retry_delay
from workers.stories import StoryFormatError
from workers.webhook import deliver

logger = logging.getLogger(__name__)

ALERT_SCHEMA_VERSION = 1


def covers(sub: Subscriber, event: MatchEvent) -> bool:
    """Whether a subscriber wants this match: a shared topic with enough hits, and an accepted language."""
    if sub.languages and event.language not in sub.languages:
        return False
    return any(t in event.topics and len(event.topics[t].hits) >= sub.min_hits for t in sub.topics)


def build_alert(sub: Subscriber, event: MatchEvent, aid: str, excerpt_chars: int) -> dict[str, Any]:
    story = event.story
    excerpt = story.text[:excerpt_chars].rstrip() + ("…" if len(story.text) > excerpt_chars else "")
    return {
        "schema": ALERT_SCHEMA_VERSION,
        "type": "story.matched",
        "alert_id": aid,
        "subscriber": sub.name,
        "subscribed_topics": [t for t in sub.topics if t in event.topics],
        "topics": {name: {"terms": hit.terms, "snippet": hit.snippet} for name, hit in event.topics.items()},
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
        "duplicates": 0,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class Alerter:
    def __init__(
        self,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        redis: Redis,
        http: httpx.Client,
        subscribers: list[Subscriber],
        secrets: dict[str, SecretStr],
        names: Names,
        settings: AlerterSettings,
        stopper: Stopper,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.http = http
        self.subscribers = subscribers
        self.by_name = {s.name: s for s in subscribers}
        self.secrets = secrets
        self.names = names
        self.settings = settings
        self.stopper = stopper
        self.dedup = Dedup(redis, names, int(settings.dedup_retention_hours * 3600))
        self.retries = RetryQueue(redis, names)
        self.rand = random.Random()
        self.totals = {"delivered": 0, "duplicates": 0, "parked": 0, "dead": 0}

    def run_once(self) -> int:
        self.retry_due()
        records = poll_records(self.consumer, timeout_ms=500)
        if not records:
            return 0
        try:
            for rec in records:
                self._process(rec)
            commit_records(self.consumer, records)
        except Exception:
            rewind(self.consumer, records)  # Redis or Kafka down: the batch is done again later
            raise
        return len(records)

    def _process(self, rec: Any) -> None:
        try:
            event = MatchEvent.from_json(rec.value or b"")
        except StoryFormatError as exc:
            logger.warning("dead letter offset=%s reason=%s", rec.offset, exc)
            send_all(
                self.producer, [(self.names.alerts_dlq, rec.key or b"", dead_letter(f"malformed match: {exc}", rec))]
            )
            self.totals["dead"] += 1
            return
        for sub in self.subscribers:
            if covers(sub, event):
                self._alert(sub, event)

    def _alert(self, sub: Subscriber, event: MatchEvent) -> None:
        aid = alert_id(sub.name, event.story.id)
        claim = self.dedup.claim(sub.name, event.story, aid)
        if claim.is_duplicate_of_other(aid) or claim.delivered:
            self.totals["duplicates"] += 1
            logger.info("duplicate story=%s subscriber=%s owner=%s", event.story.id, sub.name, claim.owner)
            return
        alert = build_alert(sub, event, aid, self.settings.excerpt_chars)
        self._attempt(Parked(aid, sub.name, alert, attempts=0, last_error=""))

    def _attempt(self, item: Parked) -> None:
        sub = self.by_name.get(item.subscriber)
        if sub is None:
            self._dead(item, "subscriber no longer configured")
            return
        body = json.dumps(item.alert, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            deliver(
                self.http,
                sub.name,
                sub.url,
                self.secrets[sub.name].get_secret_value(),
                item.alert_id,
                body,
                timeout=self.settings.delivery_timeout,
            )
        except DeliveryError as exc:
            item.attempts += 1
            item.last_error = exc.reason
            delay = retry_delay(self.settings.retry_schedule, item.attempts, self.rand) if exc.retryable else None
            if delay is None:
                self._dead(item, exc.reason)
            else:
                self.retries.reschedule(item, time.time() + delay)
                self.totals["parked"] += 1
                logger.warning(
                    "delivery failed alert=%s subscriber=%s attempt=%d reason=%s retry_in=%.0fs",
                    item.alert_id,
                    sub.name,
                    item.attempts,
                    exc.reason,
                    delay,
                )
            return
        self.dedup.mark_delivered([item.alert_id])
        if item.attempts:
            self.retries.done(item.alert_id)
        self.totals["delivered"] += 1
        logger.info("delivered alert=%s subscriber=%s story=%s", item.alert_id, sub.name, item.alert["story"]["id"])

    def _dead(self, item: Parked, reason: str) -> None:
        send_all(
            self.producer,
            [
                (
                    self.names.alerts_dlq,
                    item.alert_id.encode(),
                    dead_letter(
                        reason, payload={"subscriber": item.subscriber, "alert": item.alert, "attempts": item.attempts}
                    ),
                )
            ],
        )
        self.retries.done(item.alert_id)
        self.totals["dead"] += 1
        logger.error(
            "dead-lettered alert=%s subscriber=%s attempts=%d reason=%s",
            item.alert_id,
            item.subscriber,
            item.attempts,
            reason,
        )

    def retry_due(self) -> None:
        for item in self.retries.take_due():
            if self.stopper.stopping:
                break
            self._attempt(item)

    def close(self) -> None:
        logger.info(
            "alerter stopped delivered=%d duplicates=%d parked=%d dead=%d",
            self.totals["delivered"],
            self.totals["duplicates"],
            self.totals["parked"],
            self.totals["dead"],
        )

"""Per-subscriber delivery lanes: one attempt of one alert, and what becomes of it.

Each subscriber has its own lane: a thread pool of ``concurrency`` workers and its own keep-alive HTTP
client (with the SSRF guard), so a hanging or slow endpoint only ever occupies its own workers. An
attempt ends in one of three ways: delivered (2xx), parked in the Redis retry queue for the next step
of the schedule (with jitter), or dead-lettered with the reason (410, refused address, endpoint
disabled, schedule exhausted). An unexpected exception of an attempt (not a DeliveryError) is a failed
attempt like any other: retried on the schedule, then dead-lettered; it never escapes to the batch.
Once a lane saw a failure it is *failing*: new alerts for it are parked at once instead of queueing
behind a hanging endpoint; the retry queue's attempts are its probes, and the first 2xx makes it
healthy again.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from kafka import KafkaProducer
from pydantic import SecretStr

from workers.alerter.digest import delivered_ids, is_digest
from workers.alerter.endpoints import Endpoints
from workers.alerter.retryqueue import Parked, RetryQueue, retry_delay
from workers.alerter.ssrf import refusal, webhook_client
from workers.alerter.webhook import deliver
from workers.core.deadletter import dead_letter
from workers.core.errors import DeliveryError
from workers.core.names import Names
from workers.core.stories import compact_json
from workers.infra import metrics
from workers.infra.kafka import send_all
from workers.settings.config import AlerterSettings, Subscriber

logger = logging.getLogger(__name__)

DELIVERED, PARKED, DEAD = "delivered", "parked", "dead"


def webhook_clients(subscribers: list[Subscriber]) -> dict[str, httpcore.ConnectionPool]:
    for s in subscribers:
        host = urlsplit(s.url).hostname or ""
        problem = None if s.local or not _is_literal_ip(host) else refusal(host)
        if problem:  # said once at start-up; every delivery will be refused and dead-lettered
            logger.error(
                "subscriber=%s url host %s will be refused: %s (set local: true to allow)", s.name, host, problem
            )
    return {s.name: webhook_client(local=s.local, max_connections=s.concurrency) for s in subscribers}


def _is_literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Lane:
    """One subscriber's workers, client and health as this process sees it."""

    def __init__(self, sub: Subscriber, secret: SecretStr, client: httpcore.ConnectionPool) -> None:
        self.sub = sub
        self.secret = secret
        self.client = client
        self.pool = ThreadPoolExecutor(max_workers=sub.concurrency, thread_name_prefix=f"deliver-{sub.name}")
        self.failing = False
        self.maybe_failing_in_redis = True  # until the first 2xx clears what an earlier process left
        self.retries_in_flight = 0
        self.lock = threading.Lock()

    def submit(self, fn: Callable[[Parked], str], item: Parked) -> Future[str]:
        return self.pool.submit(fn, item)


@dataclass
class Deliverer:
    lanes: Mapping[str, Lane]
    retries: RetryQueue
    endpoints: Endpoints
    producer: KafkaProducer
    names: Names
    settings: AlerterSettings
    mark_delivered: Callable[[list[str]], None]
    is_delivered: Callable[[str], bool]
    rand: random.Random

    def attempt_new(self, item: Parked) -> str:
        """First attempt of a fresh alert; parked at once when its lane is failing."""
        lane = self.lanes[item.subscriber]
        if lane.failing:
            return self.park(item, "endpoint is failing; queued behind its retries")
        return self._attempt(lane, item)

    def attempt_parked(self, item: Parked) -> str:
        """An attempt of an item taken from the retry queue: always tried (it is the lane's probe)."""
        lane = self.lanes.get(item.subscriber)
        if lane is None:
            return self.dead(item, "subscriber no longer configured")
        if item.subscriber in self.endpoints.disabled(list(self.lanes)):
            return self.dead(item, "endpoint disabled")
        if self.is_delivered(item.alert_id):  # a re-poll of the story was delivered fresh meanwhile
            self.retries.done(item)
            return DELIVERED
        outcome = self._attempt(lane, item)
        if outcome == DELIVERED:
            self.mark_delivered(delivered_ids(item))  # a digest: every alert in it, so dedup never sends it again
            self.retries.done(item)
        return outcome

    def _attempt(self, lane: Lane, item: Parked) -> str:
        sub = lane.sub
        if not is_digest(item.alert):
            item.alert["duplicates"] = max(int(item.alert.get("duplicates", 0)), 0)
        started = time.monotonic()
        try:
            deliver(
                lane.client,
                sub.name,
                sub.url,
                lane.secret.get_secret_value(),
                item.alert_id,
                compact_json(item.alert),
                timeout=self.settings.delivery_timeout,
            )
        except DeliveryError as exc:
            metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
            return self._failed(lane, item, exc)
        except Exception as exc:  # a bug or an input nothing foresaw: this alert's failure, never the batch's
            logger.exception("unexpected delivery error alert=%s subscriber=%s", item.alert_id, sub.name)
            return self._failed(lane, item, DeliveryError(sub.name, f"unexpected {type(exc).__name__}: {exc}"))
        metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
        if lane.failing or lane.maybe_failing_in_redis:
            self.endpoints.succeeded(sub.name)
            lane.failing = lane.maybe_failing_in_redis = False
        logger.info("delivered alert=%s subscriber=%s attempt=%d", item.alert_id, sub.name, item.attempts + 1)
        metrics.ALERTS_DELIVERED.labels(subscriber=sub.name).inc()
        return DELIVERED

    def _failed(self, lane: Lane, item: Parked, exc: DeliveryError) -> str:
        item.attempts += 1
        item.last_error = exc.reason
        lane.failing = True
        if not exc.retryable:
            if exc.status == 410:
                self.endpoints.failed(lane.sub.name, exc.reason, gone=True)
            return self.dead(item, exc.reason)
        if self.endpoints.failed(lane.sub.name, exc.reason):
            return self.dead(item, f"endpoint disabled: {exc.reason}")
        delay = retry_delay(self.settings.retry_schedule, item.attempts, self.rand)
        if delay is None:
            return self.dead(item, f"gave up after {item.attempts} attempts: {exc.reason}")
        self.retries.park(item, time.time() + delay)
        logger.warning(
            "delivery failed alert=%s subscriber=%s attempt=%d reason=%s retry_in=%.1fs",
            item.alert_id,
            item.subscriber,
            item.attempts,
            exc.reason,
            delay,
        )
        metrics.ALERTS_RETRIED.labels(subscriber=item.subscriber).inc()
        return PARKED

    def park(self, item: Parked, reason: str) -> str:
        delay = retry_delay(self.settings.retry_schedule, 1, self.rand) or 0.0
        item.last_error = reason
        self.retries.park(item, time.time() + delay)
        metrics.ALERTS_RETRIED.labels(subscriber=item.subscriber).inc()
        return PARKED

    def dead(self, item: Parked, reason: str) -> str:
        payload = {"subscriber": item.subscriber, "alert": item.alert, "attempts": item.attempts}
        send_all(self.producer, [(self.names.alerts_dlq, item.alert_id.encode(), dead_letter(reason, payload=payload))])
        self.retries.done(item)
        metrics.ALERTS_DEAD.labels(subscriber=item.subscriber).inc()
        logger.error(
            "dead-lettered alert=%s subscriber=%s attempts=%d reason=%s",
            item.alert_id,
            item.subscriber,
            item.attempts,
            reason,
        )
        return DEAD

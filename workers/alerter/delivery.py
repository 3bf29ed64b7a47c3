"""Per-subscriber delivery lanes: each drains its subscriber's outbox queue, and settles every item it takes.

Each subscriber has its own lane: a feeder thread, a pool of ``concurrency`` workers and its own keep-alive
HTTP client (with the SSRF guard), so a slow, hanging or failing endpoint only ever occupies its own lane.
The feeder leases at most as many due items as it has free workers (``Outbox.take``: first due first), so
nothing waits in memory with a lease running out, and it renews the leases of what its workers hold until
each is settled. It also seals a digest subscriber's buffer when its period is up (``digest.seal_due``).

An attempt ends in one of three ways: delivered (2xx), rescheduled in the queue for the next step of the
schedule (with jitter), or dead-lettered with the reason (410, refused address, endpoint disabled, schedule
exhausted); delivered and dead-lettered items are settled by the lane's feeder, several in one call
(``Outbox.settle``, the one place an item leaves the queue), and stay leased until then. An unexpected
exception of an attempt (not a DeliveryError) is a failed attempt like any other. A Redis or Kafka error
while settling leaves the item leased: it falls due again when the lease ends and goes out under the same
webhook-id (an alerter killed between a 2xx and its settling sends it again the same way). A failing
endpoint's items follow the retry schedule each; it only ever occupies its own lane's workers.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from kafka import KafkaProducer
from pydantic import SecretStr

from workers.alerter import spans
from workers.alerter.dedup import Clusters
from workers.alerter.digest import is_digest, seal_due
from workers.alerter.endpoints import Endpoints
from workers.alerter.outbox import Item, Outbox
from workers.alerter.retryqueue import retry_delay
from workers.alerter.ssrf import refusal, webhook_client
from workers.alerter.webhook import deliver
from workers.core.deadletter import dead_letter
from workers.core.errors import DeliveryError
from workers.core.names import Names
from workers.core.stories import compact_json
from workers.core.tracing import child, iso, seconds_between
from workers.infra import metrics, otel
from workers.infra.attemptlog import AttemptLog
from workers.infra.kafka import send_all
from workers.settings.config import AlerterSettings, Subscriber

logger = logging.getLogger(__name__)

DELIVERED, PARKED, DEAD = "delivered", "parked", "dead"
IDLE_POLL_S = 0.5  # a lane with nothing due looks again this often (a batch of this process wakes it sooner)
SEAL_EVERY_S = 0.5
# an alert sent within this long of its enqueue carries the cluster count read when it was queued; one that
# waited longer reads it again before the POST (one round trip saved on the common, fast path)
FRESH_S = 1.0


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


def refresh_duplicates(item: Item, counts: Sequence[int]) -> None:
    """Put each carried alert's live cluster size in it: ``duplicates`` = copies seen before it was sent."""
    alerts = item.alert["alerts"] if is_digest(item.alert) else [item.alert]
    for alert, count in zip(alerts, counts, strict=False):
        if count <= 0:  # the cluster record expired: keep what the alert said when it was queued
            continue
        alert["duplicates"] = count - 1
        if isinstance(alert.get("cluster"), dict):
            alert["cluster"]["stories"] = count


@dataclass
class Deliverer:
    """What every lane shares: the outbox, endpoint health, the dead-letter producer, the schedule."""

    outbox: Outbox
    clusters: Clusters
    endpoints: Endpoints
    producer: KafkaProducer
    names: Names
    settings: AlerterSettings
    subscribers: Callable[[], list[str]]
    rand: random.Random
    settled: Callable[[str], None]  # counts an outcome (the alerter's totals)
    attempts: AttemptLog  # each attempt's status, latency and error, for the subscriber portal

    @property
    def lease_s(self) -> float:
        return 2 * self.settings.delivery_timeout + 5  # longer than one attempt can take

    def attempt(self, lane: Lane, item: Item) -> str:
        if lane.sub.name in self.endpoints.disabled(self.subscribers()):
            return self.dead(lane, item, "endpoint disabled")
        if time.time() - item.queued_at >= FRESH_S:  # it waited (a retry, a digest, a backlog): copies may have come
            refresh_duplicates(item, self.clusters.counts(item.clusters))
        sub = lane.sub
        sent_at = time.time()
        timings = item.alert.get("timings")
        if isinstance(timings, dict):  # a digest has none of its own: its alerts carry theirs
            timings["sent"] = iso(sent_at)
        trace = item.alert.get("trace")
        parent = trace.get("traceparent") if isinstance(trace, dict) else None
        post_trace = child(parent) if parent else None
        started = time.monotonic()
        try:
            result = deliver(
                lane.client,
                sub.name,
                sub.url,
                lane.secret.get_secret_value(),
                item.id,
                compact_json(item.alert),
                timeout=self.settings.delivery_timeout,
                traceparent=post_trace,
            )
        except DeliveryError as exc:
            metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
            if otel.enabled():
                spans.deliver(post_trace, parent, sent_at, time.time(), item, exc.status or 0, "failed")
            outcome = self._failed(lane, item, exc)
            self._log(sub.name, item.id, exc.status or 0, time.monotonic() - started, exc.reason, outcome)
            return outcome
        except Exception as exc:  # a bug or an input nothing foresaw: this alert's failure, never the lane's
            logger.exception("unexpected delivery error alert=%s subscriber=%s", item.id, sub.name)
            error = DeliveryError(sub.name, f"unexpected {type(exc).__name__}: {exc}")
            outcome = self._failed(lane, item, error)
            self._log(sub.name, item.id, 0, time.monotonic() - started, error.reason, outcome)
            return outcome
        metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
        if otel.enabled():
            spans.deliver(post_trace, parent, sent_at, time.time(), item, result.status, DELIVERED)
        self._log(sub.name, item.id, result.status, result.elapsed_s, "", DELIVERED)
        if isinstance(timings, dict):
            metrics.observe_hop("enqueued_to_sent", seconds_between(timings.get("enqueued"), timings["sent"]))
            metrics.observe_hop("fetched_to_sent", seconds_between(timings.get("fetched"), timings["sent"]))
        lane.settle_later(item.id)
        if lane.failing or lane.maybe_failing_in_redis:
            self.endpoints.succeeded(sub.name)
            lane.failing = lane.maybe_failing_in_redis = False
        logger.info("delivered alert=%s subscriber=%s attempt=%d", item.id, sub.name, item.attempts + 1)
        metrics.ALERTS_DELIVERED.labels(subscriber=sub.name).inc()
        metrics.DELIVERY_AGE.labels(subscriber=sub.name).observe(max(0.0, time.time() - item.queued_at))
        return DELIVERED

    def _log(self, subscriber: str, item_id: str, status: int, latency_s: float, error: str, outcome: str) -> None:
        """One attempt in the subscriber's bounded attempt log (the web portal's view); its loss is no failure."""
        try:
            self.attempts.record(subscriber, item_id, status=status, latency_s=latency_s, error=error, outcome=outcome)
        except Exception as exc:  # Redis trouble: the delivery itself is settled elsewhere, this is a view
            logger.warning("attempt log not written subscriber=%s error=%s", subscriber, type(exc).__name__)

    def _failed(self, lane: Lane, item: Item, exc: DeliveryError) -> str:
        item.attempts += 1
        item.last_error = exc.reason
        lane.failing = True
        if not exc.retryable:
            if exc.status == 410:
                self.endpoints.failed(lane.sub.name, exc.reason, gone=True)
            return self.dead(lane, item, exc.reason)
        if self.endpoints.failed(lane.sub.name, exc.reason):
            return self.dead(lane, item, f"endpoint disabled: {exc.reason}")
        delay = retry_delay(self.settings.retry_schedule, item.attempts, self.rand)
        if delay is None:
            return self.dead(lane, item, f"gave up after {item.attempts} attempts: {exc.reason}")
        lane.release(item.id)  # no lease renewal may overwrite the new due time
        self.outbox.reschedule(item, time.time() + delay)
        logger.warning(
            "delivery failed alert=%s subscriber=%s attempt=%d reason=%s retry_in=%.1fs",
            item.id,
            item.subscriber,
            item.attempts,
            exc.reason,
            delay,
        )
        metrics.ALERTS_RETRIED.labels(subscriber=item.subscriber).inc()
        return PARKED

    def dead(self, lane: Lane, item: Item, reason: str) -> str:
        payload = {"subscriber": item.subscriber, "alert": item.alert, "attempts": item.attempts}
        send_all(self.producer, [(self.names.alerts_dlq, item.id.encode(), dead_letter(reason, payload=payload))])
        lane.settle_later(item.id)  # after Kafka acknowledged the dead letter
        metrics.ALERTS_DEAD.labels(subscriber=item.subscriber).inc()
        logger.error(
            "dead-lettered alert=%s subscriber=%s attempts=%d reason=%s",
            item.id,
            item.subscriber,
            item.attempts,
            reason,
        )
        return DEAD


class Lane:
    """One subscriber's feeder, workers, client and health as this process sees it."""

    def __init__(
        self, sub: Subscriber, secret: SecretStr, client: httpcore.ConnectionPool, deliverer: Deliverer
    ) -> None:
        self.sub = sub
        self.secret = secret
        self.client = client
        self.deliverer = deliverer
        self.pool = ThreadPoolExecutor(max_workers=sub.concurrency, thread_name_prefix=f"deliver-{sub.name}")
        self.failing = False
        self.maybe_failing_in_redis = True  # until the first 2xx clears what an earlier process left
        self.held: dict[str, Item] = {}  # leased items, from take to settled
        self.done: list[str] = []  # held items delivered or dead-lettered, for the feeder to settle
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._feed, name=f"lane-{sub.name}", daemon=True)

    def start(self) -> Lane:
        self.thread.start()
        return self

    @property
    def in_flight(self) -> int:
        with self.lock:
            return len(self.held)

    def release(self, item_id: str) -> None:
        with self.lock:
            self.held.pop(item_id, None)

    def settle_later(self, item_id: str) -> None:
        """The item is done: the feeder settles it with the others done meanwhile; until then it stays held (its
        lease renewed), so no other alerter sends it again."""
        with self.lock:
            self.done.append(item_id)

    def _settle(self) -> None:
        with self.lock:
            ids, self.done = self.done, []
        if not ids:
            return
        try:
            self.deliverer.outbox.settle(self.sub.name, ids)
        except Exception:
            with self.lock:  # settled on the next round; their leases are renewed meanwhile
                self.done = ids + self.done
            raise
        with self.lock:
            for i in ids:
                self.held.pop(i, None)

    def _feed(self) -> None:
        backoff, renewed, sealed = 0.2, time.monotonic(), 0.0
        while not self.closing.is_set():
            try:
                now = time.monotonic()
                if self.sub.digest_seconds is not None and now - sealed >= SEAL_EVERY_S:
                    sealed = now
                    d = self.deliverer
                    seal_due(
                        d.outbox, self.sub.name, self.sub.digest_seconds, d.settings.digest_max_alerts, time.time()
                    )
                if now - renewed >= self.deliverer.lease_s / 3:
                    renewed = now
                    self._renew()
                took = self._take()
                backoff = 0.2
            except Exception as exc:  # Redis down: what is held stays leased; look again after a while
                logger.warning("lane feed failed subscriber=%s error=%s: %s", self.sub.name, type(exc).__name__, exc)
                self.closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not took:
                self.wake.wait(IDLE_POLL_S)

    def _take(self) -> bool:
        """Settle what the workers finished and lease as many due items as that leaves free workers, in one call;
        True when that filled them (there may be more)."""
        self.wake.clear()  # before looking: a wake-up that comes while we look is kept for the next wait
        with self.lock:
            done, self.done = self.done, []
            free = self.sub.concurrency - len(self.held) + len(done)
        if free <= 0 and not done:
            return False
        d = self.deliverer
        try:
            items = d.outbox.take(self.sub.name, max(free, 0), d.lease_s, settle=done)
        except Exception:
            with self.lock:  # settled on the next round; their leases are renewed meanwhile
                self.done = done + self.done
            raise
        with self.lock:
            for i in done:
                self.held.pop(i, None)
            for item in items:
                self.held[item.id] = item
        for item in items:
            self.pool.submit(self._run, item)
        return bool(items) and len(items) == free

    def _renew(self) -> None:
        with self.lock:  # under the lock: a worker rescheduling an item waits, so its due time wins
            if self.held:
                self.deliverer.outbox.renew(self.sub.name, list(self.held), self.deliverer.lease_s)

    def _run(self, item: Item) -> None:
        try:
            self.deliverer.settled(self.deliverer.attempt(self, item))
        except Exception as exc:  # Redis or Kafka down: the item's lease runs out and it is due again
            logger.warning(
                "attempt not settled alert=%s subscriber=%s error=%s: %s",
                item.id,
                self.sub.name,
                type(exc).__name__,
                exc,
            )
        finally:
            with self.lock:
                if item.id not in self.done:  # rescheduled, or not settled (Redis down): no longer held
                    self.held.pop(item.id, None)
            self.wake.set()

    def close(self, *, close_client: bool = False) -> None:
        """Stop taking items and let the workers finish what they hold (the client's owner closes it, unless
        asked here: a lane replaced by a reload owns its client)."""
        self.closing.set()
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self.pool.shutdown(wait=True)
        try:
            self._settle()  # what the workers finished after the feeder stopped
        except Exception as exc:  # Redis down: those items fall due again at their lease end (same webhook-id)
            logger.warning("settle at close failed subscriber=%s error=%s", self.sub.name, type(exc).__name__)
        if close_client:
            self.client.close()


def lanes_for(
    subscribers: Sequence[Subscriber],
    secrets: Mapping[str, SecretStr],
    clients: Mapping[str, httpcore.ConnectionPool],
    deliverer: Deliverer,
) -> dict[str, Lane]:
    return {s.name: Lane(s, secrets[s.name], clients[s.name], deliverer) for s in subscribers}


def new_client(sub: Subscriber) -> httpcore.ConnectionPool:
    return webhook_client(local=sub.local, max_connections=sub.concurrency)

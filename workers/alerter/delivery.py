"""Per-subscriber delivery lanes: each drains its subscriber's outbox queue, and settles every item it takes.

Each subscriber has its own lane: a feeder thread, ``concurrency`` workers and its own keep-alive HTTP client
(with the SSRF guard), so a slow, hanging or failing endpoint only ever occupies its own lane.

The feeder talks to Redis for the whole lane, one exchange per round (``Lane._exchange``, ``Outbox.take``):
it settles what the workers finished, and leases the next due items, first due first, up to ``PREFETCH``
times the lane's concurrency; the workers attempt them in that order from a local line. It takes again once
that line is down to two items per worker, so a backlog costs one round trip per few dozen alerts, not one per
alert. It renews the leases of everything it holds (in line, in flight, finished but not yet settled) until
each is settled, and a lane that stops gives its unstarted items back at the due they had, so their order
stands. The attempts of a round go to the attempt log in one pipeline, and the live cluster counts of items
that waited are read for all of them in one. The feeder also seals a digest subscriber's buffer when its
period is up (``digest.seal_due``).

An attempt ends in one of three ways: delivered (2xx), rescheduled in the queue for the next step of the
schedule (with jitter), or dead-lettered with the reason (410, refused address, endpoint disabled, schedule
exhausted); delivered and dead-lettered items are settled by the next exchange (the one place an item leaves
the queue), and stay leased until then. An unexpected exception of an attempt (not a DeliveryError) is a
failed attempt like any other. A Redis or Kafka error while settling leaves the item leased: it falls due
again when the lease ends and goes out under the same webhook-id (an alerter killed between a 2xx and its
settling, or with items in line, sends them again the same way). A failing endpoint's items follow the retry
schedule each; it only ever occupies its own lane's workers.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from kafka import KafkaProducer
from pydantic import SecretStr

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
from workers.infra import metrics
from workers.infra.attemptlog import Attempt, AttemptLog
from workers.infra.kafka import send_all
from workers.settings.config import AlerterSettings, Subscriber

logger = logging.getLogger(__name__)

DELIVERED, PARKED, DEAD = "delivered", "parked", "dead"
IDLE_POLL_S = 0.5  # a lane with nothing due looks again this often (a batch of this process wakes it sooner)
PREFETCH = 4  # a lane leases up to this many items per worker: one round trip serves a few dozen alerts
LOW_WATER = 2  # it takes more once its line is down to this many items per worker: they work while it looks
SEAL_EVERY_S = 0.5
# an alert's cluster count (``duplicates``) is at most about this old when it is POSTed: the feeder reads the
# counts again, for all the items of its line at once, of those that waited this long since the last reading
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
        sub = lane.sub
        sent_at = time.time()
        timings = item.alert.get("timings")
        if isinstance(timings, dict):  # a digest has none of its own: its alerts carry theirs
            timings["sent"] = iso(sent_at)
        trace = item.alert.get("trace")
        parent = trace.get("traceparent") if isinstance(trace, dict) else None
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
                traceparent=child(parent) if parent else None,
            )
        except DeliveryError as exc:
            metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
            outcome = self._failed(lane, item, exc)
            self._log(lane, item.id, exc.status or 0, time.monotonic() - started, exc.reason, outcome)
            return outcome
        except Exception as exc:  # a bug or an input nothing foresaw: this alert's failure, never the lane's
            logger.exception("unexpected delivery error alert=%s subscriber=%s", item.id, sub.name)
            error = DeliveryError(sub.name, f"unexpected {type(exc).__name__}: {exc}")
            outcome = self._failed(lane, item, error)
            self._log(lane, item.id, 0, time.monotonic() - started, error.reason, outcome)
            return outcome
        metrics.DELIVERY_LATENCY.labels(subscriber=sub.name).observe(time.monotonic() - started)
        self._log(lane, item.id, result.status, result.elapsed_s, "", DELIVERED)
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

    def _log(self, lane: Lane, item_id: str, status: int, latency_s: float, error: str, outcome: str) -> None:
        """One attempt for the subscriber's bounded attempt log (the web portal's view), written with the others
        of the lane's round; its loss is no failure."""
        lane.log(Attempt(item_id, time.time(), status, round(latency_s * 1000, 1), error, outcome))

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
        self.failing = False
        self.maybe_failing_in_redis = True  # until the first 2xx clears what an earlier process left
        self.held: dict[str, float] = {}  # leased items (from take to settled) -> the due they had before
        self.line: deque[Item] = deque()  # leased, not started yet: the workers take them in queue order
        self.done: list[str] = []  # held items delivered or dead-lettered, for the next exchange to settle
        self.attempts: list[Attempt] = []  # for the next exchange to write to the attempt log
        self._exchanged = 0.0  # monotonic time of the last exchange
        self.counted: dict[str, float] = {}  # item in line -> when its cluster counts were read (or it was queued)
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # the workers wait on it for the line
        self.wake = threading.Event()  # the feeder waits on it: new alerts queued, or the line running low
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._feed, name=f"lane-{sub.name}", daemon=True)
        self.workers = [
            threading.Thread(target=self._work, name=f"deliver-{sub.name}-{i}", daemon=True)
            for i in range(sub.concurrency)
        ]

    def start(self) -> Lane:
        self.thread.start()
        for w in self.workers:
            w.start()
        return self

    @property
    def in_flight(self) -> int:
        with self.lock:
            return len(self.held)

    def release(self, item_id: str) -> None:
        with self.lock:
            self.held.pop(item_id, None)

    def settle_later(self, item_id: str) -> None:
        """The item is done: the next exchange settles it with the others done meanwhile; until then it stays
        held (its lease renewed), so no other alerter sends it again."""
        with self.lock:
            self.done.append(item_id)

    def log(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

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
                more = self._exchange()
                self._recount()
                backoff = 0.2
            except Exception as exc:  # Redis down: what is held stays leased; look again after a while
                logger.warning("lane feed failed subscriber=%s error=%s: %s", self.sub.name, type(exc).__name__, exc)
                self.closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not more:
                self.wake.wait(IDLE_POLL_S)

    def _exchange(self, *, stopping: bool = False) -> bool:
        """The lane's one round with Redis: settle what the workers finished, and lease due items until the lane
        holds ``PREFETCH`` per worker (or, ``stopping``, give the unstarted ones back and lease none). Then the
        round's attempts go to the attempt log and the counts of taken items that waited are read, one pipeline
        each. True when there may be more to take at once."""
        self.wake.clear()  # before looking: a wake-up that comes while we look is kept for the next wait
        with self.lock:
            done, self.done = self.done, []
            logged, self.attempts = self.attempts, []
            give_back = {}
            if stopping:
                give_back = {item.id: self.held[item.id] for item in self.line if item.id in self.held}
                self.line.clear()
            # take once the line is down to LOW_WATER items per worker: the round trip is made while they work on it
            low = len(self.line) <= LOW_WATER * self.sub.concurrency
            idle = self.sub.concurrency - (len(self.held) - len(done))  # workers with nothing in hand or in line
            want = PREFETCH * self.sub.concurrency - len(self.held) + len(done) if low and not stopping else 0
            # settling alone waits for the next take, or for the idle poll
            late = time.monotonic() - self._exchanged >= IDLE_POLL_S
            idle_round = want <= 0 and not give_back and not (done and (late or stopping))
            if idle_round:
                self.done = done + self.done
                if not late:  # the attempts too wait for the next round, unless they have waited long enough
                    self.attempts, logged = logged + self.attempts, []
                elif logged:
                    self._exchanged = time.monotonic()
        if idle_round:
            self._write_log(logged)
            return False
        d = self.deliverer
        self._exchanged = time.monotonic()
        try:
            taken = d.outbox.take(self.sub.name, max(want, 0), d.lease_s, done, give_back)
        except Exception:
            with self.lock:  # settled on the next round; their leases are renewed meanwhile
                self.done = done + self.done
                self.attempts = logged + self.attempts
                if give_back:  # still leased: they fall due when the lease ends
                    self.held = {k: v for k, v in self.held.items() if k not in give_back}
            raise
        now = time.time()
        # the counts of items that waited, or that will wait in line for a worker: one read now, not one each
        waited = [item for item, _ in taken if now - item.queued_at >= FRESH_S or len(taken) > idle]
        self._refresh(waited)
        counted = {id(i) for i in waited}
        with self.lock:
            for i in [*done, *give_back]:
                self.held.pop(i, None)
            for item, due in taken:
                self.held[item.id] = due
                self.line.append(item)
                self.counted[item.id] = now if id(item) in counted else item.queued_at
            if taken:
                self.ready.notify(len(taken))
        self._write_log(logged)  # after the workers have their items: the log is a view, they are not
        return bool(taken) and len(taken) == want

    def _recount(self) -> None:
        """Read again the cluster counts of items that have waited in line ``FRESH_S`` since they were last read,
        all in one pipeline: an alert says how many copies were seen at most about ``FRESH_S`` before its POST."""
        now = time.time()
        with self.lock:
            stale = [item for item in self.line if now - self.counted.get(item.id, 0.0) >= FRESH_S]
        if not stale:
            return
        self._refresh(stale, in_line=True)
        with self.lock:
            for item in stale:
                self.counted[item.id] = now

    def _refresh(self, items: list[Item], *, in_line: bool = False) -> None:
        if not items:
            return
        counts = iter(self.deliverer.clusters.counts([c for item in items for c in item.clusters]))
        per = [[next(counts) for _ in item.clusters] for item in items]
        with self.lock:  # an item a worker took meanwhile is being sent as it is
            waiting = {id(i) for i in self.line} if in_line else None
            for item, n in zip(items, per, strict=True):
                if waiting is None or id(item) in waiting:
                    refresh_duplicates(item, n)

    def _write_log(self, entries: list[Attempt]) -> None:
        try:
            self.deliverer.attempts.record_many(self.sub.name, entries)
        except Exception as exc:  # Redis trouble: the delivery itself is settled elsewhere, this is a view
            logger.warning("attempt log not written subscriber=%s error=%s", self.sub.name, type(exc).__name__)

    def _renew(self) -> None:
        with self.lock:  # under the lock: a worker rescheduling an item waits, so its due time wins
            if self.held:
                self.deliverer.outbox.renew(self.sub.name, list(self.held), self.deliverer.lease_s)

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self.line and not self.closing.is_set():
                    self.ready.wait()
                if self.closing.is_set():  # what is still in line is given back by the last exchange
                    return
                item = self.line.popleft()
                self.counted.pop(item.id, None)
                if len(self.line) <= LOW_WATER * self.sub.concurrency:
                    self.wake.set()
            self._run(item)

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
                if not self.line:  # idle: settle what was done now rather than at the next poll
                    self.wake.set()

    def close(self, *, close_client: bool = False) -> None:
        """Stop taking items, let the workers finish what they started, then settle it and give back what is
        still in line (the client's owner closes it, unless asked here: a lane replaced by a reload owns it)."""
        with self.lock:
            self.closing.set()
            self.ready.notify_all()
        self.wake.set()
        for t in [self.thread, *self.workers]:
            if t.is_alive():
                t.join(self.deliverer.settings.delivery_timeout + 10)
        try:
            self._exchange(stopping=True)
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

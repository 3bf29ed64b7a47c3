"""Per-subscriber delivery: one attempt of an item, and what becomes of it; the lanes that drain each subscriber's
outbox queue are in ``workers.alerter.lane``.

Each subscriber has its own lane: a feeder thread, at most ``concurrency`` attempts at once on the sender's event
loop (``workers.alerter.sender``), its own keep-alive HTTP session (with the SSRF guard) and its own threads for
what an attempt does on Redis or Kafka, so a slow, hanging or failing endpoint only ever occupies its own lane.
The feeder talks to Redis for the whole lane, one exchange per round (``Lane._exchange``, ``Outbox.take``): it
settles what the attempts finished and leases the next due items, first due first, up to ``PREFETCH`` times the
lane's concurrency; the attempts start in that order. The attempts of a round go to the attempt log in one
pipeline, and the live cluster counts of items that waited are read for all of them in one.

An attempt ends in one of three ways: delivered (2xx), rescheduled in the queue for the next step of the
schedule (with jitter), or dead-lettered with the reason (410, refused address, endpoint disabled, schedule
exhausted); delivered and dead-lettered items are settled by the next exchange (the one place an item leaves
the queue), and stay leased until then. An unexpected exception of an attempt (not a DeliveryError) is a
failed attempt like any other. A Redis or Kafka error while settling leaves the item leased: it falls due
again when the lease ends and goes out under the same webhook-id (an alerter killed between a 2xx and its
settling, or with items in line, sends them again the same way). A failing endpoint's items follow the retry
schedule each; it only ever occupies its own lane.
"""

from __future__ import annotations

import base64
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafka import KafkaProducer

from workers.alerter import spans
from workers.alerter.dedup import Clusters
from workers.alerter.digest import is_digest
from workers.alerter.endpoints import Endpoints
from workers.alerter.outbox import Item, Outbox, Undecodable
from workers.alerter.retryqueue import retry_delay
from workers.alerter.webhook import deliver
from workers.core.deadletter import MAX_KEPT_VALUE_BYTES, dead_letter
from workers.core.errors import DeliveryError
from workers.core.names import Names
from workers.core.stories import compact_json
from workers.core.tracing import child, iso, seconds_between
from workers.infra import metrics, otel
from workers.infra.attemptlog import Attempt, AttemptLog
from workers.infra.kafka import send_all
from workers.settings.config import AlerterSettings

if TYPE_CHECKING:  # a lane calls the deliverer, which is handed the lane
    from workers.alerter.lane import Lane

logger = logging.getLogger(__name__)

DELIVERED, PARKED, DEAD = "delivered", "parked", "dead"


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

    async def attempt(self, lane: Lane, item: Item) -> str:
        """One attempt, on the sender's loop: the POST is awaited there, what waits on Redis or Kafka runs in the
        lane's threads (``Lane.blocking``)."""
        if lane.sub.name in self.endpoints.last_disabled:  # the lanes' feeders keep this reading fresh
            return await lane.blocking(self.dead, lane, item, "endpoint disabled")
        sub = lane.sub
        sent_at = time.time()
        timings = item.alert.get("timings")
        if isinstance(timings, dict):  # a digest has none of its own: its alerts carry theirs
            timings["sent"] = iso(sent_at)
        trace = item.alert.get("trace")
        parent = trace.get("traceparent") if isinstance(trace, dict) else None
        post_trace = child(parent) if parent else None
        started = time.monotonic()
        assert lane.session is not None, "a lane attempts only once started"
        try:
            result = await deliver(
                lane.session,
                sub.name,
                sub.url,
                lane.secret.get_secret_value(),
                item.id,
                compact_json(item.alert),
                timeout=self.settings.delivery_timeout,
                refused=lane.refused,
                traceparent=post_trace,
            )
        except DeliveryError as exc:
            lane.meters.latency.observe(time.monotonic() - started)
            if otel.enabled():
                spans.deliver(post_trace, parent, sent_at, time.time(), item, exc.status or 0, "failed")
            outcome = await lane.blocking(self._failed, lane, item, exc)
            self._log(lane, item.id, exc.status or 0, time.monotonic() - started, exc.reason, outcome)
            return outcome
        except Exception as exc:  # a bug or an input nothing foresaw: this alert's failure, never the lane's
            logger.exception("unexpected delivery error alert=%s subscriber=%s", item.id, sub.name)
            error = DeliveryError(sub.name, f"unexpected {type(exc).__name__}: {exc}")
            outcome = await lane.blocking(self._failed, lane, item, error)
            self._log(lane, item.id, 0, time.monotonic() - started, error.reason, outcome)
            return outcome
        lane.meters.latency.observe(time.monotonic() - started)
        if otel.enabled():
            spans.deliver(post_trace, parent, sent_at, time.time(), item, result.status, DELIVERED)
        self._log(lane, item.id, result.status, result.elapsed_s, "", DELIVERED)
        if isinstance(timings, dict):
            metrics.observe_hop("enqueued_to_sent", seconds_between(timings.get("enqueued"), timings["sent"]))
            metrics.observe_hop("fetched_to_sent", seconds_between(timings.get("fetched"), timings["sent"]))
        lane.settle_later(item.id)
        if lane.failing or lane.maybe_failing_in_redis:
            await lane.blocking(self.endpoints.succeeded, sub.name)
            lane.failing = lane.maybe_failing_in_redis = False
        logger.info("delivered alert=%s subscriber=%s attempt=%d", item.id, sub.name, item.attempts + 1)
        lane.meters.delivered.inc()
        lane.meters.age.observe(max(0.0, time.time() - item.queued_at))
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
        with lane.due_lock:  # no lease renewal may overwrite the new due time
            lane.release(item.id)
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

    def dead_undecodable(self, item: Undecodable) -> None:
        """An outbox item that does not decode (``Outbox.take``): dead-lettered with its stored bytes (bounded,
        not replayable) and why, so its lane goes on. Raises when Kafka did not take it."""
        kept = item.raw[:MAX_KEPT_VALUE_BYTES]
        payload: dict[str, object] = {"subscriber": item.subscriber, "item_id": item.id}
        payload["value_b64"] = base64.b64encode(kept).decode()
        if len(item.raw) > len(kept):
            payload.update(value_bytes=len(item.raw), value_truncated=True)
        send_all(self.producer, [(self.names.alerts_dlq, item.id.encode(), dead_letter(item.reason, payload=payload))])
        metrics.ALERTS_DEAD.labels(subscriber=item.subscriber).inc()
        logger.error("dead-lettered item=%s subscriber=%s reason=%s", item.id, item.subscriber, item.reason)

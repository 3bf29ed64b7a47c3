"""The I/O around ``infra.stall``: a probe thread asks the broker for the group's lag, the loop reports positions.

``GroupWatch`` per consumer: every probe interval its thread reads the group's committed offsets and the ends
of the topic with an admin client of its own (the consumer is not thread-safe, and a wedged consumer must
still be probed), and feeds them to the detector with the loop's last positions. On the check that turns the
state it logs one line (an error when stalled, with the way out; an info line when consuming again) and
counts the stall in ``wirewatch_consumer_stalls_total``; ``/readyz`` reads the state in between.

The lag is the sum of (end - committed) from ListOffsets. Tansu 0.6 reports the end of a partition whose last
batch holds several records as that batch's first offset + 1: the figure can be low, but it is above zero
whenever a record past the committed offset begins a batch, which is what the verdict needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import OffsetSpec
from kafka.structs import TopicPartition

from workers.infra import metrics
from workers.infra.stall import StallDetector, probe_interval, stall_bound
from workers.settings.config import KafkaSettings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_MS = 5000


def group_lag(admin: Any, group: str, topic: str) -> tuple[int, dict[TopicPartition, int]]:
    """Records the group is behind over every partition of the topic, and where it stands in each: its committed
    offset, or the partition's first offset where it never committed (its consumers read from the earliest)."""
    described = admin.describe_topics([topic])
    tps = [TopicPartition(topic, p["partition_index"]) for t in described for p in t.get("partitions") or ()]
    if not tps:
        return 0, {}
    ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps}, timeout_ms=PROBE_TIMEOUT_MS)
    starts = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps}, timeout_ms=PROBE_TIMEOUT_MS)
    offsets = admin.list_group_offsets(group).get(group, {})
    known = {tp: o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset >= 0}
    committed = {tp: known.get(tp, starts[tp].offset) for tp in tps}
    return sum(max(0, ends[tp].offset - committed[tp]) for tp in tps), committed


def positions(consumer: Any) -> dict[Any, int | None]:
    """The consumer's assigned partitions and its position in each, from its own state (loop thread only)."""
    return {tp: consumer.position(tp, timeout_ms=100) for tp in consumer.assignment()}


class GroupWatch:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        topic: str,
        kafka: KafkaSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topic = topic
        self.interval_s = probe_interval(kafka.session_timeout_ms) if interval_s is None else interval_s
        self.detector = StallDetector(stall_bound(kafka.session_timeout_ms, self.interval_s), clock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._admin: Any = None
        self._held: list[int] | None = None
        metrics.CONSUMER_STALLED.labels(group=group).set(0)

    @property
    def ready(self) -> bool:
        return not self.detector.stalled

    def observe(self, consumer: Any) -> None:
        """After each batch, on the loop thread: where the consumer stands now."""
        now = positions(consumer)
        held = sorted(tp.partition for tp in now)
        if held != self._held:  # one line per rebalance: which member holds what, for operators and tests
            self._held = held
            logger.info(
                "partitions assigned group=%s topic=%s partitions=%s",
                self.group,
                self.topic,
                ",".join(map(str, held)) or "none",
            )
        self.detector.observe_positions(now)

    def start(self) -> GroupWatch:
        self._thread = threading.Thread(target=self._run, name=f"groupwatch-{self.group}", daemon=True)
        self._thread.start()
        return self

    def probe(self) -> None:
        """One probe and check (the thread's body; callable directly in tests)."""
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap,
                    client_id=f"wirewatch-groupwatch-{self.group}",
                    request_timeout_ms=PROBE_TIMEOUT_MS,
                    bootstrap_timeout_ms=PROBE_TIMEOUT_MS,
                )
            lag, committed = group_lag(self._admin, self.group, self.topic)
        except Exception as exc:  # Kafka down: /readyz says so already; the facts go stale and decide nothing
            logger.debug("group probe failed group=%s error=%s", self.group, type(exc).__name__)
        else:
            self.detector.observe_group(lag, committed)
        self._report()

    def _report(self) -> None:
        verdict = self.detector.check()
        if not verdict.changed:
            return
        metrics.CONSUMER_STALLED.labels(group=self.group).set(1 if verdict.stalled else 0)
        if verdict.stalled:
            metrics.CONSUMER_STALLS.labels(group=self.group).inc()
            logger.error(
                "consumer group stalled group=%s lag=%d idle=%.0fs bound=%.0fs: this consumer %s while the group "
                "lags; if it lasts, the group may be wedged on the broker (README: wirewatch kafka reset-group %s)",
                self.group,
                verdict.lag,
                verdict.idle_s,
                self.detector.bound_s,
                verdict.reason,
                self.group,
            )
        else:
            logger.info("consumer group progressing again group=%s lag=%d", self.group, verdict.lag)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.probe()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(PROBE_TIMEOUT_MS / 1000 * 4)
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception as exc:  # closing must not fail a shutdown
                logger.debug("group probe close failed error=%s", type(exc).__name__)

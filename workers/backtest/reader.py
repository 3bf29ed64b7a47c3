"""Reading a time window of the stories topic back from Kafka, as a tool: the consumer joins no group, commits
nothing and produces nothing, so the filter's group and offsets never notice a backtest.

Per partition the window becomes an offset range: its start from ``offsets_for_times(start)`` (or the oldest
offset), its end from ``offsets_for_times(end)`` (or the end offset). Both are hints that records' times then
confirm, because a broker may answer them wrongly (the embedded Tansu answers offset 0 for any time):

- a start too early only costs reading the records before the window, which are counted and skipped, as are
  other records outside it (a producer's own timestamps need not grow with offsets);
- a partition bounded by ``end`` stops at that offset only if the record there is at or after the window's end;
  otherwise the hint was wrong and the partition is read on to its end;
- an unbounded partition is read to its end offset, and past it (the embedded broker also under-reports end
  offsets when the last batch holds several records, PITFALLS.md) until a poll brings nothing at all, or until a
  record newer than the start of the read: a live topic keeps growing, and what came after the start is not
  part of the backtest.

Records are yielded in chunks of raw (value, time, partition, offset), as the matching workers take them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from workers.backtest.window import Window
from workers.core.errors import WirewatchError

logger = logging.getLogger(__name__)

Record = tuple[bytes, int, int, int]  # value, timestamp ms, partition, offset
CHUNK = 200
POLL_MS = 500
IDLE_S = 15.0  # no record for this long while a partition is short of its end: Kafka stopped answering


@dataclass
class Plan:
    """Offset ranges to read, and how far the reading got (for the progress line)."""

    ranges: dict[TopicPartition, tuple[int, int]]  # partition -> (first offset, end offset)
    bounded: frozenset[TopicPartition]  # partitions whose end came from the window's end (a hint, see above)
    read: int = 0  # records read so far
    outside: int = 0  # records read that fell outside the window

    @property
    def total(self) -> int:
        return sum(max(0, end - start) for start, end in self.ranges.values())


def plan(consumer: KafkaConsumer, topic: str, window: Window) -> Plan:
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        raise WirewatchError(f"topic {topic} does not exist (no stories yet? run `wirewatch kafka init`)")
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    oldest = consumer.beginning_offsets(tps)
    ends = consumer.end_offsets(tps)
    starts = dict(oldest)
    if window.start is not None:
        found = consumer.offsets_for_times({tp: window.start for tp in tps})
        starts = {tp: ends[tp] if found.get(tp) is None else max(oldest[tp], found[tp].offset) for tp in tps}
    bounded: set[TopicPartition] = set()
    if window.end is not None:
        found = consumer.offsets_for_times({tp: window.end for tp in tps})
        for tp in tps:
            hit = found.get(tp)
            if hit is not None:
                ends[tp] = hit.offset
                bounded.add(tp)
    return Plan({tp: (starts[tp], max(starts[tp], ends[tp])) for tp in tps}, frozenset(bounded))


def read(consumer: KafkaConsumer, the_plan: Plan, window: Window, chunk: int = CHUNK) -> Iterator[list[Record]]:
    """The window's records in chunks of ``chunk``; ``the_plan`` counts what was read as it goes."""
    open_tps = set(the_plan.ranges)
    bounded = set(the_plan.bounded)
    consumer.assign(sorted(the_plan.ranges, key=lambda tp: tp.partition))
    for tp, (start, _end) in the_plan.ranges.items():
        consumer.seek(tp, start)
    batch: list[Record] = []
    last_record = time.monotonic()
    began = int(time.time() * 1000)
    stop_at = began if window.end is None else min(began, window.end)  # past an end offset, this time ends it
    while open_tps:
        polled = consumer.poll(timeout_ms=POLL_MS)
        got = False
        for tp, records in polled.items():
            if tp not in open_tps:
                continue
            end = the_plan.ranges[tp][1]
            for rec in records:
                if rec.offset >= end and rec.timestamp >= stop_at:
                    open_tps.discard(tp)
                    consumer.pause(tp)
                    break
                if tp in bounded and rec.offset >= end:
                    bounded.discard(tp)
                    logger.info("offsets_for_times hint wrong partition=%s offset=%s: reading on", tp.partition, end)
                got = True
                the_plan.read += 1
                if rec.timestamp not in window:
                    the_plan.outside += 1
                    continue
                batch.append((rec.value or b"", rec.timestamp, rec.partition, rec.offset))
                if len(batch) >= chunk:
                    yield batch
                    batch = []
        now = time.monotonic()
        if got:
            last_record = now
        if not polled:
            for tp in list(open_tps):
                # Unbounded (or no longer trusted): done at the end offset once a poll brought nothing at all (a
                # poll may bring one partition's records and leave another's buffered for the next).
                if tp not in bounded and consumer.position(tp) >= the_plan.ranges[tp][1]:
                    open_tps.discard(tp)
                    consumer.pause(tp)
        if open_tps and not got and now - last_record > IDLE_S:
            behind = ", ".join(f"{tp.partition}@{consumer.position(tp)}/{the_plan.ranges[tp][1]}" for tp in open_tps)
            raise WirewatchError(f"Kafka stopped answering: no record for {IDLE_S:.0f}s, partitions behind: {behind}")
    if batch:
        yield batch

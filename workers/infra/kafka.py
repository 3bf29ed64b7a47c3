"""Kafka clients built the one safe way, and the helpers every stage shares.

Producers are idempotent with acks=all and every send is waited for before anything is marked done.
Consumers never auto-commit: a stage commits explicit offsets after the work they cover, and on a
failure seeks back to the first uncommitted record so nothing is skipped.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import codec as kafka_codec
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from workers.core.errors import WirewatchError
from workers.core.names import Names
from workers.infra import metrics
from workers.settings.config import KafkaSettings

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 60.0


# Every codec a Kafka record may carry besides gzip (built in): the package kafka-python needs to read it, and
# the kafka.codec function that says whether it is there.
CODECS = {
    "lz4": ("lz4", "has_lz4"),
    "zstd": ("zstandard", "has_zstd"),
    "snappy": ("python-snappy", "has_snappy"),
}


def missing_codecs() -> list[str]:
    """The codecs kafka-python cannot read here, each with the package that would add it."""
    return [f"{name} (pip install {pkg})" for name, (pkg, has) in CODECS.items() if not getattr(kafka_codec, has)()]


def require_codecs() -> None:
    """Refuse to consume without every codec: kafka-python reading one record of a missing codec raises
    UnsupportedCodecError once, then its fetcher spins at 100% CPU and no partition moves (issue 12)."""
    if missing := missing_codecs():
        raise WirewatchError(
            "Kafka compression codecs missing: " + ", ".join(missing) + "; one record compressed with a missing"
            " codec would stall this consumer (install wirewatch with its dependencies)"
        )


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    # acks="all" keeps idempotence on (acks=1 would silently turn it off).
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=2**31 - 1,
        delivery_timeout_ms=120000,
        compression_type="gzip",
    )


def make_consumer(bootstrap: str, topic: str, group: str, settings: KafkaSettings, client_id: str) -> KafkaConsumer:
    require_codecs()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a new group must not skip what is there
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(300, settings.session_timeout_ms // 4),
        max_poll_records=settings.max_poll_records,
        max_poll_interval_ms=settings.max_poll_interval_ms,
    )
    if not settings.leave_group_on_close:
        never_leave_group(consumer)
    return consumer


def never_leave_group(consumer: KafkaConsumer) -> None:
    """Make the consumer drop out of its group silently: no LeaveGroup on close() (nor when a batch outlasts
    max_poll_interval_ms); the coordinator drops the member after session_timeout_ms, as after a crash.

    Why: on the embedded broker a LeaveGroup during a rebalance wedges the group for good (issue 12; 4 of 10
    rounds here), while a member that just goes away was always replaced within 9-13 s. Static membership
    (``group_instance_id``), which makes kafka-python skip the leave by design, wedged Tansu 0.6 as often (2 of
    4 rounds), so this replaces the one coroutine that sends it (kafka-python 3.0.x's coordinator) with the part
    that forgets the member locally."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not hasattr(coordinator, "maybe_leave_group_async"):
        raise WirewatchError(
            "this kafka-python cannot skip LeaveGroup; set kafka.leave_group_on_close: true (see README, Kafka)"
        )

    async def forget(reason: str | None = None, timeout_ms: int | None = None) -> None:
        coordinator.reset_generation()

    coordinator.maybe_leave_group_async = forget


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    retention_ms: int


def topic_specs(names: Names, kafka: KafkaSettings) -> list[TopicSpec]:
    """What wirewatch needs: the two streams and their dead-letter topics."""
    stream_ms = int(kafka.retention_hours * 3600 * 1000)
    dlq_ms = int(kafka.dlq_retention_hours * 3600 * 1000)
    return [
        TopicSpec(names.stories, kafka.partitions, kafka.replication_factor, stream_ms),
        TopicSpec(names.matches, kafka.partitions, kafka.replication_factor, stream_ms),
        TopicSpec(names.stories_dlq, kafka.partitions, kafka.replication_factor, dlq_ms),
        TopicSpec(names.alerts_dlq, kafka.partitions, kafka.replication_factor, dlq_ms),
    ]


def new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(
        spec.name, spec.partitions, spec.replication, topic_configs={"retention.ms": str(spec.retention_ms)}
    )


def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet, as `wirewatch kafka init` would; return the ones created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="wirewatch-admin")
    created = []
    try:
        existing = set(admin.list_topics())
        for spec in specs:
            if spec.name in existing:
                continue
            try:
                admin.create_topics([new_topic(spec)])
                created.append(spec.name)
            except TopicAlreadyExistsError:  # another process won the race
                pass
    finally:
        admin.close()
    return created


def make_reader(bootstrap: str) -> KafkaConsumer:
    """A consumer that joins no group and commits nothing: for tools that read a topic (dlq, tail)."""
    require_codecs()
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)


Message = tuple[str, bytes, bytes] | tuple[str, bytes, bytes, list[tuple[str, bytes]]]


def send_all(producer: KafkaProducer, messages: Sequence[Message]) -> None:
    """Send (topic, key, value[, headers]) messages and wait until Kafka acknowledged every one; raise otherwise."""
    futures = [producer.send(m[0], key=m[1], value=m[2], headers=m[3] if len(m) > 3 else None) for m in messages]
    producer.flush(timeout=SEND_TIMEOUT_S)
    for fut in futures:
        fut.get(timeout=SEND_TIMEOUT_S)


def poll_records(consumer: KafkaConsumer, timeout_ms: int = 500) -> list[ConsumerRecord]:
    batches = consumer.poll(timeout_ms=timeout_ms)
    return [rec for recs in batches.values() for rec in recs]


def commit_records(consumer: KafkaConsumer, records: Sequence[ConsumerRecord]) -> None:
    """Commit offset+1 of the last record per partition: exactly what was processed, nothing more."""
    offsets: dict[TopicPartition, OffsetAndMetadata] = {}
    for rec in records:
        tp = TopicPartition(rec.topic, rec.partition)
        if tp not in offsets or rec.offset + 1 > offsets[tp].offset:
            offsets[tp] = OffsetAndMetadata(rec.offset + 1, "", getattr(rec, "leader_epoch", -1))
    if offsets:
        consumer.commit(offsets)


def rewind(consumer: KafkaConsumer, records: Sequence[ConsumerRecord]) -> None:
    """Seek each partition back to the first record of a batch that failed, so it is processed again."""
    first: dict[TopicPartition, int] = {}
    for rec in records:
        tp = TopicPartition(rec.topic, rec.partition)
        first[tp] = min(first.get(tp, rec.offset), rec.offset)
    assigned = consumer.assignment()
    for tp, offset in first.items():
        if tp in assigned:
            consumer.seek(tp, offset)


def read_all(bootstrap: str, topic: str, timeout_s: float = 10.0) -> list[ConsumerRecord]:
    """Every record of a topic from the beginning up to its end now (for the CLI)."""
    consumer = make_reader(bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for recs in consumer.poll(timeout_ms=200).values():
                out.extend(recs)
        return out
    finally:
        consumer.close()


def client_id(role: str) -> str:
    return f"wirewatch-{role}-{socket.gethostname()}-{os.getpid()}"


def update_lag(consumer: Any, group: str) -> None:
    """Lag per assigned partition from the consumer's own view (no extra broker round trip)."""
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:  # no fetch response for this partition yet
            continue
        position = consumer.position(tp, timeout_ms=100)
        if position is not None:
            metrics.CONSUMER_LAG.labels(group=group, topic=tp.topic, partition=str(tp.partition)).set(
                max(0, high - position)
            )


def kafka_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """A TCP connection to any bootstrap server. The clients' own connection state is no measure: they
    close idle connections (a quiet poller's producer has none), and their methods are not thread-safe."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False

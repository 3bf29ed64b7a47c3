"""Kafka clients built the one safe way, and the helpers every stage shares.

Producers are idempotent with acks=all and every send is waited for before anything is marked done.
Consumers never auto-commit: a stage commits explicit offsets after the work they cover, and on a
failure seeks back to the first uncommitted record so nothing is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from workers.config import KafkaSettings

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 60.0


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
    return KafkaConsumer(
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


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int) -> list[str]:
    """Create the topics that do not exist yet; return the ones created. Idempotent."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="wirewatch-admin")
    created = []
    try:
        existing = set(admin.list_topics())
        for name in topics:
            if name in existing:
                continue
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
                created.append(name)
            except TopicAlreadyExistsError:  # another process won the race
                pass
    finally:
        admin.close()
    return created


def send_all(producer: KafkaProducer, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Send (topic, key, value) messages and wait until Kafka acknowledged every one; raise otherwise."""
    futures = [producer.send(topic, key=key, value=value) for topic, key, value in messages]
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


def record_ref(rec: ConsumerRecord) -> dict[str, Any]:
    return {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset}

"""Dead-letter messages: the raw record or alert, where it came from, and why it was set aside."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord

from workers.kafka_io import record_ref


def dead_letter(reason: str, rec: ConsumerRecord | None = None, payload: Any = None) -> bytes:
    body: dict[str, Any] = {"reason": reason, "at": time.time()}
    if rec is not None:
        body["source"] = record_ref(rec)
        raw = rec.value or b""
        body["value_b64"] = base64.b64encode(raw).decode()
    if payload is not None:
        body["payload"] = payload
    return json.dumps(body, ensure_ascii=False).encode()


def read_all(bootstrap: str, topic: str, timeout_s: float = 10.0) -> list[ConsumerRecord]:
    """Every record of a topic from the beginning up to its end now (for the CLI)."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
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


def parse(rec: ConsumerRecord) -> dict[str, Any]:
    try:
        body = json.loads(rec.value or b"")
    except ValueError:
        return {"reason": "unreadable dead letter", "at": 0}
    return body if isinstance(body, dict) else {"reason": "unreadable dead letter", "at": 0}

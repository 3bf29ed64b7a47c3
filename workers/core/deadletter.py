"""Dead-letter messages: the raw record or alert, where it came from, and why it was set aside.

Pure: builds and reads the envelope; the stages produce it and ``wirewatch dlq`` reads it back."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Protocol


class ConsumerRecord(Protocol):
    """What the envelope reads of a consumed Kafka record (kafka-python's ConsumerRecord has these)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


def record_ref(rec: ConsumerRecord) -> dict[str, Any]:
    """Where a consumed record came from: topic, partition, offset."""
    return {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset}


def dead_letter(reason: str, rec: ConsumerRecord | None = None, payload: Any = None) -> bytes:
    body: dict[str, Any] = {"reason": reason, "at": time.time()}
    if rec is not None:
        body["source"] = record_ref(rec)
        raw = rec.value or b""
        body["value_b64"] = base64.b64encode(raw).decode()
    if payload is not None:
        body["payload"] = payload
    return json.dumps(body, ensure_ascii=False).encode()


def parse(rec: ConsumerRecord) -> dict[str, Any]:
    try:
        body = json.loads(rec.value or b"")
    except ValueError:
        return {"reason": "unreadable dead letter", "at": 0}
    return body if isinstance(body, dict) else {"reason": "unreadable dead letter", "at": 0}

"""Dead-letter messages: the raw record or alert, where it came from, and why it was set aside.

The envelope (``docs/deadletter.schema.json``, ``schema`` 1) carries the consumed record's value and headers
byte for byte (base64: a poison record's bytes need not be UTF-8), so nothing of it is lost when it is set aside.
Pure: builds and reads the envelope; the stages produce it and ``wirewatch dlq`` reads it back."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from typing import Any, Protocol

DEAD_LETTER_SCHEMA = 1  # version of the envelope; a breaking change increments it


class ConsumerRecord(Protocol):
    """What the envelope reads of a consumed Kafka record (kafka-python's ConsumerRecord has these)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] | None


def record_ref(rec: ConsumerRecord) -> dict[str, Any]:
    """Where a consumed record came from: topic, partition, offset."""
    return {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset}


# The most of a record's value an envelope keeps. Base64 makes it 4/3 larger, and the envelope must stay under
# the producer's 1 MiB limit: an oversize record's dead letter that could not be sent would make the stage redo
# its batch forever (found by the poison-pill test, issue 12).
MAX_KEPT_VALUE_BYTES = 600_000


def dead_letter(reason: str, rec: ConsumerRecord | None = None, payload: Any = None) -> bytes:
    body: dict[str, Any] = {"schema": DEAD_LETTER_SCHEMA, "reason": reason, "at": time.time()}
    if rec is not None:
        body["source"] = record_ref(rec)
        raw = rec.value or b""
        body["value_b64"] = base64.b64encode(raw[:MAX_KEPT_VALUE_BYTES]).decode()
        if len(raw) > MAX_KEPT_VALUE_BYTES:  # kept cut, with its size: inspectable, not replayable
            body["value_bytes"] = len(raw)
            body["value_truncated"] = True
        body["headers"] = [
            {"key": str(key), "value_b64": None if value is None else base64.b64encode(value).decode()}
            for key, value in getattr(rec, "headers", None) or []
        ]
    if payload is not None:
        body["payload"] = payload
    return json.dumps(body, ensure_ascii=False).encode()


def parse(rec: ConsumerRecord) -> dict[str, Any]:
    try:
        body = json.loads(rec.value or b"")
    except ValueError:
        return {"reason": "unreadable dead letter", "at": 0}
    return body if isinstance(body, dict) else {"reason": "unreadable dead letter", "at": 0}

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

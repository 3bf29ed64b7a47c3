"""The dead-letter envelope stays under the producer's 1 MiB limit, whatever the size of the record."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from workers.core.deadletter import MAX_KEPT_VALUE_BYTES, dead_letter, parse


@dataclass
class Rec:
    value: bytes | None
    topic: str = "t.stories"
    partition: int = 0
    offset: int = 7


def test_a_record_is_kept_whole_when_it_fits() -> None:
    body = json.loads(dead_letter("malformed story: x", Rec(b"{not json")))
    assert base64.b64decode(body["value_b64"]) == b"{not json"
    assert "value_truncated" not in body
    assert body["source"] == {"topic": "t.stories", "partition": 0, "offset": 7}


def test_an_oversize_record_is_kept_cut_with_its_size_and_the_envelope_fits() -> None:
    raw = b"x" * 1_040_000  # just under the producer's limit as a record
    letter = dead_letter("story too large: match event of 1040300 bytes", Rec(raw))
    assert len(letter) < 1_000_000  # base64 of the whole value would be 1.39 MB: unsendable
    body = parse(Rec(letter))
    assert body["value_truncated"] is True and body["value_bytes"] == len(raw)
    assert base64.b64decode(body["value_b64"]) == raw[:MAX_KEPT_VALUE_BYTES]

"""The attempt log's entries as they are stored: the compact row, and the objects of earlier versions."""

from __future__ import annotations

import json

from workers.infra.attemptlog import Attempt


def test_an_attempt_is_a_compact_row_and_reads_back() -> None:
    a = Attempt("msg_" + "ab" * 16, 1764612345.123456, 204, 12.3, "", "delivered")
    raw = a.to_json()
    assert len(raw) < 85, "about half the bytes of the object with field names"
    assert Attempt.from_json(raw) == Attempt(a.alert_id, 1764612345.123, 204, 12.3, "", "delivered")
    long = Attempt("msg_x", 1.0, 500, 3.0, "é" * 1000, "parked")
    assert Attempt.from_json(long.to_json()) == Attempt("msg_x", 1.0, 500, 3.0, "é" * 300, "parked"), "bounded"


def test_entries_of_the_previous_form_still_read_and_others_are_skipped() -> None:
    old = {"alert_id": "msg_y", "at": 2.5, "status": 0, "latency_ms": 10000.0, "error": "timed out", "outcome": "dead"}
    assert Attempt.from_json(json.dumps(old)) == Attempt("msg_y", 2.5, 0, 10000.0, "timed out", "dead")
    assert Attempt.from_json("[1, 2]") is None and Attempt.from_json("3") is None and Attempt.from_json("{") is None

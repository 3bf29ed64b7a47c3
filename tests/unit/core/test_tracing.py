"""W3C traceparent handling and timing arithmetic."""

from __future__ import annotations

import pytest

from workers.core.tracing import child, from_headers, headers, iso, new_traceparent, seconds_between, trace_id


def test_a_child_keeps_the_trace_and_changes_the_span() -> None:
    parent = new_traceparent()
    kid = child(parent)
    assert trace_id(kid) == trace_id(parent) and kid.split("-")[2] != parent.split("-")[2]


@pytest.mark.parametrize(
    "bad", [None, "", "garbage", "01-" + "a" * 32 + "-" + "b" * 16 + "-01", "00-" + "0" * 32 + "-" + "b" * 16 + "-01"]
)
def test_a_missing_or_malformed_parent_starts_a_new_trace(bad: str | None) -> None:
    assert trace_id(bad) is None
    assert trace_id(child(bad)) is not None


def test_headers_round_trip() -> None:
    tp = new_traceparent()
    assert from_headers([("other", b"x"), *headers(tp)]) == tp
    assert from_headers(None) is None and from_headers([("traceparent", None)]) is None  # type: ignore[list-item]


def test_seconds_between_timings() -> None:
    assert seconds_between("2026-12-01T08:00:00Z", "2026-12-01T08:00:05.500Z") == 5.5
    assert seconds_between(iso(0), iso(1.25)) == 1.25
    assert seconds_between(None, "2026-12-01T08:00:00Z") is None
    assert seconds_between("yesterday", "2026-12-01T08:00:00Z") is None
    assert seconds_between("2026-12-01T08:00:00", "2026-12-01T08:00:01Z") is None  # no zone: unknowable


def test_the_sampled_flag_is_kept_by_every_child() -> None:
    from workers.core.tracing import sampled

    on, off = new_traceparent(), new_traceparent(sampled=False)
    assert on.endswith("-01") and off.endswith("-00")
    assert sampled(child(child(on))) and not sampled(child(child(off)))
    assert not sampled("garbage") and sampled(child("garbage")), "a new trace after a bad parent is sampled"


def test_iso_writes_what_datetime_writes_at_every_rounding_edge() -> None:
    import random
    from datetime import UTC, datetime

    def reference(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    rnd = random.Random(7)
    instants = [rnd.uniform(0, 4e9) for _ in range(20000)]
    # microseconds round half to even before the cut to milliseconds: x.9999995 is the next second
    instants += [1764633600 + k / 1e6 + d for k in range(0, 1_000_000, 4999) for d in (0.0, 5e-7, -5e-7)]
    instants += [0.0, 1e-7, 1.9999996, 1764633600.9995, 1764633600.9999995, 253402300799.999]
    assert [iso(ts) for ts in instants] == [reference(ts) for ts in instants]
    assert iso(-1.5) == reference(-1.5), "before 1970: datetime's own answer"

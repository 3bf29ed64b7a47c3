"""W3C Trace Context across the stages, and the timings an alert carries.

The poller starts a trace per story version it produces and sends it in the record's ``traceparent`` header;
the filter and the alerter each continue it as a child (same trace id, a new span id), and the alerter sends
it on the webhook request, so a subscriber's logs and ours name the same trace. With the extra ``otel`` and
``WIREWATCH_OTLP_ENDPOINT`` set, ``workers.infra.otel`` exports spans with exactly these ids.

Timings are ISO 8601 UTC instants, one per hop, so a receiver can say how late an alert is:
``published`` (the feed's own date), ``fetched`` (first seen by the poller), ``produced`` (the story record's
Kafka timestamp), ``matched`` (the filter), ``enqueued`` and ``sent`` (the alerter).
"""

from __future__ import annotations

import math
import re
import secrets
import time
from datetime import UTC, datetime

HEADER = "traceparent"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_traceparent(sampled: bool = True) -> str:
    """A new trace; ``sampled`` is its W3C flag, which every child keeps (spans are exported only when it is set)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-{'01' if sampled else '00'}"


def sampled(traceparent: str | None) -> bool:
    """Whether a traceparent's sampled flag is set (a malformed one: no)."""
    m = _TRACEPARENT.match(traceparent or "")
    return m is not None and int(m.group(3), 16) & 1 == 1


def trace_id(traceparent: str | None) -> str | None:
    ids = parse(traceparent)
    return ids[0] if ids else None


def _valid(traceparent: str | None) -> re.Match[str] | None:
    """The match of a valid traceparent; None when missing, malformed or all zeros (invalid in W3C)."""
    m = _TRACEPARENT.match(traceparent or "")
    if not m or m.group(1) == "0" * 32 or m.group(2) == "0" * 16:
        return None
    return m


def parse(traceparent: str | None) -> tuple[str, str] | None:
    """(trace id, span id) of a valid traceparent, else None."""
    m = _valid(traceparent)
    return (m.group(1), m.group(2)) if m else None


def child(traceparent: str | None) -> str:
    """The same trace (and sampled flag) with a new span, or a new trace when the parent is missing or malformed."""
    m = _valid(traceparent)  # matched once: every alert's POST makes a child
    if not m:
        return new_traceparent()
    return f"00-{m.group(1)}-{secrets.token_hex(8)}-{'01' if int(m.group(3), 16) & 1 else '00'}"


def from_headers(headers: list[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or []:
        if key == HEADER and isinstance(value, bytes):
            return value.decode("ascii", "replace")
    return None


def headers(traceparent: str) -> list[tuple[str, bytes]]:
    return [(HEADER, traceparent.encode("ascii"))]


_MAX_TS = 253402300800  # 10000-01-01: past it a year has five digits, and datetime refuses it
_second: tuple[int, str] = (-1, "")  # the last whole second formatted: most timings fall in the same one


def iso(ts: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds, as the timings are written.

    What ``datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")`` writes (microseconds rounded
    half to even, then cut to milliseconds), with the whole second's text kept from the last call: a batch
    formats thousands of instants of the same second, and datetime cost several microseconds each."""
    global _second
    if not 0 <= ts < _MAX_TS:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    frac, whole = math.modf(ts)
    micros = round(frac * 1e6)
    sec = int(whole) + (micros >= 1_000_000)
    cached = _second
    if cached[0] != sec:
        cached = _second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    return f"{cached[1]}.{micros % 1_000_000 // 1000:03d}Z"


def seconds_between(earlier: str | None, later: str | None) -> float | None:
    """Seconds from one timing to another; None when either is missing or unreadable."""
    try:
        if not earlier or not later:
            return None
        a = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = datetime.fromisoformat(later.replace("Z", "+00:00"))
        if a.tzinfo is None or b.tzinfo is None:
            return None
        return (b - a).total_seconds()
    except ValueError:
        return None

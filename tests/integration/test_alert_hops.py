"""The matched-to-enqueued hop, on the real broker, Redis and receiver: one observation per alert (every
subscriber's), each the time from the filter's ``matched`` timing to the alert's own ``enqueued``."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from prometheus_client import REGISTRY
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.support import wait_until
from workers.core.names import Names
from workers.core.tracing import iso, seconds_between
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration

HOP = {"hop": "matched_to_enqueued"}


def hop_count() -> float:
    return REGISTRY.get_sample_value("wirewatch_hop_seconds_count", HOP) or 0.0


def test_each_alert_observes_its_events_matched_to_enqueued_hop(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    desks = [sub(f"desk{k}", f"{receiver.url}/desk{k}") for k in range(3)]  # type: ignore[attr-defined]
    matched = time.time() - 30  # the filter matched them half a minute ago
    events = [replace(match(i), timings={"matched": iso(matched)}) for i in range(4)]
    before = hop_count()
    before_sum = REGISTRY.get_sample_value("wirewatch_hop_seconds_sum", HOP) or 0.0
    with running_alerter(bootstrap, redis, names, desks, secret):
        produce(bootstrap, names, events)
        wait_until(lambda: len(receiver.received) >= 12, 30, what="4 alerts to each of 3 subscribers")
    assert hop_count() - before == 12, "one observation per alert, each subscriber's"
    for r in receiver.received:
        expected = seconds_between(iso(matched), r.json["timings"]["enqueued"])
        assert expected is not None and 30 <= expected < 60
    mean = ((REGISTRY.get_sample_value("wirewatch_hop_seconds_sum", HOP) or 0.0) - before_sum) / 12
    assert 30 <= mean < 60, "the time from matched to the alert's enqueued"

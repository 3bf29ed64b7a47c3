"""Topic spikes wired on the real broker, Redis and HTTP: story clusters (not copies) are counted per topic in
Redis, and a burst gives one ``topic.spike`` to the subscriber with ``spikes: true``, none to the others and
none again while the burst goes on. The detector's statistics (simulated weeks) are tested in
tests/unit/alerter/test_spikes.py."""

from __future__ import annotations

import json

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.schema_support import validator
from tests.support import wait_until
from workers.alerter import spikes
from workers.core.names import Names
from workers.devstack.receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]


def test_a_burst_of_clusters_gives_one_spike(secret: str, names: Names, bootstrap: str, redis: Redis) -> None:
    receiver = Receiver(secret=secret)
    port = receiver.start()
    watcher = sub("watcher", f"http://127.0.0.1:{port}/watcher", spikes=True)
    desk = sub("desk", f"http://127.0.0.1:{port}/desk")

    def of(kind: str) -> list[dict]:  # type: ignore[type-arg]
        return [r.json for r in receiver.unique().values() if r.json["type"] == kind]

    copies = [match(900 + i, text="Pyongyang said it again.", title="North Korea repeats") for i in range(8)]
    try:
        with running_alerter(bootstrap, redis, names, [watcher, desk], secret) as alerter:
            # copies of one story (other URLs, the same words) are one cluster: no burst, however many
            alerter.spikes.clock = lambda: 1_800_000_001.0  # one window throughout (windows start on the hour)
            produce(bootstrap, names, copies)
            wait_until(lambda: alerter.totals["duplicates"] >= 14, 30, what="the copies seen")
            state = json.loads(redis.get(names.topic_spikes("dprk")) or b"{}")
            assert spikes.TopicState.from_json(state["state"]).count == 1, "8 copies count as 1 cluster"
            produce(bootstrap, names, [match(i) for i in range(12)])  # 12 distinct stories in the window
            wait_until(lambda: len(of("story.matched")) >= 2 * 13, 30, what="the distinct stories' alerts")
            wait_until(lambda: len(of("topic.spike")) >= 1, 30, what="the spike")
            produce(bootstrap, names, [match(i) for i in range(20, 26)])  # the burst goes on: no second spike
            wait_until(lambda: len(of("story.matched")) >= 2 * 19, 30, what="more alerts")
            assert not alerter.loop_errors
        (spike,) = of("topic.spike")
        validator("topic.spike.schema.json").validate(spike)
        assert spike["subscriber"] == "watcher" and spike["topic"] == "dprk"
        # a young topic spikes at the floor of 5 clusters, decided per batch (the 12 may come in one)
        assert spikes.SpikeParams().min_count <= spike["count"] <= 13
        assert spike["stories"][0]["id"] in {c.story.id for c in copies} and len(spike["stories"]) == min(
            spike["count"], 10
        )
        assert all(r.verified for r in receiver.received)
    finally:
        receiver.stop()

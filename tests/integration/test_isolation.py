"""Isolation on real servers: a subscriber whose endpoint answers 2xx after 5 s, one whose endpoint hangs and one
that answers 500 sit next to a healthy one. The healthy subscriber's p99 delivery latency stays within 1.5x of
its p99 alone, and the consumer group never rebalances (the batch waits for no endpoint)."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from redis import Redis

from tests.alerter_support import match, running_alerter, sub
from tests.support import wait_until
from workers.core.names import Names
from workers.devstack.receiver import Received, Receiver
from workers.infra.kafka import make_producer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 120
RATE = 30.0  # matches per second, one at a time, so each has its own latency


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def generation(alerter: object) -> int:
    """The consumer group generation this alerter's consumer joined: it changes on every rebalance."""
    return int(alerter.consumer._coordinator._generation.generation_id)  # type: ignore[attr-defined]


def healthy_latencies(
    bootstrap: str, redis: Redis, names: Names, secret: str, receiver: Receiver, neighbours: list[str], first: int
) -> tuple[list[float], list[int], list[BaseException]]:
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def respond(rec: Received) -> int:
        name = rec.path.strip("/")
        if name == "healthy":
            with lock:
                arrived.setdefault(rec.json["story"]["id"], time.monotonic())
            return 204
        if name == "slow":
            time.sleep(5)
            return 204
        if name == "hang":
            time.sleep(9)  # past the delivery timeout: the alerter gives up first
            return 204
        return 500

    receiver.respond = respond
    url = receiver.url  # type: ignore[attr-defined]
    subs = [sub(n, f"{url}/{n}") for n in ["healthy", *neighbours]]
    producer = make_producer(bootstrap, "test-isolation")
    generations: list[int] = []
    settings = {"delivery_timeout": 6.0, "retry_schedule": [0.5, 1.0, 2.0]}
    try:
        # a poll interval of 10 s: an alerter whose batch waited on the 5 s endpoint would be thrown out
        with running_alerter(
            bootstrap, redis, names, subs, secret, kafka_settings={"max_poll_interval_ms": 10000}, **settings
        ) as alerter:
            warm = match(first - 1)  # the group join and first delivery are no latency of the stream
            producer.send(names.matches, key=warm.story.id.encode(), value=warm.to_json()).get(10)
            wait_until(lambda: warm.story.id in arrived, 60, what="the warm-up alert")
            generations.append(generation(alerter))
            for i in range(first, first + N):
                event = match(i)
                sent[event.story.id] = time.monotonic()
                producer.send(names.matches, key=event.story.id.encode(), value=event.to_json()).get(10)
                time.sleep(1 / RATE)
            wait_until(lambda: all(s in arrived for s in sent), 60, what="every healthy alert")
            generations.append(generation(alerter))
            errors = list(alerter.loop_errors)  # type: ignore[attr-defined]
    finally:
        producer.close()
    return [arrived[s] - sent[s] for s in sent], generations, errors


def test_a_slow_a_hanging_and_a_failing_endpoint_do_not_delay_a_healthy_one(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    alone, gen_alone, _ = healthy_latencies(bootstrap, redis, names, secret, receiver, [], 1000)
    crowded, gens, errors = healthy_latencies(bootstrap, redis, names, secret, receiver, ["slow", "hang", "fail"], 2000)
    print(f"healthy p99 alone={p99(alone) * 1000:.1f} ms with neighbours={p99(crowded) * 1000:.1f} ms")
    assert p99(crowded) <= 1.5 * p99(alone), (p99(alone), p99(crowded))
    assert gens[0] == gens[1] and not errors, "the group never rebalanced and no batch failed"
    assert len(crowded) == len(alone) == N

"""Delivery on real servers: four misbehaving receivers next to a healthy one, the retry schedule,
dead-lettering, endpoint disabling, re-enabling and replay."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.support import read_topic, wait_until
from workers.core.names import Names
from workers.devstack.receiver import Received, Receiver

pytestmark = pytest.mark.integration


def by_path(receiver: Receiver, name: str) -> list[Received]:
    return [r for r in list(receiver.received) if r.path == f"/{name}"]


def dead_letters(bootstrap: str, names: Names, expect: int) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in read_topic(bootstrap, names.alerts_dlq, expect, timeout=40)]


def test_each_bad_receiver_gets_its_behaviour_and_the_healthy_one_is_on_time(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    attempts: dict[str, int] = {}
    healthy_at: list[float] = []
    first_request_at: list[float] = []

    def respond(rec: Received) -> int:
        first_request_at.append(time.monotonic())
        name = rec.path.strip("/")
        attempts[name] = attempts.get(name, 0) + 1
        if name == "hang":
            time.sleep(5)
        if name == "slow":
            time.sleep(0.5)
        if name == "healthy":
            healthy_at.append(time.monotonic())
        return {"fail": 500, "gone": 410}.get(name, 204)

    receiver.respond = respond
    names_ = ["healthy", "hang", "fail", "gone", "slow"]
    subs = [sub(n, f"{receiver.url}/{n}") for n in names_]  # type: ignore[attr-defined]
    n = 8
    with running_alerter(bootstrap, redis, names, subs, secret):
        produce(bootstrap, names, [match(i) for i in range(n)])
        wait_until(lambda: len(by_path(receiver, "healthy")) >= n, 30, what="healthy alerts")
        # From the first delivery of the stream (not from produce: the consumer group join is no delivery).
        healthy_done = healthy_at[-1] - first_request_at[0]
        wait_until(lambda: len(by_path(receiver, "slow")) >= n, 30, what="slow alerts")
        letters = dead_letters(bootstrap, names, 3 * n)  # waits until hang, fail and gone are all settled
    by_sub: dict[str, list[str]] = {}
    for d in letters:
        by_sub.setdefault(d["payload"]["subscriber"], []).append(d["reason"])
    assert len(by_path(receiver, "healthy")) == n and len(by_path(receiver, "slow")) == n
    # the healthy subscriber was not held by the hanging one: all 8 arrived before the first hung request could end
    assert healthy_done < 5, healthy_done
    assert sorted(by_sub) == ["fail", "gone", "hang"]
    assert all("gave up" in r for r in by_sub["fail"]) and len(by_sub["fail"]) == n
    assert all("gave up" in r or "timed out" in r for r in by_sub["hang"]) and len(by_sub["hang"]) == n
    # attempts already in flight (concurrency 4) when the first 410 came back may get a 410 too; no more after
    gone = attempts["gone"]
    assert 1 <= gone <= 4 and sum("410" in r for r in by_sub["gone"]) == gone and len(by_sub["gone"]) == n
    assert by_sub["gone"].count("endpoint disabled") == n - gone
    assert redis.hexists(names.endpoint("gone"), "disabled_at")
    assert not redis.hexists(names.endpoint("fail"), "disabled_at")
    # 500: the first attempt of some alerts plus the schedule's three retries each, never more
    assert attempts["fail"] <= 4 * n

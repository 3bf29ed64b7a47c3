"""A lane's workers on the real Redis and a real receiver: a backlog goes out in queue order, never more than
``concurrency`` POSTs at once and that many when there is a backlog, and the workers end once the line is empty
(a busy lane's workers go from one item to the next rather than starting a task per attempt)."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from tests.alerter_support import InFlight, match, running_alerter, sub
from tests.support import wait_until
from workers.alerter.dedup import alert_id
from workers.alerter.outbox import Item, Outbox
from workers.alerter.worker import build_alert
from workers.core.names import Names
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration


def queue_backlog(redis: Redis, names: Names, name: str, url: str, n: int, concurrency: int) -> list[str]:
    subscriber = sub(name, url, concurrency=concurrency)
    outbox = Outbox(redis, names, 3600)
    now = time.time()
    ids = []
    for i in range(n):  # due times 1 ms apart: the queue's order is this list's
        aid = alert_id(name, f"story-{i}")
        outbox.put(Item(aid, name, build_alert(subscriber, match(i), aid, 100), queued_at=now), due=now + i * 1e-3)
        ids.append(aid)
    return ids


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_backlog_goes_out_in_queue_order_at_the_lanes_concurrency(
    concurrency: int, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    in_flight = InFlight(0.05)
    receiver = Receiver(secret=secret, respond=in_flight)
    port = receiver.start()
    try:
        n = 30
        desk = sub("desk", f"http://127.0.0.1:{port}/desk", concurrency=concurrency)
        ids = queue_backlog(redis, names, "desk", desk.url, n, concurrency)
        with running_alerter(bootstrap, redis, names, [desk], secret) as alerter:
            wait_until(lambda: len(receiver.received) >= n, 30, what=f"all {n} alerts")
            wait_until(lambda: redis.zcard(names.outbox_queue("desk")) == 0, 10, what="every item settled")
            lane = alerter.lanes["desk"]
            wait_until(lambda: lane.idle.is_set() and not lane._tasks, 5, what="the workers ended")
            assert lane.running == 0
    finally:
        receiver.stop()
    got = [r.webhook_id for r in receiver.received]
    assert sorted(got) == sorted(ids) and len(got) == n, "each alert once"
    assert in_flight.most == concurrency, "a backlog keeps the lane's concurrency busy, and never more"
    if concurrency == 1:
        assert got == ids, "one at a time: exactly the queue's order"

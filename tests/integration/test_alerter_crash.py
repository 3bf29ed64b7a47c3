"""No loss, no unmarked repeats: kill -9 of the alerter at random moments over 1,000 matches, and a
Redis restart (AOF persistence on) mid-stream. Real broker, Redis, receivers and daemon processes.

The two kill -9 tests also run on a 3-primary Redis Cluster (``redis_cluster``): there each subscriber's
outbox, the cluster index and the cluster records are on different slots, and a batch's pipelines are sent in
pieces, one per primary, so a kill can fall between them. The Redis-restart test restarts one standalone
server of its own."""

from __future__ import annotations

import random
import time

import pytest
from redis import Redis

from tests.alerter_support import InFlight, desk_config, match, produce, running_alerter, sub
from tests.support import wait_until
from workers.core.names import Names
from workers.devstack.receiver import Receiver
from workers.devstack.stack import EmbeddedRedis, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def assert_once_in_effect(receiver: Receiver, n: int) -> None:
    ids_by_story: dict[str, set[str]] = {}
    for rec in list(receiver.received):
        ids_by_story.setdefault(rec.json["story"]["id"], set()).add(rec.webhook_id)
    assert set(ids_by_story) == {f"story-{i}" for i in range(n)}, "every expected alert arrived"
    assert all(len(ids) == 1 for ids in ids_by_story.values()), "a repeat carries the same webhook-id"


@pytest.mark.redis_cluster
def test_kill_9_at_random_moments_over_1000_matches(
    secret: str, make_config, daemons, names: Names, bootstrap: str
) -> None:  # type: ignore[no-untyped-def]
    n = 1000

    def slowish(_r: object) -> int:
        time.sleep(0.01)  # keeps the 1,000 in flight across the kills, however fast the alerter gets
        return 204

    receiver = Receiver(secret=secret, respond=slowish)
    port = receiver.start()
    try:
        cfg = desk_config(make_config, f"http://127.0.0.1:{port}/desk", kafka={"max_poll_records": 40})
        produce(bootstrap, names, [match(i) for i in range(n)])
        rnd = random.Random()
        kills_mid_stream = 0
        for _ in range(3):
            d = daemons("alert", cfg)
            before = len(receiver.unique())
            wait_until(lambda before=before: len(receiver.unique()) >= min(before + 20, n), 60, what="progress")
            time.sleep(rnd.uniform(0.0, 0.6))
            d.kill()
            if len(receiver.unique()) >= n:
                break
            kills_mid_stream += 1
        assert kills_mid_stream >= 1, "at least one kill happened mid-stream"
        daemons("alert", cfg)
        wait_until(lambda: len(receiver.unique()) >= n, 90, what=f"all {n} alerts")
        time.sleep(0.5)
    finally:
        receiver.stop()
    assert_once_in_effect(receiver, n)


def test_redis_restart_mid_stream_loses_nothing(secret: str, names: Names, bootstrap: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    n = 300
    server = EmbeddedRedis(free_port(), tmp_path / "redis.log", tmp_path, appendonly=True)
    server.start()
    redis = Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)

    def slowish(_r: object) -> int:
        time.sleep(0.005)
        return 204

    receiver = Receiver(secret=secret, respond=slowish)
    port = receiver.start()
    try:
        with running_alerter(bootstrap, redis, names, [sub("desk", f"http://127.0.0.1:{port}/desk")], secret):
            produce(bootstrap, names, [match(i) for i in range(n)])
            wait_until(lambda: len(receiver.unique()) >= 50, 60, what="the first alerts")
            server.stop()  # SIGTERM: the AOF is flushed, as on a planned restart
            assert len(receiver.unique()) < n, "the restart happens mid-stream"
            time.sleep(1.0)
            server.start()
            wait_until(lambda: len(receiver.unique()) >= n, 90, what=f"all {n} alerts")
            time.sleep(0.5)
    finally:
        receiver.stop()
        redis.close()
        server.stop()
    assert_once_in_effect(receiver, n)


@pytest.mark.redis_cluster
def test_kill_9_while_lanes_hold_leased_items(  # type: ignore[no-untyped-def]
    secret: str, make_config, daemons, names: Names, bootstrap: str, redis: Redis
) -> None:
    """Items a lane has taken (leased, POST in progress) when the alerter dies fall due again when their leases
    end and go out under the same webhook-id; the rest of the queue follows; nothing is lost."""
    n = 24
    in_progress = InFlight(0.8)
    receiver = Receiver(secret=secret, respond=in_progress)
    port = receiver.start()
    try:
        cfg = desk_config(make_config, f"http://127.0.0.1:{port}/desk", alerter={"delivery_timeout": 2})
        first = daemons("alert", cfg)
        produce(bootstrap, names, [match(i) for i in range(n)])
        queue = names.outbox_queue("desk")
        wait_until(lambda: in_progress.now >= 4, 60, what="four POSTs in progress")
        leased = {m.decode() for m, due in redis.zrange(queue, 0, -1, withscores=True) if due > time.time()}
        first.kill()
        assert len(leased) >= 4, "the lane held leased items when it was killed"
        assert redis.zcard(queue) > 4, "and more were waiting in the queue"
        daemons("alert", cfg)
        wait_until(lambda: len(receiver.unique()) >= n, 90, what=f"all {n} alerts")
        # the killed lane's items are settled only once their leases ran out and they were sent again
        wait_until(lambda: redis.zcard(queue) == 0, 60, what="the queue settled")
        time.sleep(0.5)
    finally:
        receiver.stop()
    assert_once_in_effect(receiver, n)
    assert leased <= set(receiver.unique()), "every leased item was delivered, under its own webhook-id"
    assert in_progress.most <= 4 + len(leased), "one lane's concurrency at a time (plus the killed one's)"
    assert redis.hlen(names.outbox_items("desk")) == 0

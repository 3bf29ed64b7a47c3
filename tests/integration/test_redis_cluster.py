"""Redis Cluster for the poller and the commands, on a real 3-primary cluster: the client make_redis builds,
every pipeline of a poll cycle in one hash slot, and a poll cycle's keys spread over the cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from redis.cluster import RedisCluster
from redis.crc import key_slot

from tests.redis_cluster import SlotAudit
from tests.support import rss
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.infra.lifecycle import Stopper
from workers.infra.redis import RedisClient, RedisProbe, make_redis
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller
from workers.settings.config import Feed, PollerSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(redis_cluster_url: str) -> Iterator[RedisClient]:
    client = make_redis(redis_cluster_url, 2.5)
    client.flushdb()
    yield client
    client.close()


def test_a_cluster_url_gives_a_cluster_client_with_the_timeouts(redis_cluster_url: str) -> None:
    client = make_redis(redis_cluster_url, 2.5)
    try:
        assert isinstance(client, RedisCluster)
        primaries = client.get_primaries()
        assert len(primaries) == 3
        for node in primaries:
            kwargs = node.redis_connection.connection_pool.connection_kwargs
            assert kwargs["socket_timeout"] == 2.5 and kwargs["socket_connect_timeout"] == 2.5
        # a URL naming one seed node is enough: the client learns the others
        one = make_redis(redis_cluster_url.split(",")[0], 2.5)
        assert len(one.get_primaries()) == 3
        one.close()
        assert RedisProbe(redis_cluster_url)() is True
    finally:
        client.close()


def test_the_audit_sees_a_cross_slot_pipeline(cluster: RedisClient) -> None:
    with SlotAudit() as audit, cluster.pipeline(transaction=False) as pipe:
        pipe.set("{a}:x", 1)
        pipe.set("{b}:x", 1)
        pipe.execute()
    assert audit.cross_slot() == [{key_slot(b"{a}:x"), key_slot(b"{b}:x")}]


def test_every_pipeline_of_a_poll_cycle_touches_one_slot(
    cluster: RedisClient, producer: KafkaProducer, feed_server: FeedServer, names: Names
) -> None:
    """redis-py would split a cross-slot pipeline per node without a word; the audit says if one is built."""
    items = [
        {"title": f"S{i}", "link": f"http://127.0.0.1/s/{i}", "guid": f"g{i}", "description": "b"} for i in range(5)
    ]
    feeds = []
    for i in range(12):
        feed_server.routes[f"/f{i}.xml"] = Route(rss(items))
        feeds.append(Feed(name=f"f{i}", url=feed_server.url(f"/f{i}.xml"), interval=60))
    feed_server.routes["/gone.xml"] = Route(b"", status=410)
    feeds.append(Feed(name="gone", url=feed_server.url("/gone.xml")))
    poller = Poller(feeds, producer, cluster, feed_client(4), names, PollerSettings(fetch_timeout=2), Stopper())
    try:
        with SlotAudit() as audit:
            outcomes = poller.run_cycle()
            poller.health.get_many(list(poller.feeds))
            poller.health.enable("gone")
        assert sum(o.new for o in outcomes) == 60 and len(outcomes) == 13
        assert len(audit.pipelines) >= 26, "seen checks and marks per feed, state and outcomes per batch"
        assert audit.cross_slot() == [], audit.cross_slot()
        # the seen marks spread over the cluster feed by feed: not all on one primary
        seen_slots = {key_slot(names.seen(f.url, "x").encode()) for f in feeds}
        nodes = {cluster.nodes_manager.get_node_from_slot(slot).name for slot in seen_slots}
        assert len(nodes) >= 2, nodes
        # the second cycle: every feed answers 304 to the validators stored with the outcomes
        for f in feeds:
            poller.schedule.reschedule(f.name, 0)
        with SlotAudit() as audit:
            again = poller.run_cycle()
        assert {o.status for o in again if o.feed != "gone"} == {304} and audit.cross_slot() == []
    finally:
        poller.close()
        poller.http.close()

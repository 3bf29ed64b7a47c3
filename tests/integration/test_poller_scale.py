"""No loss and scale-out with real processes: a broker frozen by SIGSTOP during a poll, and two poller
daemons sharing one feed list, one of them killed with SIGKILL."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.support import Daemon, read_topic, rss, wait_until
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.stack import EmbeddedBroker, free_port
from workers.infra.kafka import ensure_topics, make_producer, send_all, topic_specs
from workers.infra.lifecycle import Stopper
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller, PollOutcome
from workers.settings.config import Feed, KafkaSettings, PollerSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def items(start: int, stop: int) -> list[dict[str, str]]:
    return [
        {"title": f"Story {i}", "link": f"http://127.0.0.1/s/{i}", "guid": f"g{i}", "description": f"b{i}"}
        for i in range(start, stop)
    ]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker only this test freezes, so the session's broker is never paused."""
    broker = EmbeddedBroker(free_port(), tmp_path / "broker.log")
    broker.start()
    yield broker
    broker.resume()
    broker.stop()


def test_broker_frozen_during_a_poll_loses_nothing(
    own_broker: EmbeddedBroker, feed_server: FeedServer, redis: Redis, names: Names
) -> None:
    ensure_topics(own_broker.bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    producer = make_producer(own_broker.bootstrap, "test-sigstop")
    send_all(producer, [(names.stories, b"warm-up", b"{}")])  # metadata known before the freeze
    feed_server.routes["/a.xml"] = Route(rss(items(0, 3)))
    feed = Feed(name="a", url=feed_server.url("/a.xml"))
    poller = Poller([feed], producer, redis, feed_client(4), names, PollerSettings(fetch_timeout=2), Stopper())
    try:
        own_broker.pause()
        result: list[PollOutcome] = []
        worker = threading.Thread(target=lambda: result.append(poller.poll_feed(feed)))
        worker.start()
        time.sleep(2)  # the poll is stuck waiting for Kafka's acknowledgement
        assert not list(redis.scan_iter(match=names.seen(feed.url, "*"))), "nothing is marked seen before Kafka acked"
        own_broker.resume()
        worker.join(90)
        feed_server.routes["/a.xml"] = Route(rss(items(0, 5)))  # two more stories after the broker came back
        poller.poll_feed(feed)
        if result[0].error:  # the frozen poll gave up: the stories come again with the same keys
            poller.poll_feed(feed)
        records = [r for r in read_topic(own_broker.bootstrap, names.stories, 6) if r.key != b"warm-up"]
        keys = [r.key for r in records]
        assert len(set(keys)) == 5, f"every story delivered: {len(set(keys))} distinct of 5"
        assert len(keys) == 5 or result[0].error, "repeats only when a poll failed and was retried"
    finally:
        poller.close()
        poller.http.close()
        producer.close()


@pytest.mark.redis_cluster  # the shared schedule's leases on a Redis Cluster too
def test_two_pollers_share_feeds_and_take_over_from_a_killed_one(
    feed_server: FeedServer, make_config: Callable[..., Path], daemons: Callable[..., Daemon]
) -> None:
    interval = 2.0
    for i in range(4):
        feed_server.routes[f"/f{i}.xml"] = Route(rss(items(i * 10, i * 10 + 2)))
    feed_server.routes["/f3.xml"].delay = 0.8  # a slow feed, likely mid-poll when a poller dies
    feeds = [{"name": f"f{i}", "url": feed_server.url(f"/f{i}.xml"), "interval": interval} for i in range(4)]
    config = make_config(feeds, settings={"poller": {"lease_seconds": 3, "concurrency": 2, "fetch_timeout": 2}})
    seen: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def stamp() -> None:
        with lock:
            for path, _ in feed_server.requests[sum(len(v) for v in seen.values()) :]:
                seen[path].append(time.monotonic())

    first, second = daemons("poll", config), daemons("poll", config)
    wait_until(lambda: (stamp(), all(len(seen[f"/f{i}.xml"]) >= 3 for i in range(4)))[1], 40, what="3 polls each")
    first.kill()
    killed_at = time.monotonic()
    wait_until(
        lambda: (stamp(), all(any(t > killed_at + 3 for t in seen[f"/f{i}.xml"]) for i in range(4)))[1],
        30,
        what="the survivor polling every feed after the lease ran out",
    )
    stamp()
    for path, times in seen.items():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) > interval * 0.75, f"{path} polled twice within one interval: gaps {gaps}"
    assert "new stories" in first.output() + second.output()

"""The poller's politeness decisions against real local HTTP servers, a real broker and a real Redis:
Retry-After, Cache-Control max-age, 301 moving the stored URL, 410 disabling, health recorded;
the good feed keeps flowing through all of it."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from redis import Redis

from tests.support import rss
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.infra.kafka import ensure_topics, make_producer, topic_specs
from workers.infra.lifecycle import Stopper
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller, next_delay, polite_delay
from workers.settings.config import Feed, KafkaSettings, PollerSettings

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]  # also on a Redis Cluster

ITEMS = [{"title": f"S{i}", "link": f"http://127.0.0.1/s/{i}", "description": f"b{i}"} for i in range(2)]


@pytest.fixture
def poller_factory(bootstrap: str, redis: Redis, names: Names) -> Iterator:  # type: ignore[type-arg]
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    producer: KafkaProducer = make_producer(bootstrap, "test-poller-faults")
    made: list[Poller] = []

    def make(feeds: list[Feed]) -> Poller:
        settings = PollerSettings(fetch_timeout=1.0, max_body_bytes=100_000, max_backoff=7200)
        p = Poller(feeds, producer, redis, feed_client(4), names, settings, Stopper())
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
        p.http.close()
    producer.close()


def test_politeness_and_health(feed_server: FeedServer, poller_factory, redis: Redis) -> None:  # type: ignore[no-untyped-def]
    feed_server.routes["/good.xml"] = Route(rss(ITEMS), headers={"cache-control": "max-age=900"})
    feed_server.routes["/busy.xml"] = Route(b"slow down", status=429, headers={"retry-after": "1800"})
    feed_server.routes["/gone.xml"] = Route(b"", status=410)
    feed_server.routes["/old.xml"] = Route(b"", status=301, headers={"location": "/new.xml"})
    feed_server.routes["/new.xml"] = Route(rss([{**ITEMS[0], "link": "http://127.0.0.1/moved"}]))
    feeds = [Feed(name=n, url=feed_server.url(f"/{n}.xml"), interval=60) for n in ("good", "busy", "gone", "old")]
    poller = poller_factory(feeds)
    out = {o.feed: o for o in poller.run_cycle()}

    assert out["good"].new == 2 and out["good"].next_in >= 900, "max-age 900 > interval 60 delays the next poll"
    assert out["busy"].error and out["busy"].next_in >= 1800, "Retry-After honoured"
    assert poller.health.get("busy").consecutive_errors == 1
    assert out["gone"].status == 410 and math.isinf(poller.schedule.due_times()["gone"])
    assert poller.health.get("gone").state == "disabled"
    assert out["old"].new == 1 and poller.health.get("old").moved_to == feed_server.url("/new.xml")

    # Everything is due again (as if time passed): the moved feed is fetched at its new URL, the gone one never.
    for name in ("good", "busy", "old"):
        poller.schedule.reschedule(name, 0)
    feed_server.requests.clear()
    out = {o.feed: o for o in poller.run_cycle()}
    paths = [path for path, _ in feed_server.requests]
    assert "/new.xml" in paths and "/old.xml" not in paths and "/gone.xml" not in paths
    assert out["good"].status == 304 and out["good"].new == 0, "validators sent, nothing new"
    assert poller.health.get("busy").consecutive_errors == 2
    assert {h.name: h.state for h in poller.health.get_many(["good", "busy", "gone", "old"])} == {
        "good": "ok",
        "busy": "failing",
        "gone": "disabled",
        "old": "ok",
    }


def test_registration_keeps_due_times_and_drops_removed_feeds(poller_factory, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    a, b = (Feed(name=n, url=feed_server.url(f"/{n}.xml")) for n in ("a", "b"))
    first = poller_factory([a, b])
    first.schedule.register(["a", "b"], now=100.0)
    first.schedule.reschedule("a", 5000.0)
    first.schedule.register(["a"], now=200.0)  # a restart with b removed from the config
    assert first.schedule.due_times() == {"a": 5000.0}
    assert first.schedule.claim(10, now=4000.0) == [] and first.schedule.claim(10, now=5000.0) == ["a"]
    assert first.schedule.claim(10, now=5000.0) == [], "a leased feed is not due for anyone else"


@pytest.mark.parametrize(
    "delay,floor,ceiling,expected",
    [(60, None, 3600, 60), (60, 900, 3600, 900), (60, 99999, 3600, 3600), (600, 30, 3600, 600)],
)
def test_polite_delay(delay: float, floor: float | None, ceiling: float, expected: float) -> None:
    assert polite_delay(delay, floor, ceiling) == expected


def test_backoff_ceiling_is_a_setting() -> None:
    rand = random.Random(1)
    assert all(next_delay(60, 30, rand, max_backoff=600) <= 660 for _ in range(20))
    assert all(next_delay(7200, 1, rand, max_backoff=600) >= 6480 for _ in range(20)), "never below the interval"

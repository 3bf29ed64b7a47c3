"""Upgrading the poller from the layout without hash tags, on a live Redis: due times, disabled feeds, health
and validators move to the {feeds} keys on start, the old seen marks are honoured for one retention window."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer
from redis import Redis

from tests.support import read_topic, rss
from workers.core.names import Names
from workers.core.stories import story_id
from workers.devstack.feedserver import FeedServer, Route
from workers.infra.lifecycle import Stopper
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller
from workers.settings.config import Feed, PollerSettings

pytestmark = pytest.mark.integration

DAY = 86400


def items(n: int) -> list[dict[str, str]]:
    return [
        {"title": f"S{i}", "link": f"http://127.0.0.1/s/{i}", "guid": f"g{i}", "description": "b"} for i in range(n)
    ]


def make_poller(feeds: list[Feed], producer: KafkaProducer, redis: Redis, names: Names) -> Poller:
    settings = PollerSettings(fetch_timeout=2, seen_retention_hours=24)
    return Poller(feeds, producer, redis, feed_client(4), names, settings, Stopper())


def test_the_old_layout_is_migrated_on_start_and_old_seen_marks_are_read_for_one_window(
    feed_server: FeedServer, producer: KafkaProducer, redis: Redis, names: Names, bootstrap: str
) -> None:
    now = time.time()
    for name in ("later", "cached", "off", "fresh"):
        feed_server.routes[f"/{name}.xml"] = Route(rss(items(3)))
    feeds = {n: Feed(name=n, url=feed_server.url(f"/{n}.xml")) for n in ("later", "cached", "off", "fresh")}
    # What the previous version left: its schedule, health, validators and seen marks, with their expiries.
    redis.zadd(names.legacy_feed_schedule, {"later": now + 900, "cached": 0, "off": "+inf", "fresh": 0, "gone": 0})
    redis.hset(names.legacy_feed_health("later"), mapping={"last_success": now - 60, "last_new": 4})
    redis.expire(names.legacy_feed_health("later"), 7 * DAY)
    redis.hset(names.legacy_feed_health("off"), mapping={"disabled": "HTTP 410 Gone", "next_poll": "inf"})
    redis.hset(names.legacy_validators(feeds["cached"].url), mapping={"etag": feed_server.routes["/cached.xml"].etag})
    redis.expire(names.legacy_validators(feeds["cached"].url), DAY)
    fresh_ids = [story_id(feeds["fresh"].url, f"g{i}", None, f"S{i}", None) for i in range(4)]
    for sid in fresh_ids[:2]:
        redis.set(names.legacy_seen(sid), 1, ex=DAY)
    redis.set(names.legacy_seen(fresh_ids[3]), 1, ex=DAY)  # a story the feed will only carry later

    poller = make_poller(list(feeds.values()), producer, redis, names)
    try:
        out = {o.feed: o for o in poller.run_cycle()}
        assert set(out) == {"cached", "fresh"}, "'later' keeps its due time, 'off' stays disabled"
        assert out["cached"].status == 304, "the old validators were sent"
        assert out["fresh"].new == 1, "two of its three stories were marked seen by the previous version"
        assert poller.schedule.due_times()["later"] == pytest.approx(now + 900)
        assert poller.health.get("later").last_new == 4 and 0 < redis.ttl(names.feed_health("later")) <= 7 * DAY
        assert poller.health.get("off").state == "disabled"
        assert "gone" not in poller.schedule.due_times(), "feeds no longer configured are dropped as before"
        for old in (
            names.legacy_feed_schedule,
            names.legacy_feed_health("later"),
            names.legacy_validators(feeds["cached"].url),
        ):
            assert not redis.exists(old), old
        assert redis.exists(names.legacy_seen(fresh_ids[0])), "old seen marks stay until they expire"
        until = poller.legacy_seen_until
        assert now + 24 * 3600 - 5 < until < time.time() + 24 * 3600 + 5

        restarted = make_poller(list(feeds.values()), producer, redis, names)
        restarted.run_once()
        assert restarted.legacy_seen_until == until, "the window is set once, not moved by a restart"
        restarted.close()
        restarted.http.close()

        # Within the window a story seen only under its old key is not new; after it, old marks are not read.
        feed_server.routes["/fresh.xml"] = Route(rss(items(4)))
        poller.schedule.reschedule("fresh", 0)
        assert {o.feed: o.new for o in poller.run_cycle()}["fresh"] == 0
        poller.legacy_seen_until = time.time() - 1  # (by then the old marks have expired in any case)
        feed_server.routes["/fresh.xml"] = Route(rss(items(5)))  # a change, so no 304
        poller.schedule.reschedule("fresh", 0)
        # g4 only: g0, g1 and g3, read under their old keys in the window, were marked again in the new layout
        assert {o.feed: o.new for o in poller.run_cycle()}["fresh"] == 1
        assert len(read_topic(bootstrap, names.stories, 2)) == 2
    finally:
        poller.close()
        poller.http.close()


def test_a_new_install_reads_no_old_keys(
    feed_server: FeedServer, producer: KafkaProducer, redis: Redis, names: Names
) -> None:
    feed_server.routes["/a.xml"] = Route(rss(items(2)))
    poller = make_poller([Feed(name="a", url=feed_server.url("/a.xml"))], producer, redis, names)
    try:
        assert poller.run_cycle()[0].new == 2
        assert poller.legacy_seen_until == 0 and not redis.exists(names.feeds_layout)
    finally:
        poller.close()
        poller.http.close()

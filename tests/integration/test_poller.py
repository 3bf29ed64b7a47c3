"""The poller against real feeds on a local HTTP server, a real broker and a real Redis."""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaProducer
from redis import Redis

from tests.support import read_topic, rss
from workers.core.names import Names
from workers.core.stories import Story
from workers.devstack.feedserver import Route
from workers.infra import metrics
from workers.infra.lifecycle import Stopper
from workers.poller.decisions import version_hash
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller, next_delay
from workers.settings.config import Feed, PollerSettings

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]  # also on a Redis Cluster

ITEMS = [
    {
        "title": f"Story {i}",
        "link": f"http://127.0.0.1/s/{i}",
        "guid": f"g{i}",
        "description": f"<p>Body <b>{i}</b> &amp; more<script>alert(1)</script></p>",
    }
    for i in range(3)
]


def make_poller(feed_list: list[Feed], producer: KafkaProducer, redis: Redis, names: Names) -> Poller:
    return Poller(
        feed_list,
        producer,
        redis,
        feed_client(4),
        names,
        PollerSettings(fetch_timeout=1.0, max_body_bytes=100_000),
        Stopper(),
    )


def test_new_stories_once_then_conditional_get(feed_server, producer, redis, names, bootstrap):  # type: ignore[no-untyped-def]
    feed_server.routes["/a.xml"] = Route(rss(ITEMS))
    poller = make_poller([Feed(name="a", url=feed_server.url("/a.xml"))], producer, redis, names)
    assert poller.poll_feed(poller.feeds["a"]).new == 3
    assert poller.poll_feed(poller.feeds["a"]).new == 0
    assert feed_server.requests[-1][1].get("if-none-match") == feed_server.routes["/a.xml"].etag, "validators were sent"
    # The feed changes: the new entry is produced, and the edited old one as its version 2 (same id).
    edited = [dict(ITEMS[0], description="edited body"), *ITEMS[1:], {**ITEMS[0], "guid": "g9", "title": "New"}]
    feed_server.routes["/a.xml"] = Route(rss(edited))
    assert poller.poll_feed(poller.feeds["a"]).new == 2
    feed_server.routes["/a.xml"] = Route(rss(edited) + b" ")  # a new body, the same entries: nothing new
    assert poller.poll_feed(poller.feeds["a"]).new == 0
    records = read_topic(bootstrap, names.stories, 5)
    assert len(records) == 5
    story = json.loads(records[0].value)
    assert story["schema"] == 1 and records[0].key.decode() == story["id"]
    g0 = [json.loads(r.value) for r in records if json.loads(r.value)["guid"] == "g0"]
    assert [v["version"] for v in g0] == [1, 2] and g0[0]["id"] == g0[1]["id"]
    assert g0[0]["text"] == "Body 0 & more" and "<script>" not in g0[0]["text"], "clean text, scripts dropped"
    assert g0[1]["text"] == "edited body" and g0[1]["previous_hash"] == version_hash(Story.from_dict(g0[0]))
    poller.close()
    poller.http.close()


def test_a_mark_of_the_layout_before_versions_is_upgraded_without_a_repeat(feed_server, producer, redis, names):  # type: ignore[no-untyped-def]
    feed_server.routes["/a.xml"] = Route(rss(ITEMS))
    poller = make_poller([Feed(name="a", url=feed_server.url("/a.xml"))], producer, redis, names)
    poller.poll_feed(poller.feeds["a"])
    marks = list(redis.scan_iter(match=names.seen(feed_server.url("/a.xml"), "*")))
    assert len(marks) == 3
    for key in marks:
        redis.set(key, 1)  # what the poller wrote before versions
    feed_server.routes["/a.xml"] = Route(rss(ITEMS) + b" ")
    assert poller.poll_feed(poller.feeds["a"]).new == 0, "an upgrade re-sends nothing"
    assert all(redis.get(k).startswith(b"1:") for k in marks)
    feed_server.routes["/a.xml"] = Route(rss([dict(ITEMS[0], title="Story 0, updated"), *ITEMS[1:]]))
    assert poller.poll_feed(poller.feeds["a"]).new == 1, "and the next change is noticed"
    poller.close()
    poller.http.close()


def test_bad_feeds_do_not_stop_the_others(feed_server, producer, redis, names, bootstrap):  # type: ignore[no-untyped-def]
    feed_server.routes["/good.xml"] = Route(rss(ITEMS))
    feed_server.routes["/malformed.xml"] = Route(b"<rss><channel><title>broken & <<<\x00\xff")
    feed_server.routes["/error.xml"] = Route(b"oops", status=500)
    feed_server.routes["/slow.xml"] = Route(rss(ITEMS), delay=3)
    feed_server.routes["/huge.xml"] = Route(b"<rss>" + b"x" * 200_000 + b"</rss>")
    feed_list = [Feed(name=n, url=feed_server.url(f"/{n}.xml")) for n in ("malformed", "error", "slow", "huge", "good")]
    poller = make_poller(feed_list, producer, redis, names)
    outcomes = {o.feed: o for o in poller.run_cycle()}
    assert outcomes["good"].new == 3 and outcomes["good"].error is None
    assert "HTTP 500" in (outcomes["error"].error or "")
    assert "timed out" in (outcomes["slow"].error or "")
    assert "exceeds" in (outcomes["huge"].error or "")
    assert outcomes["malformed"].error
    assert len(read_topic(bootstrap, names.stories, 3)) == 3
    assert poller.health.get("error").consecutive_errors == 1 and poller.health.get("good").consecutive_errors == 0
    poller.close()
    poller.http.close()


def test_nothing_is_marked_seen_when_kafka_refuses(feed_server, redis, names):  # type: ignore[no-untyped-def]
    feed_server.routes["/a.xml"] = Route(rss(ITEMS))
    # A producer to a port where no broker listens: sends fail, so nothing may be marked seen.
    dead = KafkaProducer(bootstrap_servers="127.0.0.1:9", max_block_ms=500, request_timeout_ms=500, api_version=(2, 8))
    poller = make_poller([Feed(name="a", url=feed_server.url("/a.xml"))], dead, redis, names)
    internal = metrics.STORIES_FAILED.labels(feed="a", reason="internal")
    before = internal._value.get()
    outcome = poller.poll_feed(poller.feeds["a"])
    assert outcome.error and outcome.new == 0
    assert internal._value.get() == before + 1, "our Kafka's fault, not the feed's: reason internal"
    assert not list(redis.scan_iter(match=names.seen(feed_server.url("/a.xml"), "*"))), "no story marked seen"
    assert not redis.exists(names.validators(feed_server.url("/a.xml"))), (
        "validators and body digest kept old so the next poll refetches and parses"
    )
    poller.close()
    poller.http.close()


@pytest.mark.parametrize("errors,low,high", [(0, 54, 66), (1, 108, 132), (3, 432, 528), (30, 3240, 3960)])
def test_backoff_grows_and_is_capped(errors: int, low: float, high: float) -> None:
    import random

    rand = random.Random(1)
    for _ in range(50):
        assert low <= next_delay(60, errors, rand) <= high


def test_polls_in_progress_at_close_are_recorded(feed_server, producer, redis, names):  # type: ignore[no-untyped-def]
    feed_server.routes["/slow.xml"] = Route(rss(ITEMS), delay=0.5)
    poller = make_poller([Feed(name="slow", url=feed_server.url("/slow.xml"), interval=600)], producer, redis, names)
    poller.run_once()  # leases the feed and starts its poll; returns before the slow answer
    assert poller.in_flight == 1
    poller.close()  # waits for the poll, then records it
    health = poller.health.get("slow")
    assert health.last_success and health.last_new == 3
    due = poller.schedule.due_times()["slow"]
    assert due > time.time() + 500, "the real next due time (interval), not the lease"
    poller.http.close()


def test_a_feed_that_stopped_publishing_is_quiet_in_its_health(feed_server, producer, redis, names):  # type: ignore[no-untyped-def]
    """Two feeds answering 200 with nothing new; one usually publishes every hour and has not for 20 hours."""
    from workers.poller.quiet import Activity, fold

    now = time.time()
    feed_list = []
    for name, silent_h in (("stopped", 20), ("fine", 0.5)):
        feed_server.routes[f"/{name}.xml"] = Route(rss(ITEMS))
        feed_list.append(Feed(name=name, url=feed_server.url(f"/{name}.xml")))
        act, t = Activity(), now - 15 * 86400
        while t < now - 600:  # two weeks of polls every 10 minutes, something new every hour until the silence
            t += 600
            act = fold(act, t, found_new=t < now - silent_h * 3600 and int(t) // 600 % 6 == 0)
        redis.hset(names.feed_health(name), mapping={"activity": act.to_json()})
    poller = make_poller(feed_list, producer, redis, names)
    for feed in feed_list:
        assert poller.poll_feed(feed).new == 3
    states = {h.name: h.state for h in poller.health.get_many(["stopped", "fine"])}
    assert states == {"stopped": "ok", "fine": "ok"}, "new entries just arrived: neither is quiet"
    for name, silent_h in (("stopped", 20), ("fine", 0.5)):
        act = Activity.from_json(redis.hget(names.feed_health(name), "activity"))
        act.last_new_at = now - silent_h * 3600  # as if those entries had been seen before the silence
        redis.hset(names.feed_health(name), "activity", act.to_json())
    for feed in feed_list:
        assert poller.poll_feed(feed).new == 0
    states = {h.name: h.state for h in poller.health.get_many(["stopped", "fine"])}
    assert states == {"stopped": "quiet", "fine": "ok"}
    poller.close()
    poller.http.close()


def test_an_unchanged_200_is_not_parsed_again(feed_server, producer, redis, names, bootstrap):  # type: ignore[no-untyped-def]
    """A publisher with no ETag or Last-Modified answers 200 with the same bytes: no parse, nothing produced;
    new bytes are parsed again. The digest is stored only after Kafka acknowledged the stories."""
    feed_server.routes["/n.xml"] = Route(rss(ITEMS), validators=False)
    poller = make_poller([Feed(name="n", url=feed_server.url("/n.xml"))], producer, redis, names)
    counter = metrics.STORIES_FETCHED.labels(feed="n")
    base = counter._value.get()  # the counter is the process's: the test runs on standalone Redis and cluster

    def parsed() -> float:
        return counter._value.get() - base

    first = poller.poll_feed(poller.feeds["n"])
    assert first.new == 3 and parsed() == 3
    stored = redis.hgetall(names.validators(feed_server.url("/n.xml")))
    assert set(stored) == {b"body-sha256"}  # no validators from this publisher, the digest only
    for _ in range(2):
        again = poller.poll_feed(poller.feeds["n"])
        assert (again.status, again.new, again.error) == (200, 0, None)
    assert parsed() == 3, "the unchanged body was not parsed"
    assert all("if-none-match" not in h for _path, h in feed_server.requests)
    feed_server.routes["/n.xml"] = Route(rss([*ITEMS, {**ITEMS[0], "guid": "g7", "title": "Later"}]), validators=False)
    assert poller.poll_feed(poller.feeds["n"]).new == 1 and parsed() == 7
    assert len(read_topic(bootstrap, names.stories, 4)) == 4

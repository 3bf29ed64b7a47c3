"""A kill notice that no longer names the topic, on the real broker, Redis and HTTP: the filter remembers the
stories it matched (``workers.filter.followups``), so the version whose text says only "STORY WITHDRAWN" still
reaches the alerter, and the subscriber who got the story receives it as ``story.withdrawn``, once; a
subscriber who never got the story receives nothing of it."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_versions import P1, P2, events_by_subscriber, feed_item
from tests.support import group_caught_up, rss, wait_until
from workers.core.names import Names
from workers.devstack.feedserver import Route
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_a_kill_notice_that_names_no_topic_reaches_its_subscriber_as_withdrawn_once(  # type: ignore[no-untyped-def]
    secret: str, make_config, daemons, feed_server, bootstrap: str, names: Names
) -> None:
    receiver = Receiver(secret=secret)
    port = receiver.start()
    first = feed_item("North Korea tests engine", [P1, P2])
    kill = feed_item("STORY WITHDRAWN", ["STORY WITHDRAWN"])
    unrelated = feed_item("STORY WITHDRAWN", ["STORY WITHDRAWN"], guid="wire-other", link="http://127.0.0.1/w/2")
    feed_server.routes["/wire.xml"] = Route(rss([first]))
    hook = {"secret_env": "WIREWATCH_TEST_SECRET", "local": True, "topics": ["dprk"]}
    cfg = make_config(
        feeds=[{"name": "wire", "url": feed_server.url("/wire.xml"), "interval": 1}],
        subscribers=[
            {"name": "desk", "url": f"http://127.0.0.1:{port}/desk"} | hook,
            # never gets the story (its language is not the story's), so never its kill either
            {"name": "paris", "url": f"http://127.0.0.1:{port}/paris", "languages": ["fr"]} | hook,
        ],
    )
    for role in ("poll", "filter", "alert"):
        daemons(role, cfg)
    try:
        wait_until(lambda: len(receiver.unique()) == 1, 90, what="the first alert")
        # the kill replaces the item; a first version that says the same of another story is no follow-up
        feed_server.routes["/wire.xml"] = Route(rss([kill, unrelated]))
        wait_until(lambda: len(receiver.unique()) == 2, 90, what="the withdrawal")
        before = len(feed_server.requests)
        wait_until(lambda: len(feed_server.requests) >= before + 3, 30, what="re-polls")
        for group, topic in ((names.filter_group, names.stories), (names.alerter_group, names.matches)):
            wait_until(lambda g=group, t=topic: group_caught_up(bootstrap, g, t), 60, what=f"{group} caught up")
        time.sleep(1)
        events = events_by_subscriber(receiver)
        assert set(events) == {"desk"}, "the subscriber who never got the story gets nothing of its kill"
        matched, withdrawn = events["desk"]
        assert [matched["type"], withdrawn["type"]] == ["story.matched", "story.withdrawn"]
        assert withdrawn["version"] == 2 and withdrawn["story"]["title"] == "STORY WITHDRAWN"
        assert withdrawn["previous_alert_id"] == matched["alert_id"]
        assert withdrawn["story"]["id"] == matched["story"]["id"]
        assert len({r.webhook_id for r in receiver.received}) == 2, "each event once"
    finally:
        receiver.stop()


def test_the_filter_marks_keep_every_topic_a_story_matched_until_retention(redis, names: Names) -> None:  # type: ignore[no-untyped-def]
    from workers.filter.followups import FilterMarks

    now = [1_000_000.0]
    marks = FilterMarks(redis, names, retention_s=7200, clock=lambda: now[0])
    assert marks.topics_of([]) == {} and marks.topics_of(["a"]) == {}
    marks.record({"a": {"dprk"}, "b": {"japan", "dprk"}})
    now[0] += 3600  # the next slice: the first mark is read from the one before
    marks.record({"a": {"dprk", "ukraine"}})
    assert marks.topics_of(["a", "b", "c"]) == {"a": {"dprk", "ukraine"}, "b": {"dprk", "japan"}}
    keys = [k for k in redis.scan_iter(match=f"{names.key_prefix}*")]
    assert keys and all(0 < redis.ttl(k) <= 7200 + 3600 for k in keys), "every slice expires"
    now[0] += 7200 + 3600
    assert marks.topics_of(["a", "b"]) == {}, "past retention a story is new again"


def test_the_filter_redoes_a_batch_while_redis_is_down_and_lets_no_version_through_unmarked(  # type: ignore[no-untyped-def]
    bootstrap: str, names: Names, tmp_path
) -> None:
    """The failure policy: with Redis unreachable the batch raises and is rewound (nothing produced, nothing
    committed); once Redis is back the same batch is done again, and the kill notice carries its topic."""
    from dataclasses import replace

    from tests.support import read_topic
    from workers.core.events import MatchEvent
    from workers.core.stories import Story
    from workers.devstack.stack import EmbeddedRedis, free_port
    from workers.filter.followups import FilterMarks
    from workers.filter.matcher import Matcher
    from workers.filter.topics import Topic
    from workers.filter.worker import FilterWorker
    from workers.infra.kafka import ensure_topics, make_consumer, make_producer, send_all, topic_specs
    from workers.infra.lifecycle import Stopper
    from workers.infra.redis import make_redis
    from workers.settings.config import KafkaSettings

    settings = KafkaSettings(topic_prefix=names.topic_prefix, session_timeout_ms=6000)
    ensure_topics(bootstrap, topic_specs(names, settings))
    story = Story(
        id="s-kill",
        feed="wire",
        feed_url="http://127.0.0.1/w.xml",
        title="North Korea tests engine",
        link="http://127.0.0.1/w/1",
        text="Pyongyang said North Korea tested an engine.",
    )
    kill = replace(story, version=2, title="STORY WITHDRAWN", text="STORY WITHDRAWN")
    port = free_port()
    local = EmbeddedRedis(port, tmp_path / "redis.log", tmp_path / "redis-data", appendonly=True)
    local.start()
    redis = make_redis(local.url, 1.0)
    producer = make_producer(bootstrap, "test-followups")
    consumer = make_consumer(bootstrap, names.stories, names.filter_group, settings, "test-followups")
    marks = FilterMarks(redis, names, 3600)
    worker = FilterWorker(consumer, producer, Matcher([Topic("dprk", terms=("North Korea",))]), names, Stopper(), marks)
    try:
        send_all(producer, [(names.stories, story.id.encode(), story.to_json())])
        wait_until(lambda: worker.run_once() or worker.totals["stories"], 30, interval=0, what="version 1")
        local.stop()
        send_all(producer, [(names.stories, kill.id.encode(), kill.to_json())])
        failures = 0
        deadline = time.monotonic() + 30
        while failures < 2 and time.monotonic() < deadline:  # the batch is polled again after each rewind
            try:
                worker.run_once()
            except Exception:
                failures += 1
        assert failures == 2 and worker.totals["stories"] == 1, "nothing done while Redis is down"
        assert len(read_topic(bootstrap, names.matches, expect=1, timeout=3)) == 1, "and nothing produced"
        local = EmbeddedRedis(port, tmp_path / "redis.log", tmp_path / "redis-data", appendonly=True)
        local.start()
        wait_until(lambda: worker.run_once() or worker.totals["stories"] == 2, 30, interval=0.1, what="the redo")
        first, second = (MatchEvent.from_json(r.value) for r in read_topic(bootstrap, names.matches, expect=2))
        assert sorted(first.topics) == ["dprk"] and first.story.version == 1
        assert second.story.version == 2 and second.topics == {} and second.carried == ["dprk"]
    finally:
        consumer.close(autocommit=False)
        producer.close()
        redis.close()
        local.stop()

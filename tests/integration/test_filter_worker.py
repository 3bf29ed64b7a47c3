"""The filter daemon's loop on the real broker: poison messages go to the dead-letter topic with the reason,
the rest of the batch still produces its matches, and the offsets are committed after the work."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from kafka import KafkaProducer

from tests.kafka_support import TEST_SESSION_MS
from tests.support import group_caught_up, read_topic, wait_until
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import FilterWorker
from workers.infra.kafka import ensure_topics, make_consumer, make_producer, send_all, topic_specs
from workers.infra.lifecycle import Stopper
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration

TOPICS = [Topic("dprk", terms=("North Korea", "북한", "КНДР")), Topic("russia", terms=("Russia", "Росси*"))]


def story(story_id: str, title: str, text: str, hint: str | None = None) -> Story:
    return Story(
        id=story_id,
        feed="test",
        feed_url="http://127.0.0.1/feed.xml",
        title=title,
        link=f"http://127.0.0.1/{story_id}",
        text=text,
        language_hint=hint,
    )


@pytest.fixture
def producer(bootstrap: str) -> Iterator[KafkaProducer]:
    p = make_producer(bootstrap, "test-filter")
    yield p
    p.close()


def run_until(worker: FilterWorker, records: int) -> None:
    done = [0]

    def step() -> bool:
        done[0] += worker.run_once()
        return done[0] >= records

    wait_until(step, timeout=30, interval=0, what=f"{records} stories filtered")


def test_poison_messages_are_dead_lettered_and_the_batch_goes_on(
    bootstrap: str, names: Names, producer: KafkaProducer
) -> None:
    # One partition, so the order below is the order the worker sees.
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    good = story("s1", "North Korea fires a missile", "Pyongyang launched a missile towards the sea on Sunday.")
    dull = story("s2", "Local football results", "The home side won two-nil in the rain on Saturday evening.")
    after = story("s3", "Россия и КНДР", "Министры России и КНДР провели переговоры в Москве во вторник.", "ru")
    wrong_schema = json.dumps({"schema": 99, "id": "x"}).encode()
    messages = [
        (names.stories, b"s1", good.to_json()),
        (names.stories, b"bad1", b"\xff\xfe not json at all"),
        (names.stories, b"s2", dull.to_json()),
        (names.stories, b"bad2", wrong_schema),
        (names.stories, b"s3", after.to_json()),
    ]
    send_all(producer, messages)

    settings = KafkaSettings(topic_prefix=names.topic_prefix, session_timeout_ms=TEST_SESSION_MS)
    consumer = make_consumer(bootstrap, names.stories, names.filter_group, settings, "test-filter")
    worker = FilterWorker(consumer, producer, Matcher(TOPICS), names, Stopper())
    try:
        run_until(worker, len(messages))
    finally:
        consumer.close(autocommit=False)

    dead = [json.loads(r.value) for r in read_topic(bootstrap, names.stories_dlq, expect=2)]
    assert [d["reason"].split(":")[0] for d in dead] == ["malformed story", "malformed story"]
    assert "not JSON" in dead[0]["reason"] and "unsupported story schema 99" in dead[1]["reason"]
    assert base64.b64decode(dead[0]["value_b64"]) == b"\xff\xfe not json at all"
    assert [d["source"]["offset"] for d in dead] == [1, 3]

    matches = [MatchEvent.from_json(r.value) for r in read_topic(bootstrap, names.matches, expect=2)]
    assert [(m.story.id, sorted(m.topics), m.language) for m in matches] == [
        ("s1", ["dprk"], "en"),
        ("s3", ["dprk", "russia"], "ru"),
    ]
    hit = matches[1].topics["russia"].hits[0]
    assert (after.title + "\n" + after.text)[hit["start"] : hit["end"]] == "Россия"
    assert worker.totals == {"stories": 5, "matches": 2, "dead": 2}
    assert group_caught_up(bootstrap, names.filter_group, names.stories)


def test_a_story_with_thousands_of_hits_is_matched_and_the_batch_goes_on(
    bootstrap: str, names: Names, producer: KafkaProducer
) -> None:
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    text = ("Russia КНДР " * 5000)[:50_000]  # the poller keeps 50 000 characters of text
    big = replace(story("big", "Russia and North Korea", text), html="<p>" + "ж" * 350_000 + "</p>")  # 700 KB
    good = story("s2", "North Korea fires a missile", "Pyongyang launched a missile towards the sea on Sunday.")
    send_all(producer, [(names.stories, b"big", big.to_json()), (names.stories, b"s2", good.to_json())])
    settings = KafkaSettings(topic_prefix=names.topic_prefix, session_timeout_ms=TEST_SESSION_MS)
    consumer = make_consumer(bootstrap, names.stories, names.filter_group, settings, "test-filter")
    worker = FilterWorker(consumer, producer, Matcher(TOPICS), names, Stopper())
    errors: list[str] = []

    def step() -> int:
        try:
            return worker.run_once()
        except Exception as exc:  # the daemon's loop would back off and redo the batch, forever
            errors.append(type(exc).__name__)
            return 0

    try:
        wait_until(lambda: step() or worker.totals["stories"] >= 2, timeout=20, interval=0, what="both stories")
    finally:
        consumer.close(autocommit=False)
    assert not errors
    matches = [MatchEvent.from_json(r.value) for r in read_topic(bootstrap, names.matches, expect=2)]
    assert [m.story.id for m in matches] == ["big", "s2"]
    assert matches[0].story == big and len(matches[0].topics["russia"].hits) < 1000


def test_the_trace_goes_on_and_the_timings_grow(bootstrap: str, names: Names, producer: KafkaProducer) -> None:
    from workers.core.tracing import from_headers, headers, new_traceparent, trace_id

    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    parent = new_traceparent()
    s1 = replace(
        story("s1", "North Korea fires a missile", "Pyongyang launched a missile towards the sea on Sunday."),
        published="2026-12-01T08:00:00Z",
        fetched_at="2026-12-01T08:00:05Z",
    )
    s2 = story("s2", "North Korea again", "Another launch from Pyongyang towards the sea on Monday.")
    send_all(producer, [(names.stories, b"s1", s1.to_json(), headers(parent)), (names.stories, b"s2", s2.to_json())])
    settings = KafkaSettings(topic_prefix=names.topic_prefix, session_timeout_ms=TEST_SESSION_MS)
    consumer = make_consumer(bootstrap, names.stories, names.filter_group, settings, "test-filter")
    worker = FilterWorker(consumer, producer, Matcher(TOPICS), names, Stopper())
    try:
        run_until(worker, 2)
    finally:
        consumer.close(autocommit=False)
    first, second = read_topic(bootstrap, names.matches, expect=2)
    forwarded = from_headers(first.headers)
    assert trace_id(forwarded) == trace_id(parent) and forwarded != parent, "same trace, the filter's own span"
    assert trace_id(from_headers(second.headers)), "a story without a trace starts one"
    event = MatchEvent.from_json(first.value)
    assert event.timings["published"] == "2026-12-01T08:00:00Z" and event.timings["fetched"] == "2026-12-01T08:00:05Z"
    assert event.timings["produced"] <= event.timings["matched"]
    assert event.timings["produced"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))

"""Every compression codec Kafka has, on the real broker: a story written by a producer that compresses with it
is read by the filter, which produces its match (without the codec package kafka-python stalled for good)."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer

from tests.kafka_support import TEST_SESSION_MS
from tests.support import read_topic, wait_until
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import FilterWorker
from workers.infra.kafka import ensure_topics, make_consumer, make_producer, topic_specs
from workers.infra.lifecycle import Stopper
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("compression", ["gzip", "lz4", "zstd", "snappy"])
def test_a_story_compressed_with_each_codec_is_filtered(bootstrap: str, names: Names, compression: str) -> None:
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    story = Story(
        id=f"codec-{compression}",
        feed="test",
        feed_url="http://127.0.0.1/feed.xml",
        title="North Korea fires a missile",
        link=f"http://127.0.0.1/{compression}",
        text="Pyongyang launched a missile towards the sea on Sunday, officials said.",
    )
    # another client's producer: only the codec differs from ours
    writer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=compression, acks="all")
    try:
        writer.send(names.stories, key=story.id.encode(), value=story.to_json()).get(timeout=30)
    finally:
        writer.close()

    producer = make_producer(bootstrap, "test-codecs")
    settings = KafkaSettings(topic_prefix=names.topic_prefix, session_timeout_ms=TEST_SESSION_MS)
    consumer = make_consumer(bootstrap, names.stories, names.filter_group, settings, "test-codecs")
    worker = FilterWorker(consumer, producer, Matcher([Topic("dprk", terms=("North Korea",))]), names, Stopper())
    try:
        wait_until(lambda: worker.run_once() or worker.totals["stories"], timeout=30, interval=0, what="the story")
    finally:
        consumer.close(autocommit=False)
        producer.close()
    matches = [MatchEvent.from_json(r.value) for r in read_topic(bootstrap, names.matches, expect=1)]
    assert [(m.story.id, sorted(m.topics)) for m in matches] == [(story.id, ["dprk"])]
    assert worker.totals == {"stories": 1, "matches": 1, "dead": 0}

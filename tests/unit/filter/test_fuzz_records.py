"""Fuzz: any bytes as a stories record into the filter's decision. Each is processed (a match event that fits
the producer, or no match) or dead-lettered with a reason; none raises, none crashes the matcher, and the next
good story is still matched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import given

from tests.fuzz import examples, records, story_dicts
from workers.core.events import MAX_EVENT_BYTES, MatchEvent
from workers.core.names import Names
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import FilterWorker, decide
from workers.infra.lifecycle import Stopper

MATCHER = Matcher([Topic("dprk", terms=("North Korea", "북한", "КНДР")), Topic("russia", terms=("Russia", "Росси*"))])
NAMES = Names(topic_prefix="fuzz.", key_prefix="fuzz:")
GOOD = Story(
    id="good",
    feed="wire",
    feed_url="http://127.0.0.1/feed.xml",
    title="North Korea fires a missile",
    link="http://127.0.0.1/good",
    text="Pyongyang launched a missile towards the sea on Sunday, officials said.",
).to_json()


@dataclass
class Record:
    """What the worker reads of a kafka-python ConsumerRecord."""

    value: bytes | None
    key: bytes | None = b"k"
    topic: str = "fuzz.stories"
    partition: int = 0
    offset: int = 7


def check_good_still_matches() -> None:
    after = decide(GOOD, MATCHER)
    assert after.event is not None and sorted(after.event.topics) == ["dprk"]


@examples(400)
@given(records(story_dicts()))
def test_fuzz_filter_decision(raw: bytes) -> None:
    outcome = decide(raw, MATCHER)
    if outcome.reason is not None:
        assert outcome.reason.startswith(("malformed story: ", "story too large: ")), outcome.reason
        assert outcome.error is None, "the matcher crashed on a story"
    else:
        assert outcome.story is not None
        if outcome.event is not None:
            assert outcome.value is not None
            assert len(outcome.value) + len(outcome.story.id.encode()) <= MAX_EVENT_BYTES
            assert MatchEvent.from_json(outcome.value).story.id == outcome.story.id  # the alerter can read it
    check_good_still_matches()


@examples(200)
@given(records(story_dicts()))
def test_fuzz_filter_worker_record(raw: bytes) -> None:
    """The worker's per-record step: a match on the matches topic, nothing, or a readable dead letter."""
    worker = FilterWorker(None, None, MATCHER, NAMES, Stopper())  # type: ignore[arg-type]  # no I/O in _process
    out = worker._process(Record(raw))
    assert len(out) <= 1
    for topic, _key, value, *_headers in out:
        assert topic in (NAMES.matches, NAMES.stories_dlq)
        if topic == NAMES.stories_dlq:
            letter: dict[str, Any] = json.loads(value)
            assert letter["reason"] and letter["source"]["offset"] == 7
    assert worker._process(Record(GOOD))[0][0] == NAMES.matches

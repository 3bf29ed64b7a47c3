"""The filter's part of later versions (``workers.filter.worker.carry``): a later version of a story matched
before carries the topics it no longer matches, and one that matches nothing becomes an event of its own."""

from __future__ import annotations

from dataclasses import replace

from workers.core.events import MAX_EVENT_BYTES, MatchEvent
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import Outcome, carry, decide

MATCHER = Matcher([Topic("dprk", terms=("North Korea",)), Topic("japan", terms=("Japan",))])


def story(text: str, version: int = 2) -> bytes:
    s = Story(id="s-1", feed="wire", feed_url="http://127.0.0.1/w.xml", title="", link="http://127.0.0.1/1", text=text)
    return replace(s, version=version).to_json()


def test_a_kill_notice_that_matches_nothing_carries_the_topics_of_its_story() -> None:
    decided = decide(story("STORY WITHDRAWN"), MATCHER, now=1.0)
    assert decided.event is None and decided.story is not None
    out = carry(decided, {"dprk", "japan"}, produced_ms=500, now=2.0)
    assert out.event is not None and out.value is not None
    assert out.event.topics == {} and out.event.carried == ["dprk", "japan"]
    assert out.event.story.text == "STORY WITHDRAWN" and out.event.timings["produced"]
    back = MatchEvent.from_json(out.value)  # what the alerter reads
    assert back.carried == ["dprk", "japan"] and back.topics == {}
    assert len(out.value) <= MAX_EVENT_BYTES


def test_a_version_that_still_matches_carries_only_what_it_lost() -> None:
    decided = decide(story("North Korea said so."), MATCHER)
    out = carry(decided, {"dprk", "japan"})
    assert out.event is not None and set(out.event.topics) == {"dprk"} and out.event.carried == ["japan"]
    assert carry(decided, {"dprk"}) is decided, "nothing lost: the outcome as it was"


def test_a_dead_letter_stays_one() -> None:
    dead = decide(b"not json", MATCHER)
    assert carry(dead, {"dprk"}) is dead
    assert carry(Outcome(), {"dprk"}) == Outcome()


def test_an_older_event_without_carried_still_reads() -> None:
    decided = decide(story("North Korea said so.", version=1), MATCHER)
    assert decided.value is not None
    raw = decided.value.replace(b',"carried":[]', b"")
    assert b"carried" not in raw and MatchEvent.from_json(raw).carried == []

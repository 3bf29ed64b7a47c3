"""The match event a story makes: hits per topic capped with their count kept, and the event under the
producer's 1 MiB limit by construction, whatever the story's size."""

from __future__ import annotations

import json

import pytest

from workers.alerter.worker import build_alert
from workers.core.events import MAX_EVENT_BYTES, MAX_HITS_PER_TOPIC, EventTooLargeError, MatchEvent
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import evaluate
from workers.settings.config import Subscriber

TOPICS = [Topic("dprk", terms=("North Korea", "КНДР")), Topic("russia", terms=("Russia", "Росси*"))]
PRODUCER_LIMIT = 1024 * 1024  # kafka-python's max_request_size default


def story(text: str, html: str = "", title: str = "Russia and North Korea") -> Story:
    return Story(id="s1", feed="f", feed_url="http://f/feed", title=title, link="http://f/1", text=text, html=html)


def test_a_700_kb_story_makes_an_event_under_the_producer_limit_with_hits_capped_and_counted() -> None:
    text = ("Russia КНДР " * 5000)[:50_000]  # what the poller keeps of a text: 50 000 characters
    big = story(text, html="<p>" + "ж" * 350_000 + "</p>")  # 700 KB of markup
    event = evaluate(big, Matcher(TOPICS))
    assert event is not None
    for name in ("dprk", "russia"):
        hit = event.topics[name]
        assert len(hit.hits) == MAX_HITS_PER_TOPIC and hit.hit_count > 4000, (name, hit.hit_count)
    raw = event.to_json()
    assert len(raw) + len(b"s1") <= MAX_EVENT_BYTES < PRODUCER_LIMIT - 1000
    back = MatchEvent.from_json(raw)
    assert back.topics["russia"].hit_count == event.topics["russia"].hit_count
    assert back.story == big, "capping the hits was enough: the story travels whole"


def test_an_event_over_the_limit_is_cut_to_fit_markup_first_then_text() -> None:
    html_heavy = story("North Korea " + "д" * 250_000, html="<p>" + "x" * 1_000_000 + "</p>")
    text_heavy = story("North Korea " + "д" * 600_000, html="<p>" + "x" * 10_000 + "</p>")
    for s, html_left in ((html_heavy, True), (text_heavy, False)):
        event = evaluate(s, Matcher(TOPICS))
        assert event is not None and len(event.to_json()) > MAX_EVENT_BYTES
        raw = event.fitted_json(MAX_EVENT_BYTES - len(b"s1"))
        assert MAX_EVENT_BYTES - 10 <= len(raw) + len(b"s1") <= MAX_EVENT_BYTES, "cut no more than needed"
        back = MatchEvent.from_json(raw)
        assert s.html.startswith(back.story.html) and bool(back.story.html) == html_left
        assert s.text.startswith(back.story.text) and (back.story.text == s.text) == html_left
        assert back.story.title == s.title and back.topics == event.topics


def test_a_normal_event_and_its_alert_keep_their_bytes() -> None:
    s = story("Pyongyang said North Korea tested an engine; Russia said nothing.")
    event = evaluate(s, Matcher(TOPICS))
    assert event is not None
    dprk = event.topics["dprk"]
    assert dprk.hit_count == len(dprk.hits) == 2
    sub = Subscriber(name="desk", url="http://127.0.0.1/h", secret_env="X", topics=["dprk"])
    alert = build_alert(sub, MatchEvent.from_json(event.to_json()), "msg_" + "0" * 32, 500)
    assert alert["topics"]["dprk"] == {
        "terms": ["North Korea"],
        "hits": dprk.hits,
        "snippet": dprk.snippet,
        "hit_count": 2,
    }
    assert list(alert["topics"]["dprk"]) == ["terms", "hits", "snippet", "hit_count"]
    old = json.loads(event.to_json())
    del old["topics"]["dprk"]["hit_count"]  # a match event written before the count existed
    assert MatchEvent.from_json(json.dumps(old).encode()).topics["dprk"].hit_count == 2


def test_an_event_that_cannot_fit_raises_event_too_large() -> None:
    event = evaluate(story("North Korea", title="North Korea " + "x" * 100_000), Matcher(TOPICS))
    assert event is not None
    with pytest.raises(EventTooLargeError):
        event.fitted_json(50_000)

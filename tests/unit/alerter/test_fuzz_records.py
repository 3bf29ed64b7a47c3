"""Fuzz: any bytes as a matches record into the alerter's decision (``route``) and what it computes without
Redis for each alert (ids, fingerprints, the alert body). Each record is routed or dead-lettered with a
reason; none raises (a raise would rewind the batch forever), and the next good match is still routed."""

from __future__ import annotations

from hypothesis import given

from tests.fuzz import examples, match_dicts, records
from workers.alerter import neardup
from workers.alerter.dedup import alert_id, fingerprints
from workers.alerter.worker import build_alert, route
from workers.core.deadletter import dead_letter
from workers.core.stories import compact_json, normalise_for_fingerprint
from workers.settings.config import Subscriber

SUBSCRIBERS = [
    Subscriber(name="all", url="http://127.0.0.1/hooks/all", secret_env="X", topics=["dprk", "russia"]),
    Subscriber(name="en", url="http://127.0.0.1/hooks/en", secret_env="X", topics=["dprk"], languages=["en"]),
    Subscriber(name="busy", url="http://127.0.0.1/hooks/busy", secret_env="X", topics=["russia"], min_hits=3),
]
GOOD = compact_json(
    {
        "story": {
            "id": "good",
            "feed": "wire",
            "feed_url": "http://127.0.0.1/feed.xml",
            "title": "North Korea fires a missile",
            "link": "http://127.0.0.1/good",
            "text": "Pyongyang launched a missile.",
            "schema": 1,
        },
        "language": "en",
        "probability": 0.99,
        "topics": {"dprk": {"terms": ["North Korea"], "hits": [], "snippet": "North Korea", "hit_count": 1}},
        "schema": 1,
    }
)


class Rec:
    topic, partition, offset = "fuzz.matches", 0, 3

    def __init__(self, value: bytes) -> None:
        self.value = value


@examples(500)
@given(records(match_dicts()))
def test_fuzz_alerter_routing(raw: bytes) -> None:
    routed = route(raw, SUBSCRIBERS)
    if routed.event is None:
        assert routed.problem and routed.reason.startswith("malformed match: ")
        assert dead_letter(routed.reason, Rec(raw))
    for sub in routed.subscribers:
        assert routed.event is not None
        story = routed.event.story
        aid = alert_id(sub.name, story.id)
        body = normalise_for_fingerprint(story.text)
        assert fingerprints(story, body)
        neardup.normalised_simhash(body, 10)
        assert compact_json(build_alert(sub, routed.event, aid, 50))  # the webhook body can be written
    assert [s.name for s in route(GOOD, SUBSCRIBERS).subscribers] == ["all", "en"]

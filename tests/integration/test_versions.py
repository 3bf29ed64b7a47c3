"""Later versions of a story on the real broker, Redis and HTTP: an item rewritten three times (a title change,
a typo fix that is not material, added paragraphs) and then withdrawn gives its subscriber exactly matched,
updated, updated, withdrawn, each once, signed and schema-valid; a syndicated copy under another URL stays a
duplicate; a redone batch sends nothing twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.schema_support import validator
from tests.support import wait_until
from workers.alerter.dedup import alert_id
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration

P1 = "Pyongyang said on Sunday that North Korea had tested a new solid-fuel engine at its western launch site."
P2 = "South Korea's military said it was analysing the test with the United States and would stay on alert."
P3 = "Japan's defence ministry said it had lodged a protest through diplomatic channels in Beijing on Monday."
P4 = "Analysts said the engine could power a missile able to reach the United States mainland within minutes."
TYPO = P2.replace("analysing", "analysng")

SCHEMAS = {
    "story.matched": "alert.schema.json",
    "story.updated": "story.updated.schema.json",
    "story.withdrawn": "story.withdrawn.schema.json",
}


def versions() -> list[MatchEvent]:
    """Version 1, then: a new headline; a typo fixed (not material); two paragraphs added; the kill."""
    texts = [
        ("North Korea tests engine", f"{P1}\n\n{TYPO}"),
        ("UPDATE 1-North Korea tests new missile engine, Seoul says", f"{P1}\n\n{TYPO}"),
        ("UPDATE 1-North Korea tests new missile engine, Seoul says", f"{P1}\n\n{P2}"),
        ("UPDATE 2-North Korea tests new missile engine, Seoul says", f"{P1}\n\n{P2}\n\n{P3}\n\n{P4}"),
        ("KILL-North Korea tests new missile engine", "STORY WITHDRAWN. The story is withdrawn: North Korea."),
    ]
    first = match(1)
    return [
        replace(first, story=replace(first.story, title=t, text=x, version=n + 1)) for n, (t, x) in enumerate(texts)
    ]


def copy_of(event: MatchEvent) -> MatchEvent:
    """The first version syndicated under another URL: another story id, the same words."""
    story = replace(event.story, id="story-copy", feed="other", link="http://127.0.0.1/other/north-korea-engine")
    return replace(event, story=story)


def events_by_subscriber(receiver: Receiver) -> dict[str, list[dict[str, Any]]]:
    """Each subscriber's events, one per webhook-id, in version order (a lane sends several at once, so
    arrival order is not theirs); each one signed and valid for its type."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in receiver.unique().values():
        assert rec.verified, "signed with the subscriber's secret"
        body = rec.json
        validator(SCHEMAS[body["type"]]).validate(body)
        assert body["alert_id"] == rec.webhook_id
        out.setdefault(body["subscriber"], []).append(body)
    for events in out.values():
        events.sort(key=lambda e: e.get("version", 1))
    return out


def assert_lifecycle(events: list[dict[str, Any]], subscriber: str) -> None:
    assert [e["type"] for e in events] == ["story.matched", "story.updated", "story.updated", "story.withdrawn"]
    matched, title, paras, kill = events
    assert matched["alert_id"] == alert_id(subscriber, "story-1")
    assert title["version"] == 2 and title["changes"]["title"]["new"].startswith("UPDATE 1-")
    assert title["changes"]["slug"] == {"kind": "update", "n": 1}
    assert title["previous_alert_id"] == matched["alert_id"]
    # version 3 (the typo) sent nothing; version 4 is described against it and follows version 2's event
    assert paras["version"] == 4 and paras["changes"]["paragraphs_added"] == [P3, P4]
    assert paras["changes"]["title"] is None and paras["previous_alert_id"] == title["alert_id"]
    assert kill["version"] == 5 and kill["changes"]["slug"]["kind"] == "kill"
    assert kill["previous_alert_id"] == paras["alert_id"]
    assert {e["story"]["id"] for e in events} == {"story-1"}, "the copy was a duplicate"
    assert len({e["alert_id"] for e in events}) == 4


def test_versions_give_matched_updated_updated_withdrawn_and_a_copy_stays_a_duplicate(
    secret: str, names: Names, bootstrap: str, redis: Redis
) -> None:
    receiver = Receiver(secret=secret)
    port = receiver.start()
    desk = sub("desk", f"http://127.0.0.1:{port}/desk")
    everything = sub("all", f"http://127.0.0.1:{port}/all", updates="all")
    silent = sub("silent", f"http://127.0.0.1:{port}/silent", updates="none")
    try:
        with running_alerter(bootstrap, redis, names, [desk, everything, silent], secret) as alerter:
            v = versions()
            produce(bootstrap, names, [v[0]])
            wait_until(lambda: len(receiver.unique()) >= 3, 30, what="the three first alerts")
            produce(bootstrap, names, [copy_of(v[0]), *v[1:]])
            wait_until(lambda: len(receiver.unique()) >= 3 + 3 + 4 and alerter.totals["duplicates"] >= 3 + 2, 30)
            produce(bootstrap, names, v)  # a redone batch: every version again, nothing new may go out
            wait_until(lambda: alerter.totals["duplicates"] >= 3 + 2 + 15, 30, what="the redone versions seen")
            assert not alerter.loop_errors
        assert len(receiver.received) == len(receiver.unique()), "no repeat at all"
        by_path = events_by_subscriber(receiver)
        assert_lifecycle(by_path["desk"], "desk")
        # updates=all also hears of the typo fix, as an edited paragraph
        assert [e["version"] for e in by_path["all"] if e["type"] != "story.matched"] == [2, 3, 4, 5]
        typo = by_path["all"][2]["changes"]
        assert typo["paragraphs_edited"] == [{"old": TYPO, "new": P2}] and typo["paragraphs_added"] == []
        assert [e["type"] for e in by_path["silent"]] == ["story.matched"], "updates=none: the first alert only"
    finally:
        receiver.stop()

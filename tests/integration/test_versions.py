"""Later versions of a story on the real broker, Redis and HTTP: an item rewritten three times (a title change,
a typo fix that is not material, added paragraphs) and then withdrawn gives its subscriber exactly matched,
updated, updated, withdrawn, each once, signed and schema-valid; a syndicated copy under another URL stays a
duplicate; a redone batch sends nothing twice."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.schema_support import validator
from tests.support import group_caught_up, rss, wait_until
from workers.alerter.dedup import alert_id
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.devstack.feedserver import Route
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


@pytest.mark.redis_cluster
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


def feed_item(title: str, paras: list[str], guid: str = "wire-nk-engine", link: str = "") -> dict[str, str]:
    return {
        "title": title,
        "link": link or "http://127.0.0.1/wire/north-korea-engine",
        "guid": guid,
        "description": "".join(f"<p>{p}</p>" for p in paras),
        "pubDate": "Sun, 17 Sep 2023 10:00:00 GMT",
    }


@pytest.mark.slow
def test_a_rewritten_feed_item_across_kill_9_of_each_daemon(  # type: ignore[no-untyped-def]
    secret: str, make_config, daemons, feed_server, bootstrap: str, names: Names
) -> None:
    """The whole pipeline: the poller notices each rewrite, the filter matches every version, the alerter
    sends matched, updated, updated, withdrawn; the filter, the poller and the alerter are each killed
    (SIGKILL) while a version is in flight, and a copy under another URL is still a duplicate."""
    receiver = Receiver(secret=secret)
    port = receiver.start()
    title2 = "UPDATE 1-North Korea tests new missile engine, Seoul says"
    steps = [
        feed_item("North Korea tests engine", [P1, TYPO]),
        feed_item(title2, [P1, TYPO]),
        feed_item(title2, [P1, P2]),
        feed_item("UPDATE 2-North Korea tests new missile engine, Seoul says", [P1, P2, P3, P4]),
        feed_item("KILL-North Korea tests new missile engine", ["STORY WITHDRAWN. The story is withdrawn."]),
    ]
    copy = feed_item("North Korea tests engine", [P1, TYPO], guid="partner-1", link="http://127.0.0.1/p/nk.html")
    feed_server.routes["/wire.xml"] = Route(rss([steps[0]]))
    feed_server.routes["/partner.xml"] = Route(rss([]))
    cfg = make_config(
        feeds=[
            {"name": "wire", "url": feed_server.url("/wire.xml"), "interval": 1},
            {"name": "partner", "url": feed_server.url("/partner.xml"), "interval": 1},
        ],
        subscribers=[
            {"name": "desk", "url": f"http://127.0.0.1:{port}/desk", "secret_env": "WIREWATCH_TEST_SECRET"}
            | {"topics": ["dprk"], "local": True}
        ],
    )
    running = {role: daemons(role, cfg) for role in ("poll", "filter", "alert")}

    def restart(role: str, after: float) -> None:
        time.sleep(after)
        running[role].kill()
        running[role] = daemons(role, cfg)

    def polled(n: int) -> None:
        before = len(feed_server.requests)
        wait_until(lambda: len(feed_server.requests) >= before + n, 30, what="re-polls")

    def caught_up() -> None:
        for group, topic in ((names.filter_group, names.stories), (names.alerter_group, names.matches)):
            wait_until(lambda g=group, t=topic: group_caught_up(bootstrap, g, t), 60, what=f"{group} caught up")

    try:
        wait_until(lambda: len(receiver.unique()) == 1, 90, what="the first alert")
        feed_server.routes["/wire.xml"] = Route(rss([steps[1]]))
        restart("filter", 0.5)  # the new headline is in flight between the poller and the filter
        wait_until(lambda: len(receiver.unique()) == 2, 90, what="the new headline's update")
        feed_server.routes["/wire.xml"] = Route(rss([steps[2]]))
        polled(2)
        restart("poll", 0.0)  # the typo fix is polled (and maybe produced) when the poller dies
        polled(4)
        caught_up()
        feed_server.routes["/wire.xml"] = Route(rss([steps[3]]))
        restart("alert", 1.0)  # the added paragraphs are on their way to (or in) the alerter
        wait_until(lambda: len(receiver.unique()) == 3, 90, what="the added paragraphs' update")
        feed_server.routes["/partner.xml"] = Route(rss([copy]))
        feed_server.routes["/wire.xml"] = Route(rss([steps[4]]))
        wait_until(lambda: len(receiver.unique()) == 4, 90, what="the withdrawal")
        polled(4)
        caught_up()
        time.sleep(1)
        events = events_by_subscriber(receiver)["desk"]
        assert [e["type"] for e in events] == ["story.matched", "story.updated", "story.updated", "story.withdrawn"]
        assert [e["version"] for e in events[1:]] == [2, 4, 5], "the typo fix (version 3) sent nothing"
        assert events[2]["changes"]["paragraphs_added"] == [P3, P4]
        assert events[3]["previous_alert_id"] == events[2]["alert_id"]
        assert {e["story"]["url"] for e in events} == {"http://127.0.0.1/wire/north-korea-engine"}, "copy: dup"
        # a kill between a 2xx and its settling may send an event again, under the same webhook-id
        assert len({r.webhook_id for r in receiver.received}) == 4
    finally:
        receiver.stop()

"""End to end on real servers: feeds on a local HTTP server -> poller -> Kafka -> filter -> Kafka ->
alerter -> Redis dedup -> signed webhook to a local receiver. The daemons are real processes."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

import pytest

from tests.support import group_caught_up, rss, seed_text, wait_until
from workers.core.signing import verify
from workers.core.tracing import seconds_between, trace_id
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration


def seed_items() -> tuple[dict[str, str], dict[str, str]]:
    text = seed_text()
    first_line = text.strip().splitlines()[0]
    title = first_line.split("।")[0][:120]
    original = {
        "title": title,
        "link": "http://127.0.0.1/ani/kim-russia-visit",
        "guid": "ani-2023-09-17-kim",
        "description": text,
        "pubDate": "Sun, 17 Sep 2023 10:00:00 GMT",
    }
    # A republisher: its own URL and guid, a different headline, the same wire text.
    copy = {
        "title": "किम जोंग उन की रूस यात्रा समाप्त",
        "link": "http://127.0.0.1/partner/world/kim-visit.html",
        "guid": "partner-88412",
        "description": text,
        "pubDate": "Sun, 17 Sep 2023 11:30:00 GMT",
    }
    return original, copy


def subscriber(name: str, url: str, topics: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "url": f"{url}/hooks/{name}",
        "secret_env": "WIREWATCH_TEST_SECRET",
        "topics": topics,
        "local": True,
        **extra,
    }


@pytest.fixture
def servers(secret: str):  # type: ignore[no-untyped-def]
    feeds = FeedServer()
    feeds.start()
    receiver = Receiver(secret=secret)
    rport = receiver.start()
    yield feeds, receiver, f"http://127.0.0.1:{rport}"
    feeds.stop()
    receiver.stop()


def posts_for(receiver: Receiver, name: str) -> list[Any]:
    return [r for r in list(receiver.received) if r.path == f"/hooks/{name}"]


def test_seed_story_gives_exactly_one_signed_alert(servers, make_config, daemons, bootstrap, names, secret):  # type: ignore[no-untyped-def]
    feeds, receiver, rurl = servers
    original, copy = seed_items()
    feeds.routes["/ani.xml"] = Route(rss([original], language="hi"))
    feeds.routes["/partner.xml"] = Route(rss([copy], language="hi"))
    cfg = make_config(
        feeds=[
            {"name": "ani", "url": feeds.url("/ani.xml"), "interval": 1},
            {"name": "partner", "url": feeds.url("/partner.xml"), "interval": 1},
        ],
        subscribers=[
            subscriber("dprk-desk", rurl, ["dprk"]),
            subscriber("english-only", rurl, ["dprk", "russia"], languages=["en"]),
        ],
    )
    for role in ("poll", "filter", "alert"):
        daemons(role, cfg)

    wait_until(lambda: posts_for(receiver, "dprk-desk"), 60, what="the first alert")
    # Let several more poll cycles pass and the alerter consume both copies of the story.
    polls_before = len(feeds.requests)
    wait_until(lambda: len(feeds.requests) >= polls_before + 6, 30, what="re-polls")
    wait_until(lambda: group_caught_up(bootstrap, names.alerter_group, names.matches), 30, what="alerter caught up")
    time.sleep(1)

    posts = posts_for(receiver, "dprk-desk")
    assert len(posts) == 1, [p.json["story"]["url"] for p in posts]
    alert = posts[0]
    assert verify(secret, alert.headers, alert.body)
    assert alert.headers["webhook-signature"].startswith("v1,")
    body = alert.json
    assert body["story"]["language"] == "hi"
    assert {"dprk", "russia"} <= set(body["topics"])
    assert body["topics"]["dprk"]["terms"], "the terms that matched are carried"
    assert body["topics"]["russia"]["terms"]
    story_text = f"{original['title']}\n{seed_text()}"
    first = body["topics"]["dprk"]["hits"][0]
    assert first["term"] in body["topics"]["dprk"]["terms"]
    assert story_text[first["start"] : first["end"]].strip(), "hit offsets point into the story's title + text"
    assert body["topics"]["dprk"]["snippet"]
    # How late it is, hop by hop, and one trace from the poller to the receiver
    t = body["timings"]
    assert t["published"] in ("2023-09-17T10:00:00Z", "2023-09-17T11:30:00Z")  # whichever copy was first
    hops = [t["fetched"], t["produced"], t["matched"], t["enqueued"], t["sent"]]
    gaps = [seconds_between(a, b) for a, b in pairwise(hops)]
    assert all(g is not None and g >= -0.5 for g in gaps), t  # in order, give or take clock rounding
    assert 0 <= (seconds_between(t["fetched"], t["sent"]) or -1) < 60
    assert trace_id(alert.headers["traceparent"]) == trace_id(body["trace"]["traceparent"]) is not None
    assert alert.headers["traceparent"] != body["trace"]["traceparent"], "the POST is its own span"
    assert posts_for(receiver, "english-only") == []
    # The conditional GET was used on re-polls.
    assert any("if-none-match" in h for path, h in feeds.requests if path == "/ani.xml")


def nk_items(n: int) -> list[dict[str, str]]:
    """n distinct short English wire items about North Korea (distinct bodies, so none is a duplicate)."""
    return [
        {
            "title": f"North Korea bulletin {i}",
            "link": f"http://127.0.0.1/wire/bulletin-{i}",
            "guid": f"bulletin-{i}",
            "description": f"Item {i}: Pyongyang announced that North Korea will hold drill number {i * 11} "
            f"near the coast, a statement coded {i * 17} said.",
        }
        for i in range(n)
    ]


def slow_stream(servers: Any, make_config: Any, items: list[dict[str, str]], delay: float) -> Any:
    """Config for one wire feed of ``items`` and one dprk subscriber whose receiver takes ``delay`` per alert,
    in batches of 5: keeps a stream in flight while a test kills or signals the daemons."""
    feeds, receiver, rurl = servers
    feeds.routes["/wire.xml"] = Route(rss(items))

    def slow_ok(_rec: Any) -> int:
        time.sleep(delay)
        return 204

    receiver.respond = slow_ok
    return make_config(
        feeds=[{"name": "wire", "url": feeds.url("/wire.xml"), "interval": 2}],
        subscribers=[subscriber("dprk-desk", rurl, ["dprk"])],
        settings={"kafka": {"max_poll_records": 5}},
    )


def test_killing_filter_and_alerter_mid_stream_loses_no_alert(servers, make_config, daemons, names):  # type: ignore[no-untyped-def]
    receiver = servers[1]
    n = 30
    items = nk_items(n)
    cfg = slow_stream(servers, make_config, items, delay=0.15)
    poller = daemons("poll", cfg)
    filt = daemons("filter", cfg)
    alert = daemons("alert", cfg)

    wait_until(lambda: len(receiver.received) >= 5, 60, what="the first alerts")
    filt.kill()
    alert.kill()
    assert len(receiver.unique()) < n, "the kill must happen mid-stream"
    daemons("filter", cfg)
    daemons("alert", cfg)
    wait_until(lambda: len(receiver.unique()) >= n, 90, what=f"all {n} alerts")
    time.sleep(1)

    by_id: dict[str, set[str]] = {}
    for rec in receiver.received:
        by_id.setdefault(rec.webhook_id, set()).add(rec.json["story"]["url"])
    assert all(len(urls) == 1 for urls in by_id.values()), "a repeat must carry the same webhook-id"
    assert {u for urls in by_id.values() for u in urls} == {it["link"] for it in items}
    assert poller.proc.poll() is None

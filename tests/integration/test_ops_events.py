"""The ops subscriber on real daemons (poller and alerter processes, the embedded broker, Redis, a verifying
webhook receiver): a feed that stopped publishing gives exactly one signed ``feed.quiet`` to the subscriber with
``ops: true``, none for a feed with its usual gaps, none to an ordinary subscriber, and none more after both
daemons are killed and started again."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from tests.integration.test_pipeline import posts_for, servers, subscriber  # noqa: F401 - servers is a fixture
from tests.support import ROOT, rss, wait_until
from workers.devstack.feedserver import Route
from workers.poller.quiet import Activity, fold

pytestmark = pytest.mark.integration

ITEMS = [
    {"title": f"Story {i}", "link": f"http://127.0.0.1/s/{i}", "guid": f"g{i}", "description": "x"} for i in range(3)
]


def history(silent_h: float, now: float) -> Activity:
    """Two weeks of polls every 10 minutes finding something new every hour, up to ``silent_h`` hours ago: the
    last poll found the feed fine, the next one (the daemon's) finds it silent for ``silent_h`` hours."""
    act, t = Activity(), now - 15 * 86400
    while t < now - silent_h * 3600:
        t += 600
        act = fold(act, t, found_new=int(t) // 600 % 6 == 0)
    return act


def test_a_stopped_feed_gives_one_feed_quiet_to_the_ops_subscriber(servers, make_config, daemons, redis, names):  # type: ignore[no-untyped-def]  # noqa: F811
    feeds, receiver, rurl = servers
    now = time.time()
    feed_list = []
    for name, silent_h in (("stopped", 20), ("fine", 0.5)):
        route = Route(rss(ITEMS))
        feeds.routes[f"/{name}.xml"] = route
        url = feeds.url(f"/{name}.xml")
        feed_list.append({"name": name, "url": url, "interval": 1})
        # as after weeks of polling: its publishing record, and the ETag of what it serves, so each poll is a 304
        redis.hset(names.feed_health(name), mapping={"activity": history(silent_h, now).to_json()})
        redis.hset(names.validators(url), mapping={"etag": route.etag})
    cfg = make_config(
        feeds=feed_list,
        subscribers=[
            {**subscriber("ops-desk", rurl, []), "ops": True},
            subscriber("dprk-desk", rurl, ["dprk"]),
        ],
    )
    poll, alert = daemons("poll", cfg), daemons("alert", cfg)
    (post,) = wait_until(lambda: posts_for(receiver, "ops-desk"), 60, what="the feed.quiet")
    assert post.verified, "signed like every event"
    event = post.json
    jsonschema.validate(event, json.loads((ROOT / "docs" / "feed.quiet.schema.json").read_text()))
    assert event["type"] == "feed.quiet" and event["feed"]["name"] == "stopped"
    assert event["alert_id"] == post.webhook_id
    assert event["expected_publications"] >= 10
    time.sleep(4)  # more polls of both feeds, and more checks of the alerter
    for d in (poll, alert):  # a crash of both, then a restart: nothing is sent again
        d.kill()
    poll, alert = daemons("poll", cfg), daemons("alert", cfg)
    wait_until(lambda: "alert started" in alert.output() and "poll started" in poll.output(), 60, what="restart")
    time.sleep(8)
    assert [p.json["feed"]["name"] for p in posts_for(receiver, "ops-desk")] == ["stopped"]
    assert not posts_for(receiver, "dprk-desk"), "an ordinary subscriber gets no ops events"
    assert redis.hget(names.feed_health("stopped"), "quiet") == b"1"
    assert redis.hget(names.feed_health("fine"), "quiet") == b"0"

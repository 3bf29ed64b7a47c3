"""One bad record of each kind mixed into 100 good stories, through the real daemons (issue 12): a poller, a
filter and an alerter as processes, the embedded broker, Redis, a feed server and a webhook receiver.

Every good story gives one alert per subscriber (two), among them a story written with zstd and one with lz4 by
another client, a 600 KB story, and a feed entry whose link has a bad port; every bad record is in its dead-letter
topic with its reason; no daemon restarted (the same processes are alive at the end)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from kafka import KafkaProducer

from tests.stage_support import SUBSCRIBERS, alerts, good_story, produce_values, subscribers
from tests.support import Daemon, read_topic, rss, wait_until
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.receiver import Receiver
from workers.infra.kafka import ensure_topics, topic_specs
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration

GOOD = 100


def test_one_bad_record_of_each_kind_among_100_good_stories(
    make_config: Any,
    daemons: Callable[..., Daemon],
    receiver: Receiver,
    feed_server: FeedServer,
    bootstrap: str,
    names: Names,
) -> None:
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    rurl = receiver.url  # type: ignore[attr-defined]
    # a feed entry with a link whose port is not a number: processed (its id comes from the guid)
    feed_server.routes["/quirks.xml"] = Route(
        rss(
            [
                {
                    "title": "Pyongyang port story",
                    "link": "http://example.com:80a/x",
                    "guid": "quirk-bad-port",
                    "description": "North Korea opened a new port on its east coast, KCNA said on Monday.",
                }
            ]
        )
    )
    # a subscriber whose URL cannot be sent to (loopback without local: true): its one alert is a dead letter
    outside = {
        "name": "outside",
        "url": f"{rurl}/hooks/outside",
        "secret_env": "WIREWATCH_TEST_SECRET",
        "topics": ["russia"],
    }
    cfg = make_config(
        feeds=[{"name": "quirks", "url": feed_server.url("/quirks.xml"), "interval": 1}],
        subscribers=[*subscribers(rurl), outside],
        settings={"kafka": {"partitions": 2}},
    )
    procs = {role: daemons(role, cfg) for role in ("poll", "filter", "alert")}
    pids = {role: d.proc.pid for role, d in procs.items()}

    good = [good_story(i) for i in range(GOOD - 4)]
    kremlin = good_story(GOOD - 4)
    kremlin = replace(kremlin, text=kremlin.text + " The Kremlin welcomed the launch.")
    big = good_story(GOOD - 3)
    filler = " ".join(f"w{i % 997}x{i // 997}" for i in range(75_000))  # ~600 KB of distinct words
    big = replace(big, text=big.text + " " + filler)
    zstd_story, lz4_story = good_story(GOOD - 2), good_story(GOOD - 1)
    huge_title = good_story(0, "oversize")
    # under the producer's 1 MiB as a record, over the match event's 1 000 000 bytes: only html and text are cut
    huge_title = replace(huge_title, title="Pyongyang " + "a " * 505_000)
    bad_stories = {
        b"{not json": "malformed story",
        json.dumps({"id": "only-an-id"}).encode(): "malformed story",
        b"\xff\xfe\x00\x81 not utf-8": "malformed story",
        huge_title.to_json(): "story too large",
    }
    bad_matches = {json.dumps({"schema": 1, "story": 7}).encode(): "malformed match"}
    # the bad records go first and in the middle, so the good ones around them must not wait for them
    values = [(b"bad", v) for v in list(bad_stories)[:2]]
    values += [(s.id.encode(), s.to_json()) for s in good[:50]]
    values += [(b"bad", v) for v in list(bad_stories)[2:]]
    values += [(s.id.encode(), s.to_json()) for s in [*good[50:], kremlin, big]]
    produce_values(bootstrap, names.stories, values)
    produce_values(bootstrap, names.matches, [(b"bad", v) for v in bad_matches])
    for codec, story in (("zstd", zstd_story), ("lz4", lz4_story)):  # another client's producer
        writer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks="all")
        try:
            writer.send(names.stories, key=story.id.encode(), value=story.to_json()).get(timeout=30)
        finally:
            writer.close()

    expected = {s.id for s in [*good, kremlin, big, zstd_story, lz4_story]}
    assert len(expected) == GOOD

    def from_feed() -> dict[str, list[str]]:  # the feed entry's story id is the poller's (guid scoped to the feed)
        out: dict[str, list[str]] = {}
        for r in list(receiver.received):
            if r.json["story"]["title"] == "Pyongyang port story":
                out.setdefault(r.path.rsplit("/", 1)[-1], []).append(r.json["story"]["id"])
        return out

    def everything_arrived() -> bool:
        got, quirks = alerts(receiver), from_feed()
        return all(expected <= set(got[s]) and quirks.get(s) for s in SUBSCRIBERS)

    try:
        wait_until(everything_arrived, timeout=150, interval=0.5, what="every good alert")
    except AssertionError:
        got = alerts(receiver)
        missing = {s: sorted(expected - set(got[s])) for s in SUBSCRIBERS}
        logs = {
            role: [ln for ln in d.output().splitlines() if '"level": "info"' not in ln][-15:]
            for role, d in procs.items()
        }
        raise AssertionError(f"missing {missing}, from the feed {from_feed()}, logs {logs}") from None
    story_dlq = read_topic(bootstrap, names.stories_dlq, expect=len(bad_stories), timeout=30)
    alert_dlq = read_topic(bootstrap, names.alerts_dlq, expect=len(bad_matches) + 1, timeout=30)
    time.sleep(2)  # a late duplicate would show now
    got = alerts(receiver)
    quirks = from_feed()
    for s in SUBSCRIBERS:
        assert len(quirks[s]) == 1, quirks
        assert sorted(got[s]) == sorted(expected | set(quirks[s])), f"{s}: each good story exactly once"
    assert "outside" not in got or not got["outside"], "the unsendable subscriber got nothing"

    story_letters = [json.loads(r.value) for r in story_dlq]
    assert len(story_letters) == len(bad_stories)
    for value, reason in bad_stories.items():
        # an oversize record is kept cut (the envelope must fit the producer's limit), with its size
        (letter,) = [d for d in story_letters if value.startswith(base64.b64decode(d["value_b64"]))]
        assert letter["reason"].startswith(reason), (value[:40], letter["reason"])
        assert letter.get("value_bytes", len(value)) == len(value)
    alert_letters = [json.loads(r.value) for r in alert_dlq]
    malformed = [d for d in alert_letters if "value_b64" in d]
    assert [base64.b64decode(d["value_b64"]) for d in malformed] == list(bad_matches)
    assert all(d["reason"].startswith("malformed match") for d in malformed)
    unsendable = [d for d in alert_letters if d.get("payload", {}).get("subscriber") == "outside"]
    assert [d["payload"]["alert"]["story"]["id"] for d in unsendable] == [kremlin.id], alert_letters
    assert unsendable[0]["reason"]
    print("dead letters:", sorted({d["reason"][:70] for d in story_letters + alert_letters}))

    for role, d in procs.items():
        assert d.proc.poll() is None and d.proc.pid == pids[role], f"{role} restarted:\n{d.output()[-3000:]}"
        assert "Traceback" not in d.output(), d.output()[-3000:]

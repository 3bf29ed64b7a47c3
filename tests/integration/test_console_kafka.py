"""The console's Kafka side on the real broker: its group-less reader picks up the matches (live list, hourly
counts) and the alerts dead letters, and the portal's replay of one alert or a time range parks exactly those."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.alerter_support import match
from tests.console_support import console_config, make_console
from tests.support import wait_until
from workers.alerter.outbox import Outbox
from workers.app.configure import load_config
from workers.infra.kafka import ensure_topics, make_producer, send_all, topic_specs

pytestmark = pytest.mark.integration


def envelope(subscriber: str, alert_id: str, at: float) -> bytes:
    alert = {"alert_id": alert_id, "subscriber": subscriber, "type": "story.matched", "story": {"title": alert_id}}
    payload = {"subscriber": subscriber, "alert": alert, "attempts": 3}
    return json.dumps({"reason": "gave up after 3 attempts", "at": at, "payload": payload}).encode()


def test_reader_and_replay_on_the_real_broker(
    bootstrap: str, redis: Any, make_config: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREWATCH_TEST_SECRET", secret)
    cfg = load_config(console_config(make_config, "http://127.0.0.1:9"))
    names = cfg.names
    ensure_topics(bootstrap, topic_specs(names, cfg.settings.kafka))
    now = time.time()
    letters = [("desk-a", "old", now - 7200), ("desk-a", "mid", now - 3600), ("desk-a", "new", now - 60)]
    letters.append(("desk-b", "other", now - 3600))
    producer = make_producer(bootstrap, "test-console")
    try:
        send_all(producer, [(names.alerts_dlq, aid.encode(), envelope(sub, aid, at)) for sub, aid, at in letters])
        send_all(
            producer, [(names.matches, b"story-1", match(1).to_json()), (names.matches, b"story-2", match(2).to_json())]
        )
    finally:
        producer.close()
    console = make_console(cfg, redis, bootstrap)
    console.tail.start()
    try:
        wait_until(lambda: len(console.tail.dead_letters(names.alerts_dlq)) == 4, 30, what="the dead letters")
        wait_until(lambda: console.tail.last_seq == 2, 30, what="the matches")
        assert sum(console.tail.hourly()["dprk"]) == 2 and console.tail.hourly()["dprk"][-1] == 2
        assert [m.title for m in console.tail.recent_matches()] == ["North Korea dispatch 2", "North Korea dispatch 1"]
        queue = Outbox(redis, names, 3600)
        # a time range: "mid" and "new" of desk-a, never desk-b's letter of the same hour
        assert console.state.replay("desk-a", since=now - 5400, until=now) == 2
        assert sorted(p.id for p, _ in queue.items("desk-a")) == ["mid", "new"]
        assert queue.items("desk-b") == []
        # one alert, by its dead letter's place; desk-a cannot replay desk-b's by naming it
        ref = next(d.ref for d in console.tail.dead_letters(names.alerts_dlq) if d.alert_id == "old")
        other = next(d.ref for d in console.tail.dead_letters(names.alerts_dlq) if d.alert_id == "other")
        assert console.state.replay("desk-a", ref=other) == 0
        assert console.state.replay("desk-a", ref=ref) == 1
        assert sorted(p.id for p, _ in queue.items("desk-a")) == ["mid", "new", "old"]
        # each dead letter is replayed once: a second replay of the same range queues nothing
        assert console.state.replay("desk-b", since=now - 86400) == 1
        assert console.state.replay("desk-b", since=now - 86400) == 0
    finally:
        console.tail.stop()

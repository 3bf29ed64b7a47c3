"""feed.quiet and topic.quiet in the alerter, on a real Redis: one event per ops subscriber per (feed or topic,
day), none after a restart or a second alerter, none for a busy day; the notes and counts they come from."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from tests.support import ROOT
from workers.alerter.opsevents import OpsEvents, quiet_yesterday
from workers.alerter.outbox import Outbox
from workers.alerter.spikes import SpikeParams
from workers.core.names import Names
from workers.core.opsevents import DAY_S, QuietFeed, ops_event_id
from workers.evaluation.spikes_sim import MONDAY, WEEK_S, Background, matches, run
from workers.infra import metrics
from workers.poller.quiet import note_quiet
from workers.settings.config import Subscriber

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]  # every key on standalone Redis and a cluster

PARAMS = SpikeParams()
OPS = Subscriber(name="ops-desk", url="https://ops.example/hook", secret_env="S", ops=True)
DESK = Subscriber(name="desk", url="https://desk.example/hook", secret_env="S", topics=["dprk", "volcano"])


def ops_events(redis: Any, names: Names, sub: str = "ops-desk") -> list[dict[str, Any]]:
    items = redis.hgetall(names.outbox_items(sub))
    return sorted((json.loads(v)["alert"] for v in items.values()), key=lambda a: a["alert_id"])


def alerter_ops(redis: Any, names: Names, now: float) -> OpsEvents:
    return OpsEvents(redis, names, Outbox(redis, names, 3600), PARAMS, clock=lambda: now)


def schema(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "docs" / f"{name}.schema.json").read_text())


def test_a_noted_quiet_feed_is_one_feed_quiet_per_ops_subscriber(redis, names) -> None:  # type: ignore[no-untyped-def]
    now = 1_780_000_000.0
    note = QuietFeed("wire", "https://wire.example/rss", now, now - 20 * 3600, 19.6, 10.0)
    again = QuietFeed("wire", "https://wire.example/rss", now + 60, now - 20 * 3600, 19.7, 10.0)  # a redone poll
    with redis.pipeline(transaction=False) as pipe:
        note_quiet(pipe, names.quiet_feed_events(), note)
        note_quiet(pipe, names.quiet_feed_events(), again)
        pipe.execute()
    woken = alerter_ops(redis, names, now).check([OPS, DESK])
    assert woken == {"ops-desk"}
    (event,) = ops_events(redis, names)
    jsonschema.validate(event, schema("feed.quiet"))
    assert event["type"] == "feed.quiet" and event["feed"] == {"name": "wire", "url": "https://wire.example/rss"}
    assert event["alert_id"] == ops_event_id("ops-desk", "feed.quiet", "wire", int(now // DAY_S))
    assert event["expected_publications"] == 19.6 and event["last_new_at"].endswith("Z")
    assert redis.zcard(names.quiet_feed_events()) == 0, "the notes are removed once queued"
    assert not redis.exists(names.outbox_items("desk")), "a subscriber without ops: true gets none"
    # a restart of the alerter (or a second one), and the poller noting it again the same day: nothing new
    with redis.pipeline(transaction=False) as pipe:
        note_quiet(pipe, names.quiet_feed_events(), again)
        pipe.execute()
    assert alerter_ops(redis, names, now + 120).check([OPS, DESK]) == set()
    assert len(ops_events(redis, names)) == 1


def test_a_damaged_note_is_skipped_and_the_rest_go(redis, names) -> None:  # type: ignore[no-untyped-def]
    now = 1_780_000_000.0
    redis.zadd(names.quiet_feed_events(), {"{not json": now, "[]": now})
    with redis.pipeline(transaction=False) as pipe:
        note_quiet(pipe, names.quiet_feed_events(), QuietFeed("a", "https://a.example/", now, None, 12.0, 10.0))
        pipe.execute()
    alerter_ops(redis, names, now).check([OPS])
    assert [e["feed"]["name"] for e in ops_events(redis, names)] == ["a"]
    assert ops_events(redis, names)[0]["last_new_at"] is None
    assert redis.zcard(names.quiet_feed_events()) == 0


def spike_state(weeks: int, per_day: float, seed: int) -> tuple[Any, float]:
    """A topic's spike record after ``weeks`` of simulated background, and the Tuesday after."""
    _, state = run(weeks, PARAMS, Background(events_per_day=per_day), seed=seed)
    return state, MONDAY + weeks * WEEK_S + 86400


def test_a_collapsed_topic_day_is_one_topic_quiet_and_a_usual_one_none(redis, names) -> None:  # type: ignore[no-untyped-def]
    state, tuesday = spike_state(3, 40, seed=11)
    day = int(tuesday // DAY_S)
    usual = sum(1 for _ in matches(tuesday, tuesday + DAY_S, Background(events_per_day=40), random.Random(11)))
    for topic in ("dprk", "volcano"):
        redis.set(names.topic_spikes(topic), json.dumps({"state": state.to_json(), "stories": []}))
    redis.hset(names.topic_day_counts(day), mapping={"dprk": 3, "volcano": usual})  # dprk's markup broke
    wednesday = tuesday + DAY_S + 60
    ops = alerter_ops(redis, names, wednesday)
    assert ops.check([OPS, DESK]) == {"ops-desk"}
    (event,) = ops_events(redis, names)
    jsonschema.validate(event, schema("topic.quiet"))
    assert (event["type"], event["topic"], event["count"]) == ("topic.quiet", "dprk", 3)
    assert event["expected"] > 5 * 3  # under a fifth of what the baseline expected
    assert event["day"] == datetime.fromtimestamp(day * DAY_S, UTC).date().isoformat()
    assert ops.quiet_topics == {"dprk"} and quiet_yesterday(redis, names, wednesday) == {"dprk"}  # the console's
    assert metrics.TOPIC_QUIET.labels(topic="dprk")._value.get() == 1
    assert metrics.TOPIC_QUIET.labels(topic="volcano")._value.get() == 0
    assert ops.check([OPS, DESK]) == set(), "a day is judged once per process"
    assert alerter_ops(redis, names, wednesday + 300).check([OPS, DESK]) == set(), "and once after a restart"
    assert len(ops_events(redis, names)) == 1


def test_the_quiet_fraction_and_floor_settings_decide(redis, names) -> None:  # type: ignore[no-untyped-def]
    state, tuesday = spike_state(3, 40, seed=11)
    day = int(tuesday // DAY_S)
    redis.set(names.topic_spikes("dprk"), json.dumps({"state": state.to_json(), "stories": []}))
    redis.hset(names.topic_day_counts(day), mapping={"dprk": 3})
    wednesday = tuesday + DAY_S + 60

    def judged(**settings: float) -> set[str]:
        ops = OpsEvents(redis, names, Outbox(redis, names, 3600), PARAMS, clock=lambda: wednesday, **settings)
        ops.judge_topics(day, ["dprk"], [])
        return ops.quiet_topics

    assert judged() == {"dprk"}, "the defaults: a fifth of the expected, at least 10 a day"
    assert judged(floor=10_000) == set(), "a topic expecting fewer than the floor a day is never quiet"
    assert judged(fraction=0.01) == set(), "3 clusters is more than 1% of what a usual day holds"


def test_a_topic_without_a_baseline_is_never_quiet(redis, names) -> None:  # type: ignore[no-untyped-def]
    state, tuesday = spike_state(1, 40, seed=3)  # one week: not every hour of the week has its own baseline
    redis.set(names.topic_spikes("dprk"), json.dumps({"state": state.to_json(), "stories": []}))
    ops = alerter_ops(redis, names, tuesday + DAY_S + 60)
    assert ops.check([OPS, DESK]) == set() and ops.quiet_topics == set()
    assert not redis.exists(names.outbox_items("ops-desk"))


@pytest.mark.parametrize("founded", [0, 2])
def test_founded_clusters_are_counted_per_topic_and_day(redis, names, founded: int) -> None:  # type: ignore[no-untyped-def]
    from workers.core.events import MatchEvent, TopicHit
    from workers.core.stories import Story

    now = 1_780_000_000.0
    hit = TopicHit(terms=["x"], hits=[], snippet="", hit_count=1)
    events = [
        MatchEvent(
            story=Story(
                id=f"s{i}", feed="f", feed_url="https://f.example/", title="t", link=f"https://f.example/{i}", text="x"
            ),
            language="en",
            probability=1.0,
            topics={"dprk": hit, "russia": hit},
        )
        for i in range(founded)
    ]
    alerter_ops(redis, names, now).count(events)
    counts = redis.hgetall(names.topic_day_counts(int(now // DAY_S)))
    assert counts == ({b"dprk": b"2", b"russia": b"2"} if founded else {})

"""Pickup on the real broker, Redis and HTTP: a story carried by 12 feeds within minutes gives its subscriber one
``story.spreading`` at 10 outlets and none at 11 or 12, and none again after a restart."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.schema_support import validator
from tests.support import wait_until
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.devstack.receiver import Receiver
from workers.settings.config import Spreading

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]

TEXT = "Pyongyang said on Sunday that North Korea had tested a new solid-fuel engine at its western launch site."


def outlet(i: int) -> MatchEvent:
    """The same wire story as outlet ``i`` carries it: its own feed, URL and story id."""
    ev = match(100 + i, text=TEXT, title="North Korea tests engine")
    return replace(ev, story=replace(ev.story, feed=f"outlet-{i}", link=f"http://127.0.0.1/outlet-{i}/nk"))


def test_twelve_outlets_give_one_spreading_at_ten(secret: str, names: Names, bootstrap: str, redis: Redis) -> None:
    receiver = Receiver(secret=secret)
    port = receiver.start()
    desk = sub("desk", f"http://127.0.0.1:{port}/desk", spreading=Spreading(outlets=10, within_minutes=60))
    plain = sub("plain", f"http://127.0.0.1:{port}/plain")

    def of(kind: str) -> list[dict]:  # type: ignore[type-arg]
        return [r.json for r in receiver.unique().values() if r.json["type"] == kind]

    try:
        with running_alerter(bootstrap, redis, names, [desk, plain], secret) as alerter:
            for i in range(12):  # one outlet after another, as they pick the story up
                produce(bootstrap, names, [outlet(i)])
                wait_until(lambda i=i: alerter.totals["duplicates"] >= 2 * i, 30, what=f"outlet {i} seen")
            wait_until(lambda: len(of("story.spreading")) >= 1, 30, what="the spreading event")
            assert not alerter.loop_errors
        with running_alerter(bootstrap, redis, names, [desk, plain], secret) as again:  # a restart, then redos
            produce(bootstrap, names, [outlet(i) for i in range(12)])
            wait_until(lambda: again.totals["duplicates"] >= 24, 30, what="the redone outlets seen")
        spreads = of("story.spreading")
        assert len(spreads) == 1 and len(receiver.received) == len(receiver.unique()) == 3
        event = spreads[0]
        validator("story.spreading.schema.json").validate(event)
        assert event["subscriber"] == "desk" and event["step"] == 1 and event["outlet_count"] == 10
        assert event["outlets"][:2] == ["outlet-0", "outlet-1"] and event["story"]["feed"] == "outlet-9"
        assert event["threshold"] == {"outlets": 10, "within_minutes": 60}
        assert sorted(a["subscriber"] for a in of("story.matched")) == ["desk", "plain"], "one alert each"
        assert all(r.verified for r in receiver.received)
    finally:
        receiver.stop()


def test_spreading_marks_expire_slice_by_slice_and_the_old_hash_still_counts(names: Names, redis: Redis) -> None:
    from workers.alerter.outbox import Item, marker_field
    from workers.alerter.spreading import Spreads

    retention = 4000
    CL = {f"cl_{x}": "cl_" + x * 32 for x in "abc"}  # noqa: N806
    spreads = Spreads(redis, names, retention)  # slices of 1,000 s
    queue = names.outbox_queue("desk")

    def send(name: str, n: int, now: float) -> None:
        cluster = CL[name]
        item = Item(f"sp-{name}-{n}", "desk", {"type": "story.spreading", "step": n})
        spreads.enqueue({"desk": [(cluster, n, item)]}, now)

    t0 = 1_700_000_500.0
    send("cl_a", 1, t0)
    send("cl_a", 1, t0 + 1500)  # another slice: the mark of the first is still read
    send("cl_b", 1, t0 + 1500)
    assert sorted(m.decode() for m in redis.zrange(queue, 0, -1)) == ["sp-cl_a-1", "sp-cl_b-1"]
    first, second = spreads.mark_keys("desk", t0)[-1], spreads.mark_keys("desk", t0 + 1500)[-1]
    assert first != second and redis.hget(first, marker_field(CL["cl_a"])) == b"1"
    assert redis.hget(second, marker_field(CL["cl_b"])) == b"1" and redis.hget(second, marker_field(CL["cl_a"])) is None
    assert 0 < redis.ttl(first) < redis.ttl(second) <= retention + 1000, "each slice expires on its own"
    # the layout before: one hash for every mark; a step it holds is not sent again, and it is never written
    redis.hset(names.spreading_marks("desk"), marker_field(CL["cl_c"]), 2)
    send("cl_c", 2, t0 + 1600)
    send("cl_c", 3, t0 + 1600)
    assert redis.zscore(queue, "sp-cl_c-2") is None and redis.zscore(queue, "sp-cl_c-3") is not None
    assert redis.hlen(names.spreading_marks("desk")) == 1
    # past the retention the first slice is no longer read (redis would have expired it by then)
    assert first not in spreads.mark_keys("desk", t0 + retention + 1000)

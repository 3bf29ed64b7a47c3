"""An outbox item whose stored bytes do not decode, on the real broker, Redis and receiver: it is dead-lettered
with its bytes and why, and its subscriber's other items are delivered in order (before, a broken item failed
the lane's whole take at every lease, and that subscriber's deliveries stopped)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from redis import Redis

from tests.alerter_support import match, running_alerter, sub
from tests.support import read_topic, wait_until
from workers.alerter.dedup import alert_id
from workers.alerter.outbox import Item, Outbox
from workers.alerter.worker import build_alert
from workers.core.names import Names
from workers.devstack.receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]

BROKEN = {
    "msg_broken_json": b'{"id": "msg_broken_json", "subscriber": "desk", "alert": {',
    "msg_no_alert": json.dumps({"id": "msg_no_alert", "subscriber": "desk", "attempts": 0}).encode(),
}


def test_an_undecodable_item_is_dead_lettered_and_the_items_around_it_go_out_in_order(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    desk = sub("desk", f"{receiver.url}/desk", concurrency=1)  # type: ignore[attr-defined]
    outbox = Outbox(redis, names, 3600)
    now = time.time()
    good = []
    for n, i in enumerate(range(1, 4)):  # good, broken JSON, good, a required field missing, good
        aid = alert_id("desk", f"story-{i}")
        outbox.put(Item(aid, "desk", build_alert(desk, match(i), aid, 100), queued_at=now), due=now + 2 * n * 1e-3)
        good.append(aid)
    for n, (item_id, raw) in enumerate(BROKEN.items()):
        redis.hset(names.outbox_items("desk"), item_id, raw)
        redis.zadd(names.outbox_queue("desk"), {item_id: now + (2 * n + 1) * 1e-3})

    with running_alerter(bootstrap, redis, names, [desk], secret) as alerter:
        wait_until(lambda: len(receiver.received) >= 3, 30, what="the good items")
        letters = read_topic(bootstrap, names.alerts_dlq, 2, timeout=30)
        wait_until(lambda: redis.zcard(names.outbox_queue("desk")) == 0, 10, what="every item settled")
        assert alerter.totals["delivered"] == 3
    assert [r.webhook_id for r in receiver.received] == good, "the good items, once each, in queue order"
    bodies = {r.key.decode(): json.loads(r.value) for r in letters}
    assert set(bodies) == set(BROKEN)
    for item_id, body in bodies.items():
        assert body["reason"].startswith("undecodable outbox item: "), body["reason"]
        assert body["payload"]["subscriber"] == "desk" and body["payload"]["item_id"] == item_id
        assert base64.b64decode(body["payload"]["value_b64"]) == BROKEN[item_id], "the stored bytes, as they were"
    assert "JSONDecodeError" in bodies["msg_broken_json"]["reason"]
    assert "alert" in bodies["msg_no_alert"]["reason"], "the missing field is named"
    assert redis.hlen(names.outbox_items("desk")) == 0, "nothing left behind"


def test_an_undecodable_item_in_a_digest_buffer_is_dead_lettered_and_the_digest_goes_out(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    batch = sub("batch", f"{receiver.url}/batch", digest_seconds=1)  # type: ignore[attr-defined]
    outbox = Outbox(redis, names, 3600)
    now = time.time()
    aids = [alert_id("batch", f"story-{i}") for i in (1, 2)]
    for i, aid in zip((1, 2), aids, strict=True):
        outbox.put(Item(aid, "batch", build_alert(batch, match(i), aid, 100), queued_at=now), now, buffered=True)
    redis.hset(names.outbox_items("batch"), "msg_broken_json", BROKEN["msg_broken_json"])
    redis.zadd(names.outbox_buffer("batch"), {"msg_broken_json": now})

    with running_alerter(bootstrap, redis, names, [batch], secret):
        wait_until(lambda: len(receiver.received) >= 1, 30, what="the digest")
        letters = read_topic(bootstrap, names.alerts_dlq, 1, timeout=30)
        time.sleep(1.5)  # a second digest would arrive by now
    assert [sorted(a["alert_id"] for a in r.json["alerts"]) for r in receiver.received] == [sorted(aids)]
    assert [r.key for r in letters] == [b"msg_broken_json"]
    assert json.loads(letters[0].value)["reason"].startswith("undecodable outbox item: JSONDecodeError")


def test_a_broken_item_that_cannot_be_dead_lettered_now_stays_leased_and_the_take_goes_on(
    redis: Redis, names: Names
) -> None:
    outbox = Outbox(redis, names, 3600)
    now = time.time()
    outbox.put(Item("msg_good", "desk", {"alert_id": "msg_good"}, queued_at=now), due=now)
    redis.hset(names.outbox_items("desk"), "msg_broken_json", BROKEN["msg_broken_json"])
    redis.zadd(names.outbox_queue("desk"), {"msg_broken_json": now - 1})
    tried: list[str] = []

    def kafka_down(item: object) -> None:
        tried.append(getattr(item, "id", ""))
        raise ConnectionError("Kafka unreachable")

    outbox.undecodable = kafka_down
    assert [i.id for i, _ in outbox.take("desk", 10, lease_s=60)] == ["msg_good"], "the good item is still taken"
    assert tried == ["msg_broken_json"]
    assert redis.hexists(names.outbox_items("desk"), "msg_broken_json"), "kept, to be dead-lettered later"
    assert float(redis.zscore(names.outbox_queue("desk"), "msg_broken_json") or 0) > now + 50, "leased, not due"
    letters: list[str] = []
    outbox.undecodable = lambda item: letters.append(item.id)
    redis.zadd(names.outbox_queue("desk"), {"msg_broken_json": now - 1})  # its lease ended
    assert outbox.take("desk", 10, lease_s=60) == []
    assert letters == ["msg_broken_json"] and not redis.hexists(names.outbox_items("desk"), "msg_broken_json")

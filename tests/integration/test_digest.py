"""Digest batching on real servers: alerts buffered in Redis and sent as one signed POST per period, next to a
subscriber that gets one POST per alert; a kill between buffering and sealing; retries of a digest; config."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.support import ROOT, wait_until
from workers.alerter.dedup import alert_id, cluster_name, founding_cluster
from workers.alerter.digest import build_digest, digest_id, seal_due
from workers.alerter.outbox import COPY, QUEUED, REPEAT, Item, Outbox, Outgoing
from workers.app.cli import main as cli
from workers.app.configure import load_config
from workers.core.errors import ConfigError
from workers.core.names import Names
from workers.devstack.receiver import Received, Receiver

pytestmark = pytest.mark.redis_cluster  # standalone and a 3-primary Redis Cluster


def digests(receiver: Receiver, name: str) -> list[Received]:
    """The accepted digests of one subscriber, one per webhook-id."""
    return [r for r in receiver.unique().values() if r.path == f"/{name}" and r.json["type"] == "digest"]


def alerts_in(posts: list[Received]) -> list[str]:
    return [a["alert_id"] for p in posts for a in p.json["alerts"]]


def test_digest_payload_follows_the_documented_schema() -> None:
    schema = json.loads((ROOT / "docs" / "digest.schema.json").read_text())
    ids = [alert_id("desk", f"story-{i}") for i in range(3)]
    did = digest_id("desk", ids)
    assert did == digest_id("desk", list(reversed(ids))) != digest_id("desk", ids[:2])
    digest = build_digest("desk", [{"alert_id": i} for i in ids], did)
    assert set(schema["required"]) == set(digest) == set(schema["properties"])
    assert digest["type"] == schema["properties"]["type"]["const"] and digest["count"] == 3
    assert schema["properties"]["alerts"]["items"] == {"$ref": "alert.schema.json"}


@pytest.mark.parametrize("value", [0, -1, "soon"])
def test_digest_seconds_must_be_a_positive_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    from tests.unit.settings.test_config import GOOD_FEEDS, write
    from tests.unit.settings.test_config import sub as sub_file

    monkeypatch.setenv("WW_TEST_SECRET", "whsec_" + "a" * 44)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers=sub_file(digest_seconds=value)))
    assert "subscribers.yaml: subscribers[0].digest_seconds" in str(err.value)
    ok = load_config(write(tmp_path / "ok", feeds=GOOD_FEEDS, subscribers=sub_file(digest_seconds=60)))
    assert ok.subscribers[0].digest_seconds == 60
    off = load_config(write(tmp_path / "off", feeds=GOOD_FEEDS, subscribers=sub_file()))
    assert off.subscribers[0].digest_seconds is None


@pytest.mark.integration
def test_digest_subscriber_gets_batches_while_another_gets_one_post_per_alert(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    n = 10
    url = receiver.url  # type: ignore[attr-defined]
    subs = [sub("each", f"{url}/each"), sub("batch", f"{url}/batch", digest_seconds=1)]
    with running_alerter(bootstrap, redis, names, subs, secret, digest_max_alerts=4):
        produce(bootstrap, names, [match(i) for i in range(n)])
        wait_until(lambda: len(alerts_in(digests(receiver, "batch"))) >= n, 30, what="every alert in a digest")
        wait_until(lambda: len([r for r in receiver.unique().values() if r.path == "/each"]) >= n, 30, what="each")
    posts = digests(receiver, "batch")
    contained = alerts_in(posts)
    assert sorted(contained) == sorted(alert_id("batch", f"story-{i}") for i in range(n)), "every alert exactly once"
    assert len(posts) >= 3 and all(0 < p.json["count"] == len(p.json["alerts"]) <= 4 for p in posts)
    assert all(p.verified and p.webhook_id == p.json["digest_id"] for p in posts)
    assert all(a["subscriber"] == "batch" and a["type"] == "story.matched" for p in posts for a in p.json["alerts"])
    each = [r for r in receiver.received if r.path == "/each"]
    assert len({r.webhook_id for r in each}) == n and all(r.json["type"] == "story.matched" for r in each)
    # delivered: the digests were settled, nothing is left in the subscriber's outbox
    wait_until(lambda: redis.hlen(names.outbox_items("batch")) == 0, 5, what="the outbox emptied")
    assert redis.zcard(names.outbox_buffer("batch")) == 0 and redis.zcard(names.outbox_queue("batch")) == 0


@pytest.mark.integration
def test_failing_digest_endpoint_is_retried_under_the_same_webhook_id(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    attempts: dict[str, int] = defaultdict(int)

    def respond(rec: Received) -> int:
        attempts[rec.webhook_id] += 1
        return 500 if attempts[rec.webhook_id] <= 2 else 204

    receiver.respond = respond
    n = 5
    subs = [sub("batch", f"{receiver.url}/batch", digest_seconds=1)]  # type: ignore[attr-defined]
    with running_alerter(bootstrap, redis, names, subs, secret, retry_schedule=[0.3, 0.3, 0.3]):
        produce(bootstrap, names, [match(i) for i in range(n)])
        wait_until(lambda: len(alerts_in(digests(receiver, "batch"))) >= n, 30, what="digests delivered")
    posts = digests(receiver, "batch")
    assert sorted(alerts_in(posts)) == sorted(alert_id("batch", f"story-{i}") for i in range(n))
    # two 500s then a 204, all under the digest's own id: a receiver can drop repeats by it
    assert {p.webhook_id: attempts[p.webhook_id] for p in posts} == {p.webhook_id: 3 for p in posts}
    assert set(attempts) == {p.webhook_id for p in posts}
    wait_until(lambda: redis.zcard(names.outbox_queue("batch")) == 0, 5, what="the queue emptied")


@pytest.mark.integration
def test_buffered_alerts_survive_a_kill_of_the_alerter(  # type: ignore[no-untyped-def]
    receiver: Receiver, secret: str, make_config, daemons, names: Names, bootstrap: str, redis: Redis
) -> None:
    n = 6
    desk = {
        "name": "desk",
        "url": f"{receiver.url}/desk",  # type: ignore[attr-defined]
        "secret_env": "WIREWATCH_TEST_SECRET",
        "topics": ["dprk"],
        "local": True,
        "digest_seconds": 600,  # never due while the first alerter lives
    }
    cfg = make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}], subscribers=[desk])
    first = daemons("alert", cfg)
    produce(bootstrap, names, [match(i) for i in range(n)])
    buffer = names.outbox_buffer("desk")
    wait_until(lambda: redis.zcard(buffer) >= n, 30, what="every alert buffered")
    first.kill()  # maybe before its offsets were committed: the next alerter may read the batch again
    assert receiver.received == []
    for member in redis.zrange(buffer, 0, -1):  # the period has passed, as time would make it
        redis.zadd(buffer, {member: 0})
    daemons("alert", cfg)
    wait_until(lambda: len(alerts_in(digests(receiver, "desk"))) >= n, 30, what="the digest after the restart")
    seen_in: dict[str, set[str]] = defaultdict(set)
    for rec in receiver.received:
        for a in rec.json["alerts"]:
            seen_in[a["alert_id"]].add(rec.webhook_id)
    assert sorted(seen_in) == sorted(alert_id("desk", f"story-{i}") for i in range(n)), "nothing lost"
    assert all(len(ids) == 1 for ids in seen_in.values()), "no alert in two digests with different ids"
    assert redis.zcard(buffer) == 0


@pytest.mark.integration
def test_a_sealed_alert_never_enters_a_second_digest_and_a_stale_seal_fails(redis: Redis, names: Names) -> None:
    outbox = Outbox(redis, names, retention_s=60)
    aids = [alert_id("desk", f"story-{i}") for i in range(3)]
    clusters = [cluster_name(founding_cluster(f"story-{i}")) for i in range(3)]

    def batch() -> dict[str, tuple[bool, list[Outgoing]]]:
        items = [Item(a, "desk", {"alert_id": a}, clusters=[c]) for a, c in zip(aids, clusters, strict=True)]
        return {"desk": (True, [Outgoing(i, c) for i, c in zip(items, clusters, strict=True)])}

    assert outbox.enqueue(batch()) == {"desk": [QUEUED] * 3}
    assert outbox.enqueue(batch()) == {"desk": [REPEAT] * 3}, "a batch done again buffers nothing"
    _, stale = outbox.buffered("desk", 2)
    assert seal_due(outbox, "desk", 600, 2, time.time()) == 0, "not due yet"
    assert seal_due(outbox, "desk", 0, 2, time.time()) == 2, "three alerts, two per digest"
    assert redis.zcard(names.outbox_buffer("desk")) == 0
    digest = Item("dig_x", "desk", build_digest("desk", [i.alert for i in stale], "dig_x"))
    assert not outbox.seal(digest, [i.id for i in stale]), "another alerter sealed these: no second digest"
    assert outbox.enqueue(batch()) == {"desk": [REPEAT] * 3}, "sealed: a re-read batch does not buffer it again"
    other = Item(alert_id("desk", "copy"), "desk", {"alert_id": "c"}, clusters=[clusters[0]])
    assert outbox.enqueue({"desk": (True, [Outgoing(other, clusters[0])])}) == {"desk": [COPY]}
    queued = outbox.items("desk")
    assert sorted(a["alert_id"] for it, _ in queued for a in it.alert["alerts"]) == sorted(aids)
    assert sorted(c for it, _ in queued for c in it.clusters) == sorted(clusters)


@pytest.mark.integration
@pytest.mark.parametrize("failure", ["schedule exhausted", "410 gone"])
def test_a_dead_lettered_digest_is_replayed_once_signed_under_its_webhook_id(  # type: ignore[no-untyped-def]
    failure: str,
    receiver: Receiver,
    make_config,
    bootstrap: str,
    redis_url: str,
    redis: Redis,
    names: Names,
    secret: str,
    monkeypatch,
    capsys,
) -> None:
    """docs/webhooks.md: a digest out of retries is dead-lettered as one item and replayed as one, under the same
    webhook-id; a second `dlq replay` skips the dead letter it replayed."""
    attempts: list[Received] = []  # every signed POST, whatever the answer
    healthy = {"on": False}

    def respond(rec: Received) -> int:
        attempts.append(rec)
        return 204 if healthy["on"] else (410 if failure == "410 gone" else 500)

    receiver.respond = respond
    url = f"{receiver.url}/batch"  # type: ignore[attr-defined]
    for key, value in {
        "WIREWATCH_TEST_SECRET": secret,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
    }.items():
        monkeypatch.setenv(key, value)
    batch = {"name": "batch", "url": url, "secret_env": "WIREWATCH_TEST_SECRET", "topics": ["dprk"], "local": True}
    cfg = str(make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/x.xml"}], subscribers=[batch]))
    n = 3
    subs = [sub("batch", url, digest_seconds=1)]
    with running_alerter(bootstrap, redis, names, subs, secret, retry_schedule=[0.3, 0.3]) as alerter:
        produce(bootstrap, names, [match(i) for i in range(n)])
        wait_until(lambda: alerter.totals["dead"] >= 1, 30, what="the digest dead-lettered")
        failed = list(attempts)
        assert len(failed) == (3 if failure == "schedule exhausted" else 1), "a first attempt and two retries"
        assert receiver.received == []
        healthy["on"] = True
        if failure == "410 gone":
            assert cli(["subscribers", "enable", "batch", "--config", cfg]) == 0
            wait_until(lambda: not alerter.endpoints.disabled(["batch"]), 5, what="enable seen")
        assert cli(["dlq", "replay", "--config", cfg]) == 0
        assert "queued 1 alert(s)" in capsys.readouterr().out, "the digest is one dead letter, replayed as one"
        wait_until(lambda: receiver.received, 30, what="the replayed digest delivered")
        wait_until(lambda: redis.zcard(names.outbox_queue("batch")) == 0, 10, what="the queue emptied")
        assert cli(["dlq", "replay", "--config", cfg]) == 0
        assert "queued 0 alert(s)" in capsys.readouterr().out, "replayed once: a second replay skips it"
        time.sleep(1.0)  # the alerter keeps running: no further POST may come
    replayed = attempts[len(failed) :]
    assert len(replayed) == 1 and replayed[0] is receiver.received[0], "delivered exactly once"
    post, did = replayed[0], failed[0].webhook_id
    assert did.startswith("dig_") and {r.webhook_id for r in failed} == {did}
    assert post.verified and post.webhook_id == did == post.json["digest_id"], "signed, under the original id"
    assert post.body == failed[0].body, "the digest as it was sealed"
    ids = sorted(alert_id("batch", f"story-{i}") for i in range(n))
    assert sorted(alerts_in([post])) == ids
    assert redis.hlen(names.outbox_items("batch")) == 0, "settled once, on its 2xx"

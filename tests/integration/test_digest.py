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
from workers.alerter.dedup import alert_id
from workers.alerter.digest import Digests, build_digest, digest_id
from workers.alerter.retryqueue import Parked, RetryQueue
from workers.app.cli import main as cli
from workers.app.configure import load_config
from workers.core.errors import ConfigError
from workers.core.names import Names
from workers.devstack.receiver import Received, Receiver


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
    # delivered: dedup's sent markers cover every alert in a digest, and the buffer is empty
    assert all(redis.exists(names.sent(a)) for a in contained)
    assert redis.zcard(names.digest_buffer("batch")) == 0


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
    assert redis.zcard(f"{names.retry_due}:batch") == 0


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
    buffer = names.digest_buffer("desk")
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
def test_a_sealed_alert_never_enters_a_second_digest_and_one_flusher_at_a_time(redis: Redis, names: Names) -> None:
    digests_ = Digests(redis, names, RetryQueue(redis, names), retention_s=60, max_alerts=2)
    items = [
        Parked(alert_id("desk", f"story-{i}"), "desk", {"alert_id": alert_id("desk", f"story-{i}")}, 0, "")
        for i in range(3)
    ]
    assert digests_.buffer(items) == [True] * 3
    assert digests_.buffer(items[:1]) == [True] and digests_.size("desk") == 3, "a batch done again adds nothing"
    redis.set(names.digest_lease("desk"), "other", ex=5)
    assert digests_.flush("desk") == 0 and digests_.size("desk") == 3, "another alerter holds the lease"
    redis.delete(names.digest_lease("desk"))
    assert digests_.flush("desk") == 2 and digests_.size("desk") == 0, "three alerts, two per digest"
    assert digests_.buffer(items) == [False] * 3, "sealed: a re-read batch or a re-poll does not buffer it again"
    parked = RetryQueue(redis, names).items("desk")
    assert sorted(a["alert_id"] for p, _ in parked for a in p.alert["alerts"]) == sorted(i.alert_id for i in items)
    assert not redis.exists(names.digest_lease("desk")), "the lease is released"


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
    webhook-id; `dlq replay` skips what was delivered since."""
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
        assert "parked 1 alert(s)" in capsys.readouterr().out, "the digest is one dead letter, replayed as one"
        wait_until(lambda: receiver.received, 30, what="the replayed digest delivered")
        wait_until(lambda: redis.zcard(f"{names.retry_due}:batch") == 0, 10, what="the retry queue emptied")
        assert cli(["dlq", "replay", "--config", cfg]) == 0
        assert "parked 0 alert(s)" in capsys.readouterr().out, "delivered since: a second replay skips it"
        time.sleep(1.0)  # the alerter keeps running: no further POST may come
    replayed = attempts[len(failed) :]
    assert len(replayed) == 1 and replayed[0] is receiver.received[0], "delivered exactly once"
    post, did = replayed[0], failed[0].webhook_id
    assert did.startswith("dig_") and {r.webhook_id for r in failed} == {did}
    assert post.verified and post.webhook_id == did == post.json["digest_id"], "signed, under the original id"
    assert post.body == failed[0].body, "the digest as it was sealed"
    ids = sorted(alert_id("batch", f"story-{i}") for i in range(n))
    assert sorted(alerts_in([post])) == ids
    assert all(redis.exists(names.sent(i)) for i in [did, *ids]), "dedup knows every alert of it was delivered"

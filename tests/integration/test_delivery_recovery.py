"""The retry schedule across an alerter restart (real daemons), and endpoint disabling, re-enabling and
replay through the CLI (real broker, Redis and receivers)."""

from __future__ import annotations

import random

import pytest
from redis import Redis

from tests.alerter_support import desk_config, match, produce, running_alerter, sub
from tests.support import wait_until
from workers.alerter.retryqueue import retry_delay
from workers.app.cli import main as cli
from workers.core.names import Names
from workers.devstack.receiver import Received, Receiver

pytestmark = pytest.mark.integration


def test_retry_delays_follow_the_schedule_with_jitter() -> None:
    rand = random.Random(1)
    schedule = [5.0, 300.0, 1800.0]
    for attempts, base in enumerate(schedule, 1):
        delays = [retry_delay(schedule, attempts, rand) for _ in range(50)]
        assert all(d is not None and 0.9 * base <= d <= 1.1 * base for d in delays)
        assert len(set(delays)) > 1, "jittered"
    assert retry_delay(schedule, 4, rand) is None


def test_retries_survive_a_kill_of_the_alerter(  # type: ignore[no-untyped-def]
    secret: str, make_config, daemons, names: Names, bootstrap: str, redis: Redis
) -> None:
    attempts: list[tuple[str, int]] = []
    healthy = {"on": False}

    def respond(rec: Received) -> int:
        attempts.append((rec.webhook_id, int(rec.headers["webhook-timestamp"])))
        return 204 if healthy["on"] else 500

    receiver = Receiver(secret=secret, respond=respond)
    port = receiver.start()
    try:
        cfg = desk_config(make_config, f"http://127.0.0.1:{port}/desk", alerter={"retry_schedule": [0.5, 1, 30, 30]})
        first = daemons("alert", cfg)
        produce(bootstrap, names, [match(i) for i in range(3)])
        # every alert failed its first attempt and its first two retries: now parked 30 s out
        wait_until(lambda: len(attempts) >= 9, 60, what="three failed attempts per alert")
        first.kill()
        healthy["on"] = True
        # a new alerter must find the waiting alerts in Redis: make them due now, as time passing would
        queue = names.outbox_queue("desk")
        assert redis.zcard(queue) == 3, "the three alerts wait in the subscriber's outbox"
        redis.zadd(queue, dict.fromkeys(redis.zrange(queue, 0, -1), 0))
        daemons("alert", cfg)
        wait_until(lambda: len(receiver.unique()) >= 3, 60, what="delivery after the restart")
    finally:
        receiver.stop()
    ids = {aid for aid, _ in attempts}
    assert ids == set(receiver.unique()), "retries and the final delivery carry the alert's webhook-id"
    assert len(ids) == 3


def test_failing_endpoint_is_disabled_then_enabled_and_replayed(
    secret: str, make_config, bootstrap: str, redis_url: str, redis: Redis, names: Names, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    status = {"code": 500}
    receiver = Receiver(secret=secret, respond=lambda _r: status["code"])
    port = receiver.start()
    url = f"http://127.0.0.1:{port}/desk"
    monkeypatch.setenv("WIREWATCH_TEST_SECRET", secret)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    cfg = desk_config(make_config, url)
    try:
        with running_alerter(
            bootstrap,
            redis,
            names,
            [sub("desk", url)],
            secret,
            disable_after_hours=1 / 3600,
            retry_schedule=[0.3, 0.3, 0.3, 0.3, 0.3, 0.3],
        ) as alerter:
            produce(bootstrap, names, [match(i) for i in range(3)])
            wait_until(lambda: redis.hexists(names.endpoint("desk"), "disabled_at"), 30, what="endpoint disabled")
            produce(bootstrap, names, [match(i) for i in range(3, 5)])
            wait_until(lambda: alerter.totals["dead"] >= 5, 30, what="every alert dead-lettered")
            assert cli(["subscribers", "list", "--config", str(cfg)]) == 0
            assert "disabled" in capsys.readouterr().out
            status["code"] = 204
            assert cli(["subscribers", "replay", "desk", "--config", str(cfg)]) == 0
            assert "still disabled" in capsys.readouterr().out
            assert cli(["subscribers", "enable", "desk", "--config", str(cfg)]) == 0
            wait_until(lambda: not alerter.endpoints.disabled(["desk"]), 5, what="enable seen")
            assert cli(["subscribers", "replay", "desk", "--config", str(cfg)]) == 0
            wait_until(lambda: len(receiver.unique()) >= 5, 30, what="replayed alerts delivered")
            assert cli(["subscribers", "test", "desk", "--config", str(cfg)]) == 0
            assert "OK 204" in capsys.readouterr().out
            assert cli(["dlq", "list", "--config", str(cfg)]) == 0
            assert "endpoint disabled" in capsys.readouterr().out
    finally:
        receiver.stop()
    assert {r.json["story"]["id"] for r in receiver.unique().values() if "story" in r.json} == {
        f"story-{i}" for i in range(5)
    }

"""The health port of real daemon processes: /metrics counters moving while the seed story goes
through the pipeline, /healthz, and /readyz following Redis (down at start-up, stopped, back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_pipeline import posts_for, servers  # noqa: F401 - servers is a fixture
from tests.ops_support import http_get, json_lines, readyz, sample, seed_pipeline
from tests.support import rss, wait_until
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.stack import EmbeddedRedis, free_port

pytestmark = pytest.mark.integration


def test_metrics_move_while_the_seed_story_goes_through(servers, make_config, daemons):  # type: ignore[no-untyped-def]  # noqa: F811
    _feeds, receiver, cfg = seed_pipeline(servers, make_config)
    ports = {role: free_port() for role in ("poll", "filter", "alert")}
    procs = {role: daemons(role, cfg, WIREWATCH_HEALTH_PORT=str(port)) for role, port in ports.items()}
    for port in ports.values():
        wait_until(lambda p=port: http_get(p, "/healthz")[0] == 200, 30, what="/healthz")
    before = sample(ports["alert"], "wirewatch_alerts_delivered_total", subscriber="dprk-desk")

    wait_until(lambda: posts_for(receiver, "dprk-desk"), 60, what="the seed alert")
    wait_until(
        lambda: sample(ports["alert"], "wirewatch_alerts_delivered_total", subscriber="dprk-desk") == 1,
        10,
        what="the delivered counter",
    )
    assert before == 0
    assert sample(ports["poll"], "wirewatch_stories_new_total", feed="ani") == 1
    assert sample(ports["poll"], "wirewatch_stories_fetched_total", feed="ani") >= 1
    assert sample(ports["poll"], "wirewatch_fetch_seconds_count", feed="ani") >= 1
    wait_until(lambda: sample(ports["poll"], "wirewatch_feeds", state="ok") == 1, 10, what="feed state gauge")
    assert sample(ports["filter"], "wirewatch_matches_total", topic="dprk", language="hi") == 1
    assert sample(ports["filter"], "wirewatch_matches_total", topic="russia", language="hi") == 1
    assert sample(ports["filter"], "wirewatch_filter_seconds_count") >= 1
    assert sample(ports["alert"], "wirewatch_delivery_seconds_count", subscriber="dprk-desk") == 1
    assert sample(ports["alert"], "wirewatch_ready", role="alert") in (0, 1)  # set by each /readyz
    wait_until(
        lambda: (
            sample(ports["filter"], "wirewatch_consumer_lag", partition="0")
            + sample(ports["filter"], "wirewatch_consumer_lag", partition="1")
            == 0
        ),
        10,
        what="filter lag 0",
    )
    for role, port in ports.items():
        status, body = readyz(port)
        assert status == 200 and body["ready"] is True, (role, body)
    # the alerter's outbox: depth and oldest item's age per subscriber, as metrics and in /readyz
    wait_until(lambda: "dprk-desk" in readyz(ports["alert"])[1]["details"]["alert"]["outbox"], 10, what="outbox")
    outbox = readyz(ports["alert"])[1]["details"]["alert"]["outbox"]["dprk-desk"]
    assert outbox == {"queued": 0, "buffered": 0, "oldest_age_s": 0.0}, outbox
    assert sample(ports["alert"], "wirewatch_outbox_depth", subscriber="dprk-desk") == 0
    assert sample(ports["alert"], "wirewatch_story_cluster_stories_count") >= 1
    # Logs are JSON lines with the story and subscriber lifted into fields, and no secret in them.
    lines = json_lines(procs["alert"].output())
    delivered = [rec for rec in lines if rec["message"].startswith("delivered alert=")]
    ww = delivered[0]["wirewatch"] if delivered else {}
    assert ww["subscriber"] == "dprk-desk" and ww["alert"].startswith("msg_") and ww["attempt"] == 1
    assert "whsec_" not in procs["alert"].output()


def test_readyz_follows_redis(make_config, daemons, tmp_path: Path) -> None:
    feeds = FeedServer({"/f.xml": Route(rss([]))})
    feeds.start()
    redis_port, health = free_port(), free_port()
    local = EmbeddedRedis(redis_port, tmp_path / "redis.log", tmp_path / "redis-data")
    cfg = make_config(feeds=[{"name": "f", "url": feeds.url("/f.xml"), "interval": 1}])
    try:
        # Redis is not there at start-up: the daemon waits and says not ready instead of crash-looping.
        proc = daemons("poll", cfg, REDIS_URL=local.url, WIREWATCH_HEALTH_PORT=str(health))
        wait_until(lambda: http_get(health, "/healthz")[0] == 200, 30, what="/healthz")
        status, body = readyz(health)
        assert status == 503 and body["checks"]["redis"] is False and body["checks"]["config"] is True
        local.start()
        wait_until(lambda: readyz(health)[0] == 200, 30, what="ready once Redis is up")

        local.stop()
        status, body = wait_until(lambda: (r := readyz(health))[0] == 503 and r, 30, what="not ready")
        assert body["checks"]["redis"] is False and body["checks"]["kafka"] is True
        assert http_get(health, "/healthz")[0] == 200, "alive while not ready: no restart wanted"

        local = EmbeddedRedis(redis_port, tmp_path / "redis.log", tmp_path / "redis-data")
        local.start()
        wait_until(lambda: readyz(health)[0] == 200, 30, what="ready again")
        assert proc.proc.poll() is None
        assert "redis not reachable" in proc.output()
    finally:
        local.stop()
        feeds.stop()

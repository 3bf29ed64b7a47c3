"""`wirewatch feeds list|health|enable` as a user runs them, against a real Redis; the online feed list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis

from tests.support import ROOT
from workers.app.configure import load_config
from workers.core.names import Names
from workers.poller.feed_health import HealthStore
from workers.poller.schedule import Schedule

pytestmark = pytest.mark.redis_cluster  # the commands run against standalone Redis and a Redis Cluster


def wirewatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_health_shows_each_feed_and_enable_undoes_a_410(
    make_config: Callable[..., Path], redis: Redis, redis_url: str, names: Names
) -> None:
    config = make_config([{"name": n, "url": f"http://127.0.0.1:9/{n}.xml"} for n in ("ok", "bad", "gone")])
    health, schedule = HealthStore(redis, names), Schedule(redis, names, 60)
    schedule.register(["ok", "bad", "gone"], time.time())
    health.record_success("ok", status=200, new=3, next_poll=time.time() + 300, moved_to=None)
    health.record_error("bad", "HTTP 500", errors=1, next_poll=time.time() + 600)
    health.disable("gone", "HTTP 410 Gone")
    schedule.disable("gone")

    proc = wirewatch("feeds", "health", "--json", "--config", str(config), env={"REDIS_URL": redis_url})
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert rows["ok"]["state"] == "ok" and rows["ok"]["last_new"] == 3
    assert rows["bad"]["state"] == "failing" and rows["bad"]["last_error"] == "HTTP 500"
    assert rows["bad"]["consecutive_errors"] == 1
    assert rows["gone"]["state"] == "disabled"
    failing = wirewatch("feeds", "health", "--fail-on-errors", "--config", str(config), env={"REDIS_URL": redis_url})
    assert failing.returncode == 1 and "HTTP 410 Gone" in failing.stdout

    assert wirewatch("feeds", "enable", "gone", "--config", str(config), env={"REDIS_URL": redis_url}).returncode == 0
    assert health.get("gone").state != "disabled" and schedule.due_times()["gone"] <= time.time()
    unknown = wirewatch("feeds", "enable", "nope", "--config", str(config), env={"REDIS_URL": redis_url})
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_health_without_redis_is_one_clear_line(make_config: Callable[..., Path]) -> None:
    config = make_config([{"name": "a", "url": "http://127.0.0.1:9/a.xml"}])
    for url in ("redis://127.0.0.1:9/0", "redis+cluster://127.0.0.1:9,127.0.0.1:10"):
        proc = wirewatch("feeds", "health", "--config", str(config), env={"REDIS_URL": url})
        assert proc.returncode == 1 and "Redis not reachable" in proc.stderr and "Traceback" not in proc.stderr, url


def test_online_feed_list_is_valid_and_selected_by_env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WIREWATCH_FEEDS_FILE", "feeds.online.yaml")
    online = load_config(ROOT / "config", need=("feeds",)).feeds
    assert len(online) >= 15 and all(f.url.startswith("https://") for f in online)
    assert {"hi", "ru", "ko", "en"} <= {f.language for f in online}
    monkeypatch.delenv("WIREWATCH_FEEDS_FILE")
    offline = load_config(ROOT / "config", need=("feeds",)).feeds
    assert all("127.0.0.1" in f.url for f in offline), "the default list stays offline"
    proc = wirewatch(
        "feeds", "list", "--config", str(ROOT / "config"), env={"WIREWATCH_FEEDS_FILE": "feeds.online.yaml"}
    )
    assert proc.returncode == 0 and "tass-en\thttps://tass.com/rss/v2.xml" in proc.stdout

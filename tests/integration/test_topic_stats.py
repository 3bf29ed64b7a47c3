"""`wirewatch topics stats` on a real Redis, as an operator runs it: the alerter's spike detector counted story
clusters over the last hours (with its real Redis state), and the command shows them per hour and window, the
baseline, the open window against its threshold and the spike, in text and JSON; the detector's parameters are
``alerter.spikes`` settings, and a state kept under other windows is not misread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from redis import Redis

from tests.alerter_support import match
from tests.support import ROOT
from workers.alerter.outbox import Outbox
from workers.alerter.topicspikes import TopicSpikes, params_of
from workers.core.names import Names
from workers.settings.spikes import SpikeSettings

pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]
FEEDS = [{"name": "wire", "url": "http://127.0.0.1:1/wire.xml"}]


def stats(config, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "workers", "topics", "stats", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        timeout=120,
    )


def test_topics_stats_shows_the_last_hours_of_each_topic(  # type: ignore[no-untyped-def]
    make_config, redis: Redis, redis_url: str, names: Names
) -> None:
    now = time.time()
    if now % 3600 > 3500:  # the command reads the clock a little later: stay within this hour
        time.sleep(3600 - now % 3600 + 1)
        now = time.time()
    clock = [now - 5 * 3600]
    spikes = TopicSpikes(redis, names, Outbox(redis, names, 3600), params_of(SpikeSettings()), lambda: clock[0])
    spikes.count([match(i) for i in range(3)], [])
    clock[0] = now - 2 * 3600
    spikes.count([match(i) for i in range(10, 12)], [])
    clock[0] = now
    spikes.count([match(i) for i in range(20, 40)], [])  # a burst: 20 clusters in the open window
    cfg = make_config(feeds=FEEDS)

    proc = stats(cfg, redis_url, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["hours"] == 24 and {"dprk", "russia"} <= set(out["topics"])
    dprk = out["topics"]["dprk"]
    hours = dprk["hours"]
    assert len(hours) == 24 and [hours[-6]["count"], hours[-3]["count"], hours[-1]["count"]] == [3, 2, 20]
    assert dprk["total"] == 25 and sum(h["count"] for h in hours) == 25
    assert hours[-6]["windows"][int((now % 3600) // 600)] == 3 and len(hours[-6]["windows"]) == 6
    assert len(hours[-1]["windows"]) == int((now % 3600) // 600) + 1, "the current hour: its windows so far"
    assert dprk["open_window"]["count"] == 20 and dprk["open_window"]["spiking"]
    assert 5 <= dprk["open_window"]["threshold"] < 20
    # the warm-up baseline is an EWMA whose value depends on where in the hour the counts fell: check the sum
    assert dprk["expected"] > 0 and dprk["expected"] == pytest.approx(sum(h["baseline"] for h in hours), abs=0.01)
    (spike,) = dprk["spikes"]
    assert spike["count"] == 20 and spike["baseline"]["mean"] < 1
    assert out["topics"]["russia"]["total"] == 0 and not out["topics"]["russia"]["spikes"]

    text = stats(cfg, redis_url, "dprk", "--hours", "6")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("dprk: 25 clusters in 6 h") and "open window 20/" in lines[0] and "SPIKING" in lines[0]
    assert "1 spikes" in lines[0] and any(ln.startswith("  spike ") and ": 20 clusters" in ln for ln in lines)
    assert "russia" not in text.stdout

    # other windows in settings.yaml: the state kept under 10-minute windows is not read as theirs
    other = make_config(feeds=FEEDS, settings={"alerter": {"spikes": {"window_minutes": 15}}}, name="other")
    moved = json.loads(stats(other, redis_url, "--json", "dprk").stdout)["topics"]["dprk"]
    assert moved["total"] == 0 and moved["window_minutes"] == 15 and len(moved["hours"][0]["windows"]) == 4
    assert redis.get(names.topic_spikes("dprk")), "the command never writes the state"

    bad = stats(cfg, redis_url, "atlantis")
    assert bad.returncode == 2 and "no topic 'atlantis'" in bad.stderr
    down = stats(cfg, "redis://127.0.0.1:1/0")
    assert down.returncode != 0 and "Redis not reachable" in down.stderr and "Traceback" not in down.stderr

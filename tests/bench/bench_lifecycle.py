"""What the story lifecycle (issue 14: versions, pickup, topic spikes) costs, side by side in one run.

The issue's bound: the alerter's alerts/s with the lifecycle on stays within 10% of the code before it. In one
run, ``WIREWATCH_BENCH_ROUNDS`` rounds (default 3), each of three arms in its own process, in an order that
turns every round (ABCD, BCDA, CDAB...) so the shared machine's drift falls on all alike
(``WIREWATCH_BENCH_ARMS``, default ``before,main,now,now_all``, picks some):

- ``before``: the alerter before the lifecycle work, from ``WIREWATCH_BENCH_BASELINE`` (a directory holding an
  export of that code) or else ``git archive`` of ``WIREWATCH_BENCH_BASELINE_REV`` (default ``8218949``, the last
  main before issue 14) into a temporary directory;
- ``main``: ``git archive`` of ``WIREWATCH_BENCH_MAIN_REV`` (default ``main``): this branch's starting point,
  so the cost of this branch's own changes reads as ``now`` against ``main``;
- ``now``: this code, subscribers with the defaults (``updates: material``; the version record, the spike
  counting and the follow-up routing run for every story whatever the subscribers);
- ``now_all``: this code, every subscriber with ``updates: all``, ``spikes: true`` and ``spreading`` on.

Each arm measures what ``bench_alerter`` does for throughput (its ``Bench``, in-memory consumer, receiver in
its own process, a real redis-server): ``alerts_per_s_1_subscriber`` (800 stories) and
``alerts_per_s_10_subscribers`` (200 stories, 2,000 alerts), wall time from the first poll to the last 2xx, and,
less exposed to a loaded machine than wall time, for the same runs: ``cpu_ms_per_alert_*`` (the alerter
process's CPU time: batch and lanes, not the receiver), ``redis_cpu_ms_per_alert_*`` (redis-server's CPU time,
from INFO) and ``round_trips_per_alert_*`` (Redis request/response exchanges, a pipeline being one).
Figures: every round's value (``<arm>_<metric>_r<n>``), the median per arm, and
``ratio_<arm>_vs_<before|main>_<metric>`` = median of the per-round ratios (alerts/s: 1.0 = as fast, below is
slower; CPU and round trips: above 1.0 costs more).

Then the filter's part (``workers.filter.followups``): the batch work of ``FilterWorker`` without Kafka
(decide every record; with marks, read the marks of later versions and write those of the matches, on a real
redis-server), marks off and on alternately on the same 2,000 stories (half match a topic, a tenth are later
versions): ``filter_stories_per_s_{off,on}`` (per round and medians), ``filter_ratio_on`` (median of per-round
ratios) and ``filter_marks_ms_per_batch`` (the time of the marks step alone per batch of 100, per round).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.bench import emit
from tests.support import ROOT

BENCH = "lifecycle"
ALL_ARMS = ("before", "main", "now", "now_all")
ARMS = tuple(os.environ.get("WIREWATCH_BENCH_ARMS", "before,main,now,now_all").split(","))
UNITS = {
    "alerts_per_s": "alerts/s",
    "cpu_ms_per_alert": "ms",
    "redis_cpu_ms_per_alert": "ms",
    "round_trips_per_alert": "round trips",
}
METRICS = tuple(f"{m}_{n}" for m in UNITS for n in ("1_subscriber", "10_subscribers"))

# One arm in a child process: the code of ``dir`` first on sys.path, its own bench_alerter's Bench and receiver.
CHILD = """
import json, multiprocessing, sys, tempfile, threading, time
from pathlib import Path
sys.path.insert(0, {dir!r})
from redis import ConnectionPool, Redis
from tests.bench import bench_alerter as ba
from workers.core.signing import new_secret
from workers.devstack.stack import EmbeddedRedis, free_port

assert ba.__file__.startswith({dir!r}), ba.__file__
ctx = multiprocessing.get_context("spawn")
ports, stamps = ctx.Queue(), ctx.Queue()
secret = new_secret()
child = ctx.Process(target=ba.serve, args=(secret, ports, stamps), daemon=True)
child.start()
url = "http://127.0.0.1:%d" % ports.get(timeout=30)
received, lock = {{}}, threading.Lock()

def drain():
    while True:
        aid, at = stamps.get()
        with lock:
            received.setdefault(aid, at)

threading.Thread(target=drain, daemon=True).start()
extra = {extra}
with tempfile.TemporaryDirectory() as tmp:
    server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp))
    server.start()
    pool = ConnectionPool.from_url(server.url, connection_class=ba.CountingConnection, max_connections=256)
    redis = Redis(connection_pool=pool)
    bench = ba.Bench(redis, url, secret, received, lock)

    def redis_cpu():
        info = redis.info("cpu")
        return info["used_cpu_user"] + info["used_cpu_sys"]

    def subscribers(k):
        return [ba.sub("d%d" % i, url + "/d%d" % i, concurrency=8, **extra) for i in range(k)]

    RUNS = (("1_subscriber", subscribers(1), ba.N_ONE), ("10_subscribers", subscribers(10), ba.N_TEN))
    out = {{}}
    try:
        for label, subs, n in RUNS:
            alerts = n * len(subs)
            ba.CountingConnection.round_trips = 0
            cpu, rcpu = time.process_time(), redis_cpu()
            out["alerts_per_s_" + label] = alerts / bench.run(subs, ba.records(label, n))
            out["cpu_ms_per_alert_" + label] = (time.process_time() - cpu) * 1000 / alerts
            out["redis_cpu_ms_per_alert_" + label] = (redis_cpu() - rcpu) * 1000 / alerts
            out["round_trips_per_alert_" + label] = ba.CountingConnection.round_trips / alerts
    finally:
        child.kill()
        redis.close()
        server.stop()
print(json.dumps(out))
"""
ALL_ON = {"updates": "all", "spikes": True, "spreading": {"outlets": 10, "within_minutes": 60}}


def export(tmp: str, arm: str, rev: str) -> str | None:
    """``git archive`` of ``rev`` into a directory of ``tmp`` (no worktree: nothing is registered in the repo);
    None, with a note, when this checkout lacks it (a shallow clone)."""
    out = Path(tmp) / arm
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True)
    if archive.returncode:
        print(
            f"bench lifecycle: no {rev!r} here ({archive.stderr.decode().strip()}): arm {arm} left out", file=sys.stderr
        )
        return None
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return str(out)


def run_arm(code_dir: str, extra: dict[str, Any]) -> dict[str, float]:
    script = CHILD.format(dir=code_dir, extra=repr(extra))
    proc = subprocess.run([sys.executable, "-c", script], cwd=code_dir, capture_output=True, text=True, timeout=900)
    if proc.returncode:
        raise RuntimeError(f"arm in {code_dir} failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def unit(metric: str) -> str:
    return next(u for m, u in UNITS.items() if metric.startswith(m + "_"))


def alerter_rounds(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dirs: dict[str, str | None] = {"now": str(ROOT), "now_all": str(ROOT)}
        if "before" in ARMS:
            before = os.environ.get("WIREWATCH_BENCH_BASELINE")
            dirs["before"] = before or export(tmp, "before", os.environ.get("WIREWATCH_BENCH_BASELINE_REV", "8218949"))
        if "main" in ARMS:
            dirs["main"] = export(tmp, "main", os.environ.get("WIREWATCH_BENCH_MAIN_REV", "main"))
        arms = tuple(a for a in ARMS if dirs.get(a))
        extras: dict[str, dict[str, Any]] = {"before": {}, "main": {}, "now": {}, "now_all": ALL_ON}
        got: dict[str, list[dict[str, float]]] = {arm: [] for arm in arms}
        for r in range(rounds):
            for arm in arms[r % len(arms) :] + arms[: r % len(arms)]:
                code = dirs[arm]
                assert code is not None
                got[arm].append(run_arm(code, extras[arm]))
                for m in METRICS:
                    emit(BENCH, f"{arm}_{m}_r{r + 1}", got[arm][-1][m], unit(m))
    for m in METRICS:
        for arm in arms:
            emit(BENCH, f"{arm}_{m}", statistics.median(x[m] for x in got[arm]), unit(m))
        for base in ("before", "main"):
            for arm in [a for a in arms if base in arms and ALL_ARMS.index(a) > ALL_ARMS.index(base)]:
                ratios = [a[m] / b[m] for a, b in zip(got[arm], got[base], strict=True)]
                emit(BENCH, f"ratio_{arm}_vs_{base}_{m}", statistics.median(ratios), "x")


def filter_records(n: int) -> list[Any]:
    from workers.core.stories import Story

    out = []
    for i in range(n):
        subject = "North Korea" if i % 2 else "the harbour authority"
        text = f"Dispatch {i}: officials said {subject} had announced new measures on Monday, {i * 7} in all."
        story = Story(
            id=f"story-{i % (n * 9 // 10)}",  # the last tenth: later versions of the first stories
            feed="wire",
            feed_url="http://127.0.0.1/wire.xml",
            title=f"Report {i}",
            link=f"http://127.0.0.1/wire/{i}",
            text=text if i < n * 9 // 10 else "STORY WITHDRAWN",
            published="2023-09-17T10:00:00Z",
        )
        story = replace(story, version=2 if i >= n * 9 // 10 else 1)
        out.append(SimpleNamespace(topic="s", partition=0, offset=i, key=b"", value=story.to_json(), timestamp=0))
    return out


def filter_rounds(rounds: int) -> None:
    from redis import Redis

    from workers.core.names import Names
    from workers.devstack.stack import EmbeddedRedis, free_port
    from workers.filter.followups import FilterMarks
    from workers.filter.matcher import Matcher
    from workers.filter.topics import Topic
    from workers.filter.worker import FilterWorker
    from workers.infra.lifecycle import Stopper

    recs = filter_records(2000)
    matcher = Matcher([Topic("dprk", terms=("North Korea",))])
    speeds: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp))
        server.start()
        redis = Redis.from_url(server.url)
        try:
            for r in range(rounds * 2):
                on = (r % 2 == 1) != (r // 2 % 2 == 1)  # pairs off-on, on-off, off-on...
                names = Names(key_prefix=f"f{r}:")
                marks = FilterMarks(redis, names, 72 * 3600) if on else None
                worker = FilterWorker(None, None, matcher, names, Stopper(), marks)  # type: ignore[arg-type]
                started, in_marks = time.perf_counter(), 0.0
                for i in range(0, len(recs), 100):  # the filter's batches: decide, then the marks
                    batch = recs[i : i + 100]
                    decided = [worker._decide(rec) for rec in batch]
                    before = time.perf_counter()
                    worker._follow(batch, decided)
                    in_marks += time.perf_counter() - before
                arm = "on" if on else "off"
                speeds[arm].append(len(recs) / (time.perf_counter() - started))
                emit(BENCH, f"filter_stories_per_s_{arm}_r{r // 2 + 1}", speeds[arm][-1], "stories/s")
                if on:  # the marks' own time (Redis round trips, a re-detection per carried version)
                    emit(BENCH, f"filter_marks_ms_per_batch_r{r // 2 + 1}", in_marks * 1000 / (len(recs) / 100), "ms")
        finally:
            redis.close()
            server.stop()
    for arm in ("off", "on"):
        emit(BENCH, f"filter_stories_per_s_{arm}", statistics.median(speeds[arm]), "stories/s")
    ratios = [a / b for a, b in zip(speeds["on"], speeds["off"], strict=True)]
    emit(BENCH, "filter_ratio_on", statistics.median(ratios), "x")


def main() -> None:
    rounds = int(os.environ.get("WIREWATCH_BENCH_ROUNDS", "3"))
    filter_rounds(rounds)
    alerter_rounds(rounds)


if __name__ == "__main__":
    main()

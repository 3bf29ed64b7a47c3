"""How late an alert is, from the timings it carries, and what tracing costs per story.

The whole pipeline on the embedded stack: a feed served locally that publishes a new story every 0.5 s,
polled every second by a real poller, a real filter and a real alerter, and a receiver that notes when each
alert arrived. From each alert's own ``timings``: p50 and p99 of fetched -> sent (our part) and of fetched
-> receipt (what the subscriber sees), and of each hop. Then the CPU of the tracing work a story costs
(a trace started, continued twice, its header parsed, the timings written and read back), beside the
filter's CPU per story, measured in the same run. Tracing has no off switch: the figure is its whole cost.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from tests.bench import emit
from tests.support import ROOT, rss
from workers.core.signing import new_secret
from workers.core.stories import Story
from workers.core.tracing import child, from_headers, headers, iso, new_traceparent, seconds_between
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.receiver import Receiver
from workers.devstack.stack import EmbeddedBroker, EmbeddedRedis, free_port
from workers.filter.matcher import Matcher
from workers.filter.topics import load_topics
from workers.filter.worker import decide

BENCH = "latency"
STORIES = int(os.environ.get("WIREWATCH_BENCH_LATENCY_STORIES", "60"))
EVERY_S = 0.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def item(i: int) -> dict[str, str]:
    return {
        "title": f"North Korea bulletin {i}",
        "link": f"http://127.0.0.1/wire/latency-{i}",
        "guid": f"latency-{i}",
        "description": f"Bulletin {i}: Pyongyang said North Korea would hold drill {i * 13} near the coast, "
        f"a statement numbered {i * 7} said on the day.",
    }


def pipeline(tmp: Path) -> None:
    secret = new_secret()
    broker = EmbeddedBroker(free_port(), tmp / "broker.log")
    redis = EmbeddedRedis(free_port(), tmp / "redis.log", tmp)
    broker.start()
    redis.start()
    feeds, receiver = FeedServer(), Receiver(secret=secret)
    feeds.start()
    rport = receiver.start()
    received: dict[str, float] = {}
    lock = threading.Lock()

    def note(rec: object) -> int:
        with lock:
            received[getattr(rec, "headers", {}).get("webhook-id", "")] = time.time()
        return 204

    receiver.respond = note  # type: ignore[assignment]
    cfg = tmp / "config"
    cfg.mkdir()
    (cfg / "topics.yaml").write_text((ROOT / "config" / "topics.yaml").read_text())
    feed = {"name": "wire", "url": feeds.url("/wire.xml"), "interval": 1}
    (cfg / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [feed]}))
    sub = {
        "name": "desk",
        "url": f"http://127.0.0.1:{rport}/hooks/desk",
        "secret_env": "WIREWATCH_BENCH_SECRET",
        "topics": ["dprk"],
        "local": True,
    }
    (cfg / "subscribers.yaml").write_text(yaml.safe_dump({"subscribers": [sub]}))
    (cfg / "settings.yaml").write_text(yaml.safe_dump({"kafka": {"partitions": 1, "session_timeout_ms": 6000}}))
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        REDIS_URL=redis.url,
        WIREWATCH_BENCH_SECRET=secret,
        WIREWATCH_HEALTH_PORT="0",
        WIREWATCH_WEB_PORT="0",
        WIREWATCH_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    procs = []
    feeds.routes["/wire.xml"] = Route(rss([]))
    try:
        for role in ("poll", "filter", "alert"):
            log = open(tmp / f"{role}.log", "ab")  # noqa: SIM115
            cmd = [sys.executable, "-m", "workers", role, "--config", str(cfg)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
        time.sleep(8)  # the groups join (about session_timeout / 2)
        items: list[dict[str, str]] = []
        for i in range(STORIES):
            items.insert(0, item(i))
            feeds.routes["/wire.xml"] = Route(rss(items[:50]))
            time.sleep(EVERY_S)
        deadline = time.time() + 60
        while time.time() < deadline and len(receiver.unique()) < STORIES:
            time.sleep(0.2)
        alerts = list(receiver.unique().values())
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
        feeds.stop()
        receiver.stop()
        redis.stop()
        broker.stop()
    hops: dict[str, list[float]] = {}
    for rec in alerts:
        t = json.loads(rec.body)["timings"]
        got = received.get(rec.webhook_id)
        pairs = {
            "fetched_to_produced": ("fetched", "produced"),
            "produced_to_matched": ("produced", "matched"),
            "matched_to_enqueued": ("matched", "enqueued"),
            "enqueued_to_sent": ("enqueued", "sent"),
            "fetched_to_sent": ("fetched", "sent"),
        }
        for hop, (a, b) in pairs.items():
            s = seconds_between(t.get(a), t.get(b))
            if s is not None:
                hops.setdefault(hop, []).append(s)
        s = seconds_between(t.get("fetched"), iso(got)) if got else None
        if s is not None:
            hops.setdefault("fetched_to_receipt", []).append(s)
    emit(BENCH, "alerts_received", len(alerts), "alerts")
    for hop, values in hops.items():
        emit(BENCH, f"{hop}_p50", round(percentile(values, 0.5) * 1000, 1), "ms")
        emit(BENCH, f"{hop}_p99", round(percentile(values, 0.99) * 1000, 1), "ms")


def tracing_cost() -> None:
    """CPU per story of the tracing work, beside the filter's CPU per story on the same stories."""
    matcher = Matcher(load_topics(ROOT / "config" / "topics.yaml"))
    stories = [
        Story(id=f"s{i}", feed="f", feed_url="http://f/", title=it["title"], link=it["link"], text=it["description"])
        for i, it in enumerate(item(i) for i in range(300))
    ]
    raws = [s.to_json() for s in stories]
    for raw in raws[:20]:
        decide(raw, matcher)  # warm the detector and the automata
    n = len(raws)
    rounds = []
    for _ in range(3):
        start = time.process_time()
        for raw in raws:
            decide(raw, matcher, produced_ms=int(time.time() * 1000))
        filter_s = (time.process_time() - start) / n
        start = time.process_time()
        for _raw in raws:
            tp = new_traceparent()  # poller
            h = headers(tp)
            forwarded = child(from_headers(h))  # filter
            posted = child(from_headers(headers(forwarded)))  # alerter, on the POST
            timings = {"fetched": iso(time.time()), "matched": iso(time.time()), "sent": iso(time.time())}
            seconds_between(timings["fetched"], timings["sent"])
            del posted
        rounds.append(((time.process_time() - start) / n, filter_s))
    trace_s = statistics.median(r[0] for r in rounds)
    filter_s = statistics.median(r[1] for r in rounds)
    emit(BENCH, "tracing_cpu_per_story", round(trace_s * 1e6, 1), "us")
    emit(BENCH, "filter_cpu_per_story", round(filter_s * 1e6, 1), "us")
    emit(BENCH, "tracing_share_of_filter", round(trace_s / filter_s, 4), "ratio")


def main() -> None:
    tracing_cost()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline(Path(tmp))


if __name__ == "__main__":
    main()

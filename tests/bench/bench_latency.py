"""How late an alert is, from the timings it carries, and what tracing costs per story.

The whole pipeline on the embedded stack: a feed served locally that publishes a new story every 0.5 s,
polled every second by a real poller, a real filter and a real alerter, and a receiver that notes when each
alert arrived. From each alert's own ``timings``: p50 and p99 of fetched -> sent (our part) and of fetched
-> receipt (what the subscriber sees), and of each hop. Then the CPU of the tracing work a story costs
(a trace started, continued twice, its header parsed, the timings written and read back), beside the
filter's CPU per story, measured in the same run: with the OpenTelemetry export off (the header work alone:
it has no off switch) and on (five spans a story exported over OTLP/HTTP to a receiver in another process).
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
from workers.infra import otel

BENCH = "latency"
STORIES = int(os.environ.get("WIREWATCH_BENCH_LATENCY_STORIES", "60"))
EVERY_S = 0.5
SAMPLED = 0.1  # WIREWATCH_OTLP_SAMPLE_RATIO of the sampled figure


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


def trace_story() -> None:
    """The tracing work of one story: a trace started, continued twice, its header parsed, the timings written
    and read back, and the five spans handed to the OpenTelemetry export (a no-op while it is off)."""
    now = time.time()
    tp = new_traceparent(otel.sample())  # poller
    h = headers(tp)
    parent = from_headers(h)
    forwarded = child(parent)  # filter
    alert = child(from_headers(headers(forwarded)))  # alerter: the alert's span
    posted = child(alert)  # on the POST
    timings = {"fetched": iso(now), "matched": iso(now), "sent": iso(now)}
    seconds_between(timings["fetched"], timings["sent"])
    if otel.enabled():  # as the stages call it
        otel.span("poll", tp, None, now, now, feed="f", story="s", version=1)
        otel.span("produce", child(tp), tp, now, now, story="s")
        otel.span("match", forwarded, parent, now, now, story="s", language="en", topics="dprk")
        otel.span("enqueue", alert, forwarded, now, now, subscriber="desk", alert="msg_1")
        otel.span("deliver", posted, alert, now, now, subscriber="desk", alert="msg_1", status=200, attempt=1)


def traced_cpu(n: int, otel_on: bool) -> float:
    """Process CPU per story of ``trace_story``, the export thread's included (flushed inside the timing)."""
    start = time.process_time()
    for _ in range(n):
        trace_story()
    if otel_on:
        otel.flush()
    return (time.process_time() - start) / n


def tracing_cost() -> None:
    """CPU per story of the tracing work with the OTLP export off and on (to a real receiver in another
    process, so its decoding is not counted), beside the filter's CPU per story on the same stories."""
    matcher = Matcher(load_topics(ROOT / "config" / "topics.yaml"))
    stories = [
        Story(id=f"s{i}", feed="f", feed_url="http://f/", title=it["title"], link=it["link"], text=it["description"])
        for i, it in enumerate(item(i) for i in range(300))
    ]
    raws = [s.to_json() for s in stories]
    for raw in raws[:20]:
        decide(raw, matcher)  # warm the detector and the automata
    n = len(raws)
    collector = subprocess.Popen(
        [sys.executable, "-m", "tests.otlp_receiver"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert collector.stdout is not None and collector.stdin is not None
    url = collector.stdout.readline().strip()
    rounds = []
    try:
        for _ in range(3):
            start = time.process_time()
            for raw in raws:
                decide(raw, matcher, produced_ms=int(time.time() * 1000))
            filter_s = (time.process_time() - start) / n
            off_s = traced_cpu(n, otel_on=False)
            otel.configure(url, "bench", metric_interval_s=3600)
            on_s = traced_cpu(n, otel_on=True)
            otel.shutdown()
            otel.configure(url, "bench", metric_interval_s=3600, sample_ratio=SAMPLED)
            sampled_s = traced_cpu(n, otel_on=True)
            otel.shutdown()
            rounds.append((off_s, on_s, sampled_s, filter_s))
    finally:
        collector.stdin.close()
        received = int(collector.stdout.readline() or 0)
        collector.wait(10)
    off_s, on_s, sampled_s, filter_s = (statistics.median(r[i] for r in rounds) for i in range(4))
    emit(BENCH, "tracing_cpu_per_story", round(off_s * 1e6, 1), "us")
    emit(BENCH, "tracing_otlp_cpu_per_story", round(on_s * 1e6, 1), "us")
    emit(BENCH, "tracing_otlp_sampled_10pct_cpu_per_story", round(sampled_s * 1e6, 1), "us")
    # 3 rounds x 300 stories x 5 spans, plus about a tenth of that sampled, when none was dropped
    emit(BENCH, "tracing_otlp_spans_received", received, "spans")
    emit(BENCH, "filter_cpu_per_story", round(filter_s * 1e6, 1), "us")
    emit(BENCH, "tracing_share_of_filter", round(off_s / filter_s, 4), "ratio")
    emit(BENCH, "tracing_otlp_share_of_filter", round(on_s / filter_s, 4), "ratio")


def main() -> None:
    tracing_cost()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline(Path(tmp))


if __name__ == "__main__":
    main()

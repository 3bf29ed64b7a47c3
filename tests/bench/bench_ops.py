"""Operations figures: Redis memory per story and per alert (for sizing), the cost of a JSON log line
next to a text one, of a labelled counter increment, and of one /metrics scrape.

Each timing is the median of 5 runs; JSON and text are measured side by side in the same run."""

from __future__ import annotations

import http.client
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import REGISTRY, generate_latest
from redis import Redis

from tests.bench import emit
from workers.alerter.dedup import Clusters, alert_id
from workers.alerter.outbox import Item, Outbox, Outgoing
from workers.core.names import Names
from workers.core.stories import Story
from workers.devstack.stack import EmbeddedRedis, free_port
from workers.infra import metrics
from workers.infra.health import HealthServer, Readiness
from workers.infra.logs import JsonFormatter, TextFormatter

BENCH = "ops"


def median_us(fn: Callable[[], object], n: int, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(times)


def redis_sizing() -> None:
    n = 20000
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp) / "data")
        server.start()
        try:
            client = Redis.from_url(server.url)
            names = Names()
            base = int(client.info("memory")["used_memory"])
            with client.pipeline(transaction=False) as pipe:
                for i in range(n):
                    pipe.set(names.seen("https://wire.example/rss", f"{i:032x}"), 1, ex=3600)
                pipe.execute()
            seen = int(client.info("memory")["used_memory"])
            emit(BENCH, "redis_bytes_per_seen_story", (seen - base) / n, "bytes")
            clusters, outbox = Clusters(client, names, 3600), Outbox(client, names, 3600)
            for i in range(n // 4):
                story = Story(
                    id=f"{i:032x}",
                    feed="wire",
                    feed_url="https://example.org/rss",
                    title=f"Story {i}",
                    link=f"https://example.org/news/2024/story-{i}.html",
                    text=f"Body of story {i} " * 20,
                )
                aid = alert_id("desk-dprk", story.id)
                cid = clusters.resolve(story).cluster
                item = Item(aid, "desk-dprk", {}, clusters=[cid])
                outbox.enqueue({"desk-dprk": (False, [Outgoing(item, cid)])})
                outbox.settle(item)  # delivered: the cluster and the subscriber's marker remain
            alerts = int(client.info("memory")["used_memory"])
            emit(BENCH, "redis_bytes_per_alert_dedup", (alerts - seen) / (n // 4), "bytes")
            client.close()
        finally:
            server.stop()


def logging_cost() -> None:
    record = logging.LogRecord(
        "workers.alerter.worker",
        logging.INFO,
        __file__,
        1,
        "delivered alert=%s subscriber=%s story=%s",
        ("msg_2Ab3", "desk-dprk", "9f8e7d6c5b4a"),
        None,
    )
    json_fmt, text_fmt = JsonFormatter(), TextFormatter()
    emit(BENCH, "log_line_json", median_us(lambda: json_fmt.format(record), 20000), "us")
    emit(BENCH, "log_line_text", median_us(lambda: text_fmt.format(record), 20000), "us")


def metrics_cost() -> None:
    counter = metrics.ALERTS_DELIVERED.labels(subscriber="bench")
    emit(BENCH, "counter_inc_cached_child", median_us(counter.inc, 100000), "us")
    emit(
        BENCH,
        "counter_inc_with_labels",
        median_us(lambda: metrics.ALERTS_DELIVERED.labels(subscriber="bench").inc(), 100000),
        "us",
    )
    hist = metrics.FILTER_LATENCY
    emit(BENCH, "histogram_observe", median_us(lambda: hist.observe(0.004), 100000), "us")


def scrape_cost() -> None:
    for i in range(50):  # a realistic number of series: 50 feeds, 10 subscribers
        metrics.STORIES_NEW.labels(feed=f"feed-{i}").inc()
        metrics.FETCH_LATENCY.labels(feed=f"feed-{i}").observe(0.2)
    for i in range(10):
        metrics.DELIVERY_LATENCY.labels(subscriber=f"sub-{i}").observe(0.1)
    emit(BENCH, "metrics_render", median_us(lambda: generate_latest(REGISTRY), 50) / 1000, "ms")
    server = HealthServer(Readiness("bench"), "127.0.0.1", 0)
    port = server.start()

    def scrape() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/metrics")
        conn.getresponse().read()
        conn.close()

    try:
        emit(BENCH, "metrics_scrape", median_us(scrape, 50) / 1000, "ms")
    finally:
        server.stop()


def series_count() -> None:
    """Series a poller exports with 10,000 feeds: folded (the default above poller.per_feed_metrics_max) and,
    for comparison, with per-feed series kept."""
    from tests.unit.test_prometheus import series_with

    metrics.use_role("poll")
    for state in metrics.FEED_STATES:
        metrics.FEEDS_BY_STATE.labels(state=state).set(2500)
    metrics.READY.labels(role="poll").set(1)
    emit(BENCH, "poller_series_10000_feeds_folded", series_with(10_000, per_feed_max=1000), "series")
    emit(BENCH, "poller_series_10000_feeds_per_feed", series_with(10_000, per_feed_max=10_000), "series")
    metrics.configure_feeds([], 1000)
    metrics.use_role("run")


def main() -> None:
    redis_sizing()
    logging_cost()
    metrics_cost()
    scrape_cost()
    series_count()

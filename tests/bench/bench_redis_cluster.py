"""The poller on one redis-server and on a 3-primary Redis Cluster, side by side in one run: 300 small feeds
on a local HTTP server, a real broker; the first cycle (fetch, parse, produce, mark seen) and a revalidation
cycle (all 304), feeds per second for each kind of Redis (median of 3 alternated rounds after a warm-up)
and their ratio. Skipped (one line on stderr) when
redis-cli is missing."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.bench import emit
from tests.redis_cluster import LocalCluster, missing_tools
from tests.support import rss
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.stack import EmbeddedBroker, EmbeddedRedis, free_port
from workers.infra.kafka import ensure_topics, make_producer, topic_specs
from workers.infra.lifecycle import Stopper
from workers.infra.redis import make_redis
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller
from workers.settings.config import Feed, KafkaSettings, PollerSettings

BENCH = "redis_cluster"
FEEDS = 300
ITEMS = 10
CONCURRENCY = 32
ROUNDS = 3


def timed_cycle(poller: Poller) -> tuple[float, int]:
    """Poll every due feed; (feeds per second, new stories)."""
    started = time.perf_counter()
    outcomes = poller.run_cycle(timeout=300)
    errors = [o.error for o in outcomes if o.error]
    assert len(outcomes) == FEEDS and not errors, errors[:3]
    return FEEDS / (time.perf_counter() - started), sum(o.new for o in outcomes)


def run(url: str, bootstrap: str, server: FeedServer) -> tuple[float, float]:
    """(first cycle, revalidation cycle) feeds per second on the Redis at ``url``."""
    tag = uuid.uuid4().hex[:8]
    names = Names(topic_prefix=f"b{tag}.", key_prefix=f"b{tag}:")
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=4)))
    producer = make_producer(bootstrap, "bench-redis-cluster")
    redis = make_redis(url, 5)
    feeds = [Feed(name=f"f{i}", url=server.url(f"/f{i}.xml"), interval=600) for i in range(FEEDS)]
    settings = PollerSettings(concurrency=CONCURRENCY)
    poller = Poller(feeds, producer, redis, feed_client(CONCURRENCY), names, settings, Stopper())
    try:
        first, new = timed_cycle(poller)  # every feed is new: fetch, parse, produce, mark seen
        assert new == FEEDS * ITEMS, new
        for name in poller.feeds:
            poller.schedule.reschedule(name, 0)
        reval, new = timed_cycle(poller)  # every feed answers 304 to its stored validators
        assert new == 0, new
        return first, reval
    finally:
        poller.close()
        poller.http.close()
        producer.close()
        redis.close()


def main() -> None:
    if why := missing_tools():
        print(f"bench redis_cluster skipped: {why}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = EmbeddedBroker(free_port(), root / "broker.log")
        standalone = EmbeddedRedis(free_port(), root / "redis.log", root / "redis")
        cluster = LocalCluster(root / "cluster")
        server = FeedServer()
        for i in range(FEEDS):
            items = [
                {"title": f"Story {i}-{j}", "link": f"http://127.0.0.1/s/{i}/{j}", "description": f"Body {i} {j}"}
                for j in range(ITEMS)
            ]
            server.routes[f"/f{i}.xml"] = Route(rss(items))
        broker.start()
        standalone.start()
        cluster.start()
        server.start()
        try:
            kinds = (("standalone", standalone.url), ("cluster", cluster.url))
            run(standalone.url, broker.bootstrap, server)  # warm-up (broker, HTTP pool, imports): not counted
            rounds: dict[str, list[tuple[float, float]]] = {kind: [] for kind, _ in kinds}
            for _ in range(ROUNDS):  # alternated, so drift in the machine's load hits both kinds alike
                for kind, url in kinds:
                    rounds[kind].append(run(url, broker.bootstrap, server))
            results = {
                kind: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                for kind, runs in rounds.items()
            }
        finally:
            server.stop()
            cluster.stop()
            standalone.stop()
            broker.stop()
    for kind, (first, reval) in results.items():
        emit(BENCH, f"{kind}_first_cycle_feeds_per_s", first, f"feeds/s ({FEEDS} feeds x {ITEMS} stories, new)")
        emit(BENCH, f"{kind}_revalidate_feeds_per_s", reval, f"feeds/s ({FEEDS} feeds, all 304)")
    emit(BENCH, "cluster_vs_standalone_first_cycle", results["cluster"][0] / results["standalone"][0], "x")
    emit(BENCH, "cluster_vs_standalone_revalidate", results["cluster"][1] / results["standalone"][1], "x")


if __name__ == "__main__":
    main()

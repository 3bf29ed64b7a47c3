"""Poller throughput: 1,000 feeds built from the corpus on a local HTTP server (separate process,
50 ms added per response, ETag/304), a real broker and a real Redis started here.

Figures, side by side in one run: the poller's first cycle (fetch, parse, produce), its revalidation
cycle (all 304; median of 3), the same cycle with the ETags forgotten (every answer a 200 with the body
of last time, which the poller recognises by its digest and does not parse; median of 3), against a
plain sequential ``feedparser.parse(url)`` loop (feedparser fetching by itself) over the first
SEQUENTIAL_FEEDS of the same feeds, because 1,000 sequential fetches would take minutes. Then the same
revalidation over HTTPS, a TLS handshake per feed as with feeds on distinct hosts (needs the openssl
command for a throwaway certificate). CPU is this process's (time.process_time), so the server's work
is not counted; peak RSS is this process's high-water mark after the poller's cycles.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

from tests.bench import emit
from tests.support import corpus_dir, self_signed_cert
from workers.core.names import Names
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.stack import EmbeddedBroker, EmbeddedRedis, free_port
from workers.infra.kafka import ensure_topics, make_producer, topic_specs
from workers.infra.lifecycle import Stopper
from workers.infra.redis import make_redis
from workers.poller.fetch import feed_client
from workers.poller.worker import Poller
from workers.settings.config import Feed, KafkaSettings, PollerSettings

BENCH = "poller"
FEEDS = 1000
LATENCY_S = 0.05
SEQUENTIAL_FEEDS = 100
CONCURRENCY = 64


@dataclass
class _FixedRoute(Route):
    """A route whose ETag is computed once: the publisher's hashing is not what we measure."""

    fixed_etag: str = ""

    @property
    def etag(self) -> str:
        return self.fixed_etag


def _serve(port: int, tls_port: int, cert: tuple[Path, Path] | None, ready: Any) -> None:
    """The same feeds over HTTP on ``port`` and, given a certificate, over HTTPS on ``tls_port``."""
    bodies = corpus_bodies()  # read in the server process only, so the poller's RSS is its own
    routes: dict[str, Route] = {}
    for i, body in enumerate(bodies):
        routes[f"/f{i}.xml"] = _FixedRoute(body, delay=LATENCY_S, fixed_etag=Route(body).etag)
    FeedServer(routes).start(port)
    if cert is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*cert)
        FeedServer(routes).start(tls_port, tls=tls)
    ready.set()
    while True:
        time.sleep(3600)


def corpus_bodies() -> list[bytes]:
    files = sorted(p for p in (corpus_dir() / "feeds").rglob("*") if p.is_file())
    return [files[i % len(files)].read_bytes() for i in range(FEEDS)]


def run_cycle(poller: Poller) -> tuple[float, float, int]:
    """Make every feed due, poll them all; return (wall seconds, CPU seconds, feeds polled)."""
    poller.redis.zadd(poller.names.feed_schedule, dict.fromkeys(poller.feeds, 0))
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = poller.run_cycle(timeout=600)
    return time.perf_counter() - wall, time.process_time() - cpu, len(outcomes)


def unchanged_cycles(poller: Poller) -> list[tuple[float, float, int]]:
    """Cycles where every feed answers 200 with the same body as last time: each cycle first forgets the stored
    ETags (the digest stays), as for a publisher that sends no validators."""
    out = []
    for _ in range(3):
        with poller.redis.pipeline(transaction=False) as pipe:
            for feed in poller.feeds.values():
                pipe.hdel(poller.names.validators(feed.url), "etag", "last-modified")
            pipe.execute()
        out.append(run_cycle(poller))
    return out


def tls_cycles(poller: Poller, base: str, tls_base: str, cert: Path) -> list[tuple[float, float, int]]:
    """Revalidation cycles of the same feeds over HTTPS (a new TLS connection per feed, as with feeds on
    different hosts): the validators are copied from the HTTP run, so every answer is again a 304."""
    feeds = [Feed(name=f.name, url=f.url.replace(base, tls_base), interval=300) for f in poller.feeds.values()]
    with poller.redis.pipeline(transaction=False) as pipe:
        for feed in poller.feeds.values():
            pipe.hgetall(poller.names.validators(feed.url))
        stored = pipe.execute()
        for feed, validators in zip(feeds, stored, strict=True):
            if validators:
                pipe.hset(poller.names.validators(feed.url), mapping=validators)
        pipe.execute()
    os.environ["SSL_CERT_FILE"] = str(cert)  # trusted the way an operator adds a private CA
    http = feed_client(CONCURRENCY)
    tls_poller = Poller(feeds, poller.producer, poller.redis, http, poller.names, poller.settings, Stopper())
    try:
        return [run_cycle(tls_poller) for _ in range(3)]
    finally:
        tls_poller.close()
        http.close()


def main() -> None:
    if not (corpus_dir() / "feeds").is_dir():
        sys.exit(f"bench poller: no corpus feeds under {corpus_dir()} (set WIREWATCH_CORPUS)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-poller-"))
    broker = EmbeddedBroker(free_port(), tmp / "broker.log")
    redis_server = EmbeddedRedis(free_port(), tmp / "redis.log", tmp)
    port, tls_port = free_port(), free_port()
    cert = self_signed_cert(tmp) if shutil.which("openssl") else None
    ready = multiprocessing.get_context("fork").Event()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(port, tls_port, cert, ready), daemon=True)
    broker.start()
    redis_server.start()
    server.start()
    ready.wait(30)
    names = Names(topic_prefix="bench.", key_prefix="bench:")
    ensure_topics(broker.bootstrap, topic_specs(names, KafkaSettings(partitions=4)))
    producer = make_producer(broker.bootstrap, "bench-poller")
    redis = make_redis(redis_server.url, 10)
    http = feed_client(CONCURRENCY)
    base = f"http://127.0.0.1:{port}"
    feeds = [Feed(name=f"f{i}", url=f"{base}/f{i}.xml", interval=300) for i in range(FEEDS)]
    settings = PollerSettings(concurrency=CONCURRENCY, fetch_timeout=60)
    poller = Poller(feeds, producer, redis, http, names, settings, Stopper())
    try:
        poller.schedule.register(poller.feeds, time.time())
        first_wall, first_cpu, first_n = run_cycle(poller)
        revalidations = [run_cycle(poller) for _ in range(3)]
        unchanged = unchanged_cycles(poller)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reval_wall = statistics.median(r[0] for r in revalidations)
        reval_cpu = statistics.median(r[1] for r in revalidations)
        tls = tls_cycles(poller, base, f"https://127.0.0.1:{tls_port}", cert[0]) if cert else []
        started = time.perf_counter()
        for feed in feeds[:SEQUENTIAL_FEEDS]:
            feedparser.parse(feed.url)
        seq_rate = SEQUENTIAL_FEEDS / (time.perf_counter() - started)
    finally:
        poller.close()
        http.close()
        producer.close()
        redis.close()
        server.kill()
        broker.stop()
        redis_server.stop()
    emit(BENCH, "first_cycle_feeds_per_s", first_n / first_wall, f"feeds/s ({first_n} feeds, fetch+parse+produce)")
    emit(BENCH, "revalidate_feeds_per_s", FEEDS / reval_wall, "feeds/s (all 304, median of 3 cycles)")
    emit(BENCH, "sequential_feeds_per_s", seq_rate, f"feeds/s (feedparser.parse(url), first {SEQUENTIAL_FEEDS} feeds)")
    emit(BENCH, "revalidate_speedup", (FEEDS / reval_wall) / seq_rate, "x sequential loop")
    emit(BENCH, "first_cycle_speedup", (first_n / first_wall) / seq_rate, "x sequential loop")
    emit(BENCH, "cpu_ms_per_feed", 1000 * first_cpu / first_n, "ms CPU per feed, first cycle")
    emit(BENCH, "revalidate_cpu_ms_per_feed", 1000 * reval_cpu / FEEDS, "ms CPU per feed, revalidation (304)")
    same_cpu = statistics.median(r[1] for r in unchanged)
    same_wall = statistics.median(r[0] for r in unchanged)
    emit(BENCH, "unchanged_200_cpu_ms_per_feed", 1000 * same_cpu / FEEDS, "ms CPU per feed, 200 with the same body")
    emit(BENCH, "unchanged_200_feeds_per_s", FEEDS / same_wall, "feeds/s (all 200 with an unchanged body)")
    emit(BENCH, "peak_rss_mb", peak_mb, "MB peak RSS of the poller process")
    if not tls:
        print("bench poller: no openssl command, so no HTTPS figures", file=sys.stderr)
        return
    tls_wall = statistics.median(r[0] for r in tls)
    emit(BENCH, "revalidate_tls_feeds_per_s", FEEDS / tls_wall, "feeds/s (all 304 over HTTPS, a TLS handshake each)")
    tls_cpu = statistics.median(r[1] for r in tls)
    emit(BENCH, "revalidate_tls_cpu_ms_per_feed", 1000 * tls_cpu / FEEDS, "ms CPU per feed, HTTPS revalidation")


if __name__ == "__main__":
    main()

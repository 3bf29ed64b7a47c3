"""Alerter throughput and Redis cost, next to a naive alerter, in the same run.

The optimised path is the real ``Alerter`` (batch claims in one pipeline, per-subscriber lanes with
keep-alive clients, delivered marks in one pipeline) fed by an in-memory consumer, so the figures are
the alerter's own and not the broker's. The naive alerter opens a new connection per alert and makes
one unpipelined Redis call per check. Round trips are counted on the Redis connection (each
request/response exchange, a pipeline being one); memory per story is INFO used_memory's growth over
N remembered stories (exact fingerprints, near-duplicate band records, sent marker) divided by N.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from pydantic import SecretStr
from redis import Connection, ConnectionPool, Redis

from tests.alerter_support import match, sub
from tests.bench import emit
from workers.alerter.dedup import ClaimRequest, Dedup, alert_id, fingerprints
from workers.alerter.delivery import webhook_clients
from workers.alerter.worker import Alerter, build_alert
from workers.core.names import Names
from workers.core.signing import new_secret, signed_headers
from workers.devstack.receiver import Receiver
from workers.devstack.stack import EmbeddedRedis, free_port
from workers.infra.lifecycle import Stopper
from workers.settings.config import AlerterSettings

BENCH = "alerter"
N_ALERTS = 2000
N_MEMORY = 20000
ROUNDS = 3
BATCH = 100


class CountingConnection(Connection):
    round_trips = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.round_trips += 1
        super().send_packed_command(command, check_health)


class ListConsumer:
    """Hands out prepared records in batches, like KafkaConsumer.poll; remembers commits."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records
        self.committed = 0

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Any]]:
        batch, self.records = self.records[:BATCH], self.records[BATCH:]
        for rec in batch:
            rec.polled = time.monotonic()
        return {"tp": batch} if batch else {}

    def commit(self, offsets: Any) -> None:
        self.committed += 1

    def assignment(self) -> set[Any]:
        return set()


def records(tag: str, n: int) -> list[Any]:
    out = []
    for i in range(n):
        ev = match(i, link=f"http://127.0.0.1/{tag}/{i}")
        out.append(SimpleNamespace(topic="m", partition=0, offset=i, key=b"", value=ev.to_json(), polled=0.0))
    return out


def optimised(
    redis: Redis, names: Names, url: str, secret: str, received: dict[str, float], n: int
) -> tuple[float, list[float]]:
    subs = [sub("desk", url, concurrency=8)]
    clients = webhook_clients(subs)
    recs = records(names.key_prefix, n)
    by_story = {f"story-{i}": r for i, r in enumerate(recs)}
    consumer = ListConsumer(list(recs))
    alerter = Alerter(
        consumer,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # nothing is dead-lettered in this run
        redis,
        clients,
        subs,
        {"desk": SecretStr(secret)},
        names,
        AlerterSettings(delivery_timeout=5.0),
        Stopper(),
    )
    started = time.perf_counter()
    while consumer.records:
        alerter.run_once()
    elapsed = time.perf_counter() - started
    alerter.close()
    clients["desk"].close()
    ids = {alert_id("desk", sid): r for sid, r in by_story.items()}
    deadline = time.monotonic() + 10
    while not ids.keys() <= received.keys() and time.monotonic() < deadline:
        time.sleep(0.05)  # the receiver's last stamps are on their way
    lat = [(received[aid] - r.polled) * 1000 for aid, r in ids.items()]
    return n / elapsed, lat


def naive(redis: Redis, names: Names, url: str, secret: str, n: int) -> float:
    """One new connection per alert, one Redis call per check, serial."""
    started = time.perf_counter()
    for i in range(n):
        ev = match(i, link=f"http://127.0.0.1/naive/{i}")
        aid = alert_id("naive", ev.story.id)
        owner = None
        for kind, value in fingerprints(ev.story):
            owner = owner or redis.get(names.dedup("naive", kind, value))
        if owner is None:
            for kind, value in fingerprints(ev.story):
                redis.set(names.dedup("naive", kind, value), aid, nx=True, ex=3600)
        if owner is not None or redis.exists(names.sent(aid)):
            continue
        body = json.dumps(build_alert(sub("naive", url), ev, aid, 500)).encode()
        with httpx.Client(trust_env=False) as client:  # a new connection each time
            client.post(url, content=body, headers=signed_headers(secret, aid, body), timeout=5.0)
        redis.set(names.sent(aid), 1, ex=3600)
    return n / (time.perf_counter() - started)


def memory_per_story(redis: Redis, names: Names) -> float:
    rnd = random.Random(5)
    vocab = [f"w{i}" for i in range(5000)]
    dedup = Dedup(redis, names, 72 * 3600)
    redis.flushdb()
    before = int(redis.info("memory")["used_memory"])
    for start in range(0, N_MEMORY, 500):
        reqs = []
        for i in range(start, start + 500):
            text = " ".join(rnd.choice(vocab) for _ in range(60))
            ev = match(i, text=text, link=f"http://news.example/{i}")
            reqs.append(ClaimRequest("desk", ev.story, alert_id("desk", ev.story.id)))
        dedup.claim_many(reqs)
        dedup.mark_delivered([r.alert_id for r in reqs])
    return (int(redis.info("memory")["used_memory"]) - before) / N_MEMORY


def serve(secret: str, ports: Any, stamps: Any) -> None:
    """The receiver in its own process (as a subscriber's would be), so it does not share our GIL."""
    receiver = Receiver(secret=secret, respond=lambda rec: stamps.put((rec.webhook_id, time.monotonic())) or 204)
    ports.put(receiver.start())
    threading.Event().wait()


def main() -> None:
    ctx = multiprocessing.get_context("spawn")
    ports, stamps = ctx.Queue(), ctx.Queue()
    secret = new_secret()
    child = ctx.Process(target=serve, args=(secret, ports, stamps), daemon=True)
    child.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}/hook"
    received: dict[str, float] = {}

    def drain() -> None:
        while True:
            aid, at = stamps.get()
            received[aid] = at

    threading.Thread(target=drain, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp))
        server.start()
        pool = ConnectionPool.from_url(server.url, connection_class=CountingConnection, max_connections=64)
        redis = Redis(connection_pool=pool)
        try:
            rates, naive_rates, trips, lats = [], [], [], []
            for r in range(ROUNDS):
                CountingConnection.round_trips = 0
                rate, lat = optimised(redis, Names(key_prefix=f"b{r}:"), url, secret, received, N_ALERTS)
                trips.append(CountingConnection.round_trips / N_ALERTS)
                rates.append(rate)
                lats.extend(lat)
                naive_rates.append(naive(redis, Names(key_prefix=f"n{r}:"), url, secret, N_ALERTS // 4))
            lats.sort()
            emit(BENCH, "alerts_per_s", statistics.median(rates), "alerts/s")
            emit(BENCH, "p50_ms", lats[len(lats) // 2], "ms")
            emit(BENCH, "p99_ms", lats[int(len(lats) * 0.99)], "ms")
            emit(BENCH, "redis_round_trips_per_alert", statistics.median(trips), "round trips")
            emit(BENCH, "redis_bytes_per_story", memory_per_story(redis, Names(key_prefix="m:")), "bytes")
            emit(BENCH, "naive_alerts_per_s", statistics.median(naive_rates), "alerts/s")
            emit(BENCH, "speedup_vs_naive", statistics.median(rates) / statistics.median(naive_rates), "x")
        finally:
            child.kill()
            redis.close()
            server.stop()


if __name__ == "__main__":
    main()

"""Alerter throughput, Redis cost and isolation, for this code and (optionally) a previous version, in one run.

The real ``Alerter`` is fed by an in-memory consumer, so the figures are the alerter's own and not the
broker's; the receiver runs in its own process (as a subscriber's would), answering 204, or after
``SLOW_S`` on the slow neighbour's path. Figures:

- ``alerts_per_s_{1,10}_subscribers``: alerts delivered per second, from the first poll to the last 2xx;
- ``redis_round_trips_per_alert``: request/response exchanges on the Redis connections (a pipeline is one),
  the lanes' idle polls included, over the 10-subscriber run;
- ``alerter_cpu_ms_per_alert_10_subscribers``: this process's CPU time (user + system, the receiver is another
  process) per alert over that run: a figure that depends less than alerts/s on what else the machine runs;
- ``redis_bytes_per_story_cluster``: INFO used_memory's growth per story once its alert was delivered to one
  subscriber (the cluster index, the cluster record and that subscriber's marker);
- ``redis_bytes_per_extra_subscriber_per_story``: what each extra subscriber adds per story, as the slope between
  two runs (``N_MEMORY`` and twice as many stories, each at 1 and at 10 subscribers): what grows with the stories
  (the delivered markers), without what a subscriber holds whatever its volume;
- ``redis_bytes_per_extra_subscriber_fixed``: that bounded part (its attempt log, at most 500 entries), per extra
  subscriber, from the same four readings;
- ``redis_bytes_per_extra_subscriber_per_story_600_stories``: the growth with 10 subscribers less that with 1,
  divided by ``N_MEMORY`` stories and 9 extra subscribers, both parts together (this figure's definition before
  the slope);
- ``redis_bytes_per_story_cluster_600_words``: the same with 600-word bodies (the cluster record keeps the
  latest version's title and bounded body, compressed, since story versions);
- ``alerts_per_s_with_versions_1_subscriber`` (code with story versions only): each story followed by a version
  with a new headline, so half the events are ``story.updated``; events delivered per second;
- ``healthy_p99_ms_{alone,with_slow_neighbour}``: poll-to-2xx latency of a subscriber's alerts at a steady rate,
  alone and next to one whose endpoint answers 2xx after ``SLOW_S``.

With ``WIREWATCH_BENCH_BASELINE=DIR`` (a checkout of an earlier version, e.g. ``git worktree add DIR main``) the
same measurements run on that code in a child process first; its figures are emitted as ``before_<metric>``.
``WIREWATCH_BENCH_BASELINE_PYTHON`` runs that child on another interpreter (a virtualenv without a dependency the
new code adds, to measure the dependency too).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import SecretStr
from redis import Connection, ConnectionPool, Redis

from tests.alerter_support import match, sub
from tests.bench import emit
from workers.alerter.worker import Alerter
from workers.core.names import Names
from workers.core.signing import new_secret, verify
from workers.devstack.stack import EmbeddedRedis, free_port
from workers.infra.lifecycle import Stopper
from workers.settings.config import AlerterSettings

BENCH = "alerter"
N_ONE = 800  # stories for one subscriber
N_TEN = 200  # stories for ten subscribers: 2,000 alerts
N_MEMORY = 600  # stories: 4,200 index entries, past the 128 at which Redis makes a hash a hash table
N_LATENCY = 300
RATE = 100.0  # matches per second in the latency runs: below what either version sustains here
SLOW_S = 0.5
BATCH = 100
PREFIX = os.environ.get("WIREWATCH_BENCH_PREFIX", "")


class CountingConnection(Connection):
    round_trips = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.round_trips += 1
        super().send_packed_command(command, check_health)


class ListConsumer:
    """Hands out prepared records in batches, like KafkaConsumer.poll, at most ``rate`` a second."""

    def __init__(self, records: list[Any], rate: float = 0.0) -> None:
        self.records = records
        self.rate = rate
        self.started = 0.0  # the first poll: an alerter's start-up is no backlog of the stream
        self.handed = 0

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Any]]:
        n = BATCH
        if not self.started:
            self.started = time.monotonic()
        if self.rate:
            n = min(BATCH, int((time.monotonic() - self.started) * self.rate) - self.handed)
            if n <= 0:
                time.sleep(0.002)
                return {}
        batch, self.records = self.records[:n], self.records[n:]
        self.handed += len(batch)
        for rec in batch:
            rec.polled = time.monotonic()
        return {"tp": batch} if batch else {}

    def commit(self, offsets: Any) -> None:
        pass

    def assignment(self) -> set[Any]:
        return set()

    def seek(self, *_a: Any) -> None:
        pass


def webhook_sender(subs: list[Any]) -> Any:
    """What the Alerter POSTs with: the event loop of this code, or the per-subscriber pools of an earlier one."""
    try:
        from workers.alerter.sender import Sender
    except ImportError:  # a baseline from before the sender
        from workers.alerter.delivery import webhook_clients  # type: ignore[attr-defined]

        return webhook_clients(subs)
    return Sender()


def close_sender(sender: Any) -> None:
    for c in sender.values() if isinstance(sender, dict) else [sender]:
        c.close()


def settle_heap() -> None:
    try:
        from workers.infra.lifecycle import settle_heap as settle
    except ImportError:  # a baseline from before it
        return
    settle()


def records(tag: str, n: int, words: int = 0, seed: int = 5, versions: bool = False) -> list[Any]:
    """Match records of ``n`` stories; with ``versions``, each story is followed by its version 2 (a new
    headline), a batch later."""
    rnd = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    events = []
    for i in range(n):
        text = " ".join(rnd.choice(vocab) for _ in range(words)) if words else None
        events.append(match(i, text=text, link=f"http://news.example/{tag}/{i}"))
    if versions:
        later = [
            replace(e, story=replace(e.story, title="UPDATE 1-" + e.story.title + " again", version=2)) for e in events
        ]
        events = [e for pair in zip(events, later, strict=True) for e in pair]
    return [
        SimpleNamespace(topic="m", partition=0, offset=i, key=b"", value=ev.to_json(), polled=0.0)
        for i, ev in enumerate(events)
    ]


class Bench:
    def __init__(self, redis: Redis, url: str, secret: str, received: dict[str, float], lock: threading.Lock) -> None:
        self.redis = redis
        self.url = url
        self.secret = secret
        self.received = received
        self.lock = lock
        self.runs = 0

    def run(
        self,
        subs: list[Any],
        recs: list[Any],
        rate: float = 0.0,
        wait_for: list[str] | None = None,
        versions: tuple[int, ...] = (1,),
    ) -> float:
        """Feed the records through an alerter until every alert of ``wait_for`` (default: all) is received, for
        each story version of ``versions``; return the seconds from the first poll to the last 2xx."""
        from workers.alerter.dedup import alert_id

        n_stories = len(recs) // len(versions)

        self.runs += 1
        with self.lock:  # every run sends the same webhook-ids (same subscriber names and story ids)
            self.received.clear()
        names = Names(key_prefix=f"{PREFIX}r{self.runs}:")  # a fresh install per run
        sender = webhook_sender(subs)
        consumer = ListConsumer(list(recs), rate)
        settings = AlerterSettings(delivery_timeout=5.0)
        secrets = {s.name: SecretStr(self.secret) for s in subs}
        alerter = Alerter(consumer, None, self.redis, sender, subs, secrets, names, settings, Stopper())  # type: ignore[arg-type]
        settle_heap()  # as the daemon does once it is built (an earlier version did not)
        wanted = {
            alert_id(name, f"story-{i}", *((v,) if v > 1 else ()))
            for name in (wait_for or [s.name for s in subs])
            for i in range(n_stories)
            for v in versions
        }
        started = time.monotonic()
        try:
            while consumer.records:
                alerter.run_once()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                with self.lock:
                    if wanted <= self.received.keys():
                        break
                # the previous version delivers retries and digests from run_once: keep calling it
                if hasattr(alerter, "retry_due"):
                    alerter.retry_due()
                time.sleep(0.01)
            with self.lock:
                missing = len(wanted - self.received.keys())
                if missing:
                    raise RuntimeError(f"{missing} of {len(wanted)} alerts not delivered within 300 s")
                done = max(self.received[a] for a in wanted)
        finally:
            alerter.close()
            close_sender(sender)
        return done - started

    def latencies(self, subs: list[Any], recs: list[Any]) -> list[float]:
        from workers.alerter.dedup import alert_id

        self.run(subs, recs, RATE, wait_for=["healthy"])
        with self.lock:
            return [(self.received[alert_id("healthy", f"story-{i}")] - r.polled) * 1000 for i, r in enumerate(recs)]

    def memory(self, n_subs: int, words: int = 60, stories: int = N_MEMORY) -> float:
        self.redis.flushdb()
        time.sleep(0.2)
        before = int(self.redis.info("memory")["used_memory"])
        subs = [sub(f"desk{i}", f"{self.url}/desk{i}", concurrency=8) for i in range(n_subs)]
        self.run(subs, records("mem", stories, words=words))
        time.sleep(0.5)  # the last settles
        return int(self.redis.info("memory")["used_memory"]) - before


class LeanReceiver(asyncio.Protocol):
    """A subscriber's endpoint for the bench: HTTP/1.1 keep-alive on asyncio, each signature verified, 204 (after
    ``SLOW_S`` on the slow neighbour's path). The dev ``Receiver`` (a thread per connection, http.server's parser)
    cost 1.2-1.9 ms of CPU per alert on the cores the alerter uses, as much as the alerter itself; a real
    subscriber's server runs elsewhere."""

    def __init__(self, secret: str, stamps: list[tuple[str, float]]) -> None:
        self.secret = secret
        self.stamps = stamps
        self.buf = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            size = int(headers.get("content-length") or 0)
            if len(self.buf) < end + 4 + size:
                return
            body, self.buf = self.buf[end + 4 : end + 4 + size], self.buf[end + 4 + size :]
            if not verify(self.secret, headers, body):
                self.transport.write(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                continue
            path = lines[0].split(" ")[1]
            delay = SLOW_S if path == "/slow" else 0.0
            asyncio.get_running_loop().call_later(delay, self.answer, headers.get("webhook-id", ""))

    def answer(self, webhook_id: str) -> None:
        self.stamps.append((webhook_id, time.monotonic()))
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


def serve(secret: str, ports: Any, stamps: Any) -> None:
    """The receiver in its own process, so it does not share our GIL; the arrival times go back in batches."""

    async def main() -> None:
        seen: list[tuple[str, float]] = []
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: LeanReceiver(secret, seen), "127.0.0.1", 0, backlog=512)
        ports.put(server.sockets[0].getsockname()[1])
        while True:
            await asyncio.sleep(0.02)
            if seen:
                stamps.put(seen[:])
                seen.clear()

    asyncio.run(main())


def has_versions() -> bool:
    """Whether the code measured sends story.updated (the baseline of an earlier version does not)."""
    import importlib.util

    return importlib.util.find_spec("workers.alerter.versions") is not None


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def measure(label: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    ports, stamps = ctx.Queue(), ctx.Queue()
    secret = new_secret()
    child = ctx.Process(target=serve, args=(secret, ports, stamps), daemon=True)
    child.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    received: dict[str, float] = {}
    lock = threading.Lock()

    def drain() -> None:
        while True:
            batch = stamps.get()
            with lock:
                for aid, at in batch:
                    received.setdefault(aid, at)

    threading.Thread(target=drain, daemon=True).start()

    def out(metric: str, value: float, unit: str) -> None:
        emit(BENCH, f"{label}{metric}", value, unit)

    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp))
        server.start()
        pool = ConnectionPool.from_url(server.url, connection_class=CountingConnection, max_connections=256)
        redis = Redis(connection_pool=pool)
        bench = Bench(redis, url, secret, received, lock)
        try:
            one = [sub("desk", f"{url}/desk", concurrency=8)]
            out("alerts_per_s_1_subscriber", N_ONE / bench.run(one, records("one", N_ONE)), "alerts/s")
            if has_versions():
                recs = records("ver", N_ONE // 2, versions=True)
                elapsed = bench.run(one, recs, versions=(1, 2))
                out("alerts_per_s_with_versions_1_subscriber", len(recs) / elapsed, "alerts/s")
            ten = [sub(f"desk{i}", f"{url}/desk{i}", concurrency=8) for i in range(10)]
            CountingConnection.round_trips = 0
            cpu = time.process_time()
            elapsed = bench.run(ten, records("ten", N_TEN))
            cpu = time.process_time() - cpu
            out("redis_round_trips_per_alert", CountingConnection.round_trips / (10 * N_TEN), "round trips")
            out("alerter_cpu_ms_per_alert_10_subscribers", cpu * 1000 / (10 * N_TEN), "ms")
            out("alerts_per_s_10_subscribers", 10 * N_TEN / elapsed, "alerts/s")
            healthy = sub("healthy", f"{url}/healthy", concurrency=8)
            slow = sub("slow", f"{url}/slow", concurrency=8)
            alone = bench.latencies([healthy], records("lat", N_LATENCY))
            crowded = bench.latencies([healthy, slow], records("lat2", N_LATENCY))
            out("healthy_p99_ms_alone", p99(alone), "ms")
            out("healthy_p99_ms_with_slow_neighbour", p99(crowded), "ms")
            out("healthy_p99_ratio_with_slow_neighbour", p99(crowded) / p99(alone), "x")
            m1 = bench.memory(1)
            m10 = bench.memory(10)
            extra_small = m10 - m1  # 9 extra subscribers, N_MEMORY stories
            extra_large = bench.memory(10, stories=2 * N_MEMORY) - bench.memory(1, stories=2 * N_MEMORY)
            per_story = (extra_large - extra_small) / (9 * N_MEMORY)
            out("redis_bytes_per_story_cluster", m1 / N_MEMORY, "bytes")
            out("redis_bytes_per_extra_subscriber_per_story", per_story, "bytes")
            out("redis_bytes_per_extra_subscriber_fixed", (extra_small - per_story * 9 * N_MEMORY) / 9, "bytes")
            out("redis_bytes_per_extra_subscriber_per_story_600_stories", extra_small / (9 * N_MEMORY), "bytes")
            out("redis_bytes_per_story_cluster_600_words", bench.memory(1, words=600) / N_MEMORY, "bytes")
        finally:
            child.kill()
            redis.close()
            server.stop()


def main() -> None:
    baseline = os.environ.get("WIREWATCH_BENCH_BASELINE")
    if baseline:  # the same measurements on the earlier code, first, in its own process
        code = f"import sys, runpy; sys.path.insert(0, {baseline!r}); runpy.run_path({__file__!r}, run_name='__main__')"
        env = {**os.environ, "WIREWATCH_BENCH_BASELINE": "", "WIREWATCH_BENCH_PREFIX": "before_"}
        python = os.environ.get("WIREWATCH_BENCH_BASELINE_PYTHON") or sys.executable  # its own environment
        subprocess.run([python, "-c", code], cwd=baseline, env=env, check=True)
    measure(PREFIX)


if __name__ == "__main__":
    main()

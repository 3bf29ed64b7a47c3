"""Console page times with 10,000 feeds and 1,000 subscribers in Redis: p50 and p95 of each page over real HTTP
(uvicorn on 127.0.0.1, one keep-alive connection), Redis holding every feed's health, every endpoint's state,
retry queues, attempt logs, and the console's reader holding 2,000 dead letters.

Every feed's state (behind the feeds page's filter tabs) and every endpoint's disabled flag are read by a
background refresh every 5 s (running during the measurement, as in the server), reported apart as
index_refresh_ms; a page reads the details of its own 50 rows. Figures are taken on whatever else the machine
runs: compare them within one run."""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml
from redis import Redis

from tests.bench import emit
from tests.console_support import app_of, dead_alert_record, make_console, serving
from workers.alerter.endpoints import Endpoints
from workers.alerter.outbox import Item, Outbox
from workers.app.configure import load_config
from workers.console.security import portal_token
from workers.core.signing import new_secret
from workers.devstack.stack import EmbeddedRedis, free_port
from workers.infra.attemptlog import AttemptLog
from workers.poller.feed_health import HealthStore
from workers.poller.quiet import Activity

BENCH = "console"
FEEDS, SUBSCRIBERS, DEAD = 10_000, 1_000, 2_000
RUNS = 40
PAGES = [
    "/",
    "/feeds",
    "/feeds?state=failing",
    "/feeds?state=quiet&page=3",
    "/feeds?page=150",
    "/subscribers",
    "/subscribers?page=12",
    "/dlq",
    "/topics",
    "/portal/sub-0500",
]


def write_config(directory: Path) -> Path:
    directory.mkdir()
    root = Path(__file__).resolve().parents[2]
    (directory / "topics.yaml").write_text((root / "config" / "topics.yaml").read_text())
    feeds = [{"name": f"feed-{i:05d}", "url": f"http://127.0.0.1:9/f/{i}.xml"} for i in range(FEEDS)]
    subs = [
        {"name": f"sub-{i:04d}", "url": f"http://127.0.0.1:9/h/{i}", "secret_env": "WIREWATCH_BENCH_SECRET"}
        | {"topics": ["dprk"], "local": True}
        for i in range(SUBSCRIBERS)
    ]
    (directory / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    (directory / "subscribers.yaml").write_text(yaml.safe_dump({"subscribers": subs}))
    (directory / "settings.yaml").write_text(yaml.safe_dump({"redis": {"key_prefix": "bench:"}}))
    return directory


def fill(redis: Redis, cfg: object) -> None:
    names = cfg.names  # type: ignore[attr-defined]
    health, now = HealthStore(redis, names), time.time()
    with redis.pipeline(transaction=False) as pipe:
        for i in range(FEEDS):
            name = f"feed-{i:05d}"
            if i % 50 == 0:
                health.disable(name, "HTTP 410 Gone", pipe)
            elif i % 20 == 0:
                health.record_error(name, "timed out after 15s", errors=i % 7 + 1, next_poll=now + 300, pipe=pipe)
            else:
                quiet = i % 33 == 0
                activity = Activity(last_new_at=now - (86400 if quiet else 600))
                health.record_success(
                    name,
                    status=200,
                    new=0,
                    next_poll=now + 60,
                    moved_to=None,
                    activity=activity,
                    quiet=quiet,
                    pipe=pipe,
                )
        pipe.execute()
    endpoints, queue, log = Endpoints(redis, names, 3600), Outbox(redis, names, 3600), AttemptLog(redis, names)
    for i in range(SUBSCRIBERS):
        name = f"sub-{i:04d}"
        if i % 40 == 0:
            endpoints.disable(name, "endpoint answered 410 Gone")
        for j in range(i % 5):
            alert = {"story": {"title": f"story {j}"}}
            queue.put(Item(f"a-{i}-{j}", name, alert, 1, "endpoint answered 503", now), now + 60)
        for j in range(10):
            log.record(name, f"a-{i}-{j}", status=200 if j % 3 else 503, latency_s=0.02, outcome="delivered")


def timed(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert resp.status == 200 and body, (path, resp.status)
    return elapsed


def main() -> None:
    os.environ["WIREWATCH_BENCH_SECRET"] = new_secret()
    os.environ.pop("WIREWATCH_WEB_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(free_port(), Path(tmp) / "redis.log", Path(tmp) / "data")
        server.start()
        try:
            redis = Redis.from_url(server.url, socket_timeout=5)
            cfg = load_config(write_config(Path(tmp) / "config"))
            fill(redis, cfg)
            console = make_console(cfg, redis)
            refresh = []
            for _ in range(3):  # what the background refresh costs, every 5 s
                start = time.perf_counter()
                console.state.refresh_index()
                refresh.append((time.perf_counter() - start) * 1000)
            emit(BENCH, "index_refresh_ms", statistics.median(refresh), "ms")
            for k in range(DEAD):
                sub = f"sub-{k % SUBSCRIBERS:04d}"
                console.tail.add(dead_alert_record(cfg.names.alerts_dlq, k, sub, f"dead-{k}", f"story {k}"))
            stop = threading.Event()  # the server's background refresh, every 5 s
            threading.Thread(target=console.state.follow, args=(stop,), daemon=True).start()
            with serving(app_of(console)) as url:
                conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
                everything: list[float] = []
                portal = {"authorization": f"Bearer {portal_token(os.environ['WIREWATCH_BENCH_SECRET'], 'sub-0500')}"}
                for path in PAGES:
                    headers = portal if path.startswith("/portal/") else {}
                    timed(conn, path, headers)  # warm: templates compiled, connections in the pool
                    times = sorted(timed(conn, path, headers) for _ in range(RUNS))
                    everything.extend(times)
                    label = path.strip("/").replace("?", "_").replace("&", "_").replace("=", "-") or "overview"
                    emit(BENCH, f"p50_ms_{label}", statistics.median(times), "ms")
                    emit(BENCH, f"p95_ms_{label}", times[int(0.95 * len(times)) - 1], "ms")
                everything.sort()
                emit(BENCH, "p95_ms_all_pages", everything[int(0.95 * len(everything)) - 1], "ms")
                conn.close()
            stop.set()
            redis.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

"""`wirewatch demo`: the whole pipeline offline on this machine.

Starts the embedded broker and redis-server, serves the bundled sample feeds on 127.0.0.1, starts a
webhook receiver that prints each verified alert, and runs the three daemons as child processes with
the shipped config/. The terminal shows the alerts and the demo's own lines; the daemons' logs go to one file
per role in the demo's state directory (a newcomer sees the alerts, not 40 log lines between them), and the
last lines of a daemon's log are printed if it exits. One line says when every sample feed has gone through
to the receiver. Ctrl-C (or SIGTERM) stops the daemons first, then the servers, and leaves no process behind.
Ports: ``WIREWATCH_DEMO_FEEDS_PORT`` (8765) and ``WIREWATCH_DEMO_RECEIVER_PORT`` (8766).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from workers.core.names import Names
from workers.core.signing import new_secret
from workers.devstack.feedserver import FeedServer
from workers.devstack.progress import Progress
from workers.devstack.receiver import Receiver
from workers.devstack.stack import STATE_DIR, EmbeddedBroker, EmbeddedRedis, free_port, stop_process
from workers.settings import env

logger = logging.getLogger(__name__)

DEMO_FEEDS = Path(__file__).parent / "demo_feeds"
LOG_TAIL_LINES = 20


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_demo(config_dir: Path) -> int:
    feeds_port, receiver_port = env.demo_ports()  # a bad variable is a config error before anything starts
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    state = STATE_DIR / "demo"
    state.mkdir(parents=True, exist_ok=True)
    secret = env.text("WIREWATCH_DEMO_SECRET") or new_secret()
    broker = EmbeddedBroker(free_port(), state / "broker.log")
    redis = EmbeddedRedis(free_port(), state / "redis.log", state / "redis-data")
    feeds = FeedServer.from_directory(DEMO_FEEDS)
    receiver = Receiver(secret=secret, echo=True)
    children: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    logs: list[IO[bytes]] = []
    try:
        print(f"starting the embedded broker and redis-server (logs in {state})", flush=True)
        broker.start()
        redis.start()
        feeds.start(feeds_port)
        receiver.start(receiver_port)
        print(
            f"sample feeds on http://127.0.0.1:{feeds_port}/, webhook receiver on http://127.0.0.1:{receiver_port}/",
            flush=True,
        )
        child_env = env.for_child(
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            REDIS_URL=redis.url,
            WIREWATCH_DEMO_SECRET=secret,
            WIREWATCH_FEEDS_URL=f"http://127.0.0.1:{feeds_port}",
            WIREWATCH_RECEIVER_URL=f"http://127.0.0.1:{receiver_port}",
            WIREWATCH_LOG_FORMAT=env.text("WIREWATCH_LOG_FORMAT") or "text",  # read by a person, not a shipper
        )
        for role in ("poll", "filter", "alert"):
            log_path = state / f"{role}.log"
            log = open(log_path, "ab")  # noqa: SIM115 - closed in finally, after the child stopped
            logs.append(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "workers", role, "--config", str(config_dir)],
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            children.append((role, proc, log_path))
        print(f"daemon logs: {state}/poll.log, filter.log, alert.log", flush=True)
        print("pipeline running: alerts appear below as they arrive (Ctrl-C stops everything)", flush=True)
        return _watch(stop, children, feeds, receiver, _progress(config_dir, broker.bootstrap))
    finally:
        print("stopping...", flush=True)
        for role, proc, _path in reversed(children):
            stop_process(proc, role, timeout=35)
        for opened in logs:
            opened.close()
        receiver.stop()
        feeds.stop()
        redis.stop()
        broker.stop()
        print(f"stopped; {len(receiver.unique())} alert(s) received", flush=True)


def _progress(config_dir: Path, bootstrap: str) -> Progress:
    from workers.settings.config import load_settings

    s = load_settings(config_dir)
    names = Names(topic_prefix=s.kafka.topic_prefix, key_prefix=s.redis.key_prefix)
    return Progress(bootstrap, names.filter_group, names.stories, names.alerter_group, names.matches)


def _watch(
    stop: threading.Event,
    children: list[tuple[str, subprocess.Popen[bytes], Path]],
    feeds: FeedServer,
    receiver: Receiver,
    progress: Progress,
) -> int:
    announced = False
    while not stop.wait(1.0):
        for role, proc, log_path in children:
            if proc.poll() is not None:
                print(f"the {role} daemon exited with code {proc.returncode}; stopping the demo", flush=True)
                print(f"last lines of {log_path}:\n{log_tail(log_path)}", flush=True)
                return 1
        if announced:
            continue
        fetches = [sum(1 for path, _h in list(feeds.requests) if path == route) for route in feeds.routes]
        try:
            announced, stories = progress.done(fetches, len(receiver.unique()))
        except Exception as exc:  # noqa: BLE001 - the broker is still starting: look again next second
            logger.debug("progress check failed: %s", exc)
            continue
        if announced:
            print(
                f"all {len(feeds.routes)} sample feeds delivered: {stories} stories, "
                f"{len(receiver.unique())} alert(s); more come only when a feed changes (Ctrl-C stops)",
                flush=True,
            )
    return 0

"""`wirewatch demo`: the whole pipeline offline on this machine.

Starts the embedded broker and redis-server, serves the bundled sample feeds on 127.0.0.1, starts a
webhook receiver that prints each verified alert, and runs the three daemons and the web console (when the
extra 'web' is installed; http://127.0.0.1:8767/) as child processes with the shipped config/. Ctrl-C (or
SIGTERM) stops the daemons first, then the servers, and leaves no process behind.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from workers.core.signing import new_secret
from workers.devstack.feedserver import FeedServer
from workers.devstack.receiver import Receiver
from workers.devstack.stack import STATE_DIR, EmbeddedBroker, EmbeddedRedis, free_port, stop_process
from workers.settings import env

logger = logging.getLogger(__name__)

DEMO_FEEDS = Path(__file__).parent / "demo_feeds"
FEEDS_PORT = env.number("WIREWATCH_DEMO_FEEDS_PORT", int) or 8765
RECEIVER_PORT = env.number("WIREWATCH_DEMO_RECEIVER_PORT", int) or 8766
WEB_PORT = env.number("WIREWATCH_DEMO_WEB_PORT", int) or 8767


def _has_console() -> bool:
    """Whether the extra 'web' is installed (the demo runs without the console otherwise)."""
    from importlib.util import find_spec

    return all(find_spec(m) is not None for m in ("starlette", "uvicorn", "jinja2"))


def run_demo(config_dir: Path) -> int:
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
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        print(f"starting the embedded broker and redis-server (logs in {state})", flush=True)
        broker.start()
        redis.start()
        feeds.start(FEEDS_PORT)
        receiver.start(RECEIVER_PORT)
        print(
            f"sample feeds on http://127.0.0.1:{FEEDS_PORT}/, webhook receiver on http://127.0.0.1:{RECEIVER_PORT}/",
            flush=True,
        )
        child_env = env.for_child(
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            REDIS_URL=redis.url,
            WIREWATCH_DEMO_SECRET=secret,
            WIREWATCH_FEEDS_URL=f"http://127.0.0.1:{FEEDS_PORT}",
            WIREWATCH_RECEIVER_URL=f"http://127.0.0.1:{RECEIVER_PORT}",
            WIREWATCH_LOG_FORMAT=env.text("WIREWATCH_LOG_FORMAT") or "text",  # a terminal, not a log shipper
            WIREWATCH_WEB_PORT=str(WEB_PORT),
        )
        roles = ("poll", "filter", "alert", "web") if _has_console() else ("poll", "filter", "alert")
        if "web" in roles:
            host = env.web_host() or "127.0.0.1"
            print(
                f"web console on http://{host}:{WEB_PORT}/ (a subscriber portal needs its token: docs/console.md)",
                flush=True,
            )
        for role in roles:
            proc = subprocess.Popen(
                [sys.executable, "-m", "workers", role, "--config", str(config_dir)],
                env=child_env,
                start_new_session=True,
            )
            children.append((role, proc))
        print("pipeline running: alerts appear below as they arrive (Ctrl-C stops everything)", flush=True)
        while not stop.wait(0.5):
            for role, proc in children:
                if proc.poll() is not None:
                    print(f"the {role} daemon exited with code {proc.returncode}; stopping the demo", flush=True)
                    return 1
        return 0
    finally:
        print("stopping...", flush=True)
        for role, proc in reversed(children):
            stop_process(proc, role, timeout=35)
        receiver.stop()
        feeds.stop()
        redis.stop()
        broker.stop()
        print(f"stopped; {len(receiver.unique())} alert(s) received", flush=True)

"""Helpers of the console tests: a config with two subscribers, the console built on real Redis (and, when
given, a real broker), and Kafka-shaped records for feeding the console's reader without a broker."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.console.app import Console, build_app
from workers.console.live import Tail
from workers.console.state import ConsoleState
from workers.console.trytext import TextTrial
from workers.core.deadletter import dead_letter

SUBSCRIBERS = ("desk-a", "desk-b")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def console_config(make_config: Any, receiver_url: str, feeds: list[dict[str, Any]] | None = None) -> Path:
    subs = [
        {
            "name": n,
            "url": f"{receiver_url}/hooks/{n}?key=hookpass",
            "secret_env": "WIREWATCH_TEST_SECRET",
            "topics": ["dprk"],
        }
        | {"local": True}
        for n in SUBSCRIBERS
    ]
    return make_config(
        feeds=feeds or [{"name": "wire", "url": "http://reader:feedpass@127.0.0.1:9/wire.xml"}], subscribers=subs
    )


def make_console(cfg: Any, redis: Any, bootstrap: str = "127.0.0.1:9", token: str | None = None) -> Console:
    tail = Tail(bootstrap, cfg.names)
    return Console(ConsoleState(cfg, redis, tail, bootstrap), token, TextTrial(cfg.topics))


def app_of(console: Console) -> Any:
    return build_app(console, console.trial.start, lambda: None)


@dataclass
class Record:
    """What the console's reader takes from a consumed record (kafka-python's ConsumerRecord has these)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes
    key: bytes = b""


def dead_alert_record(topic: str, offset: int, subscriber: str, alert_id: str, title: str) -> Record:
    alert = {"alert_id": alert_id, "subscriber": subscriber, "type": "story.matched", "story": {"title": title}}
    value = dead_letter(
        "gave up after 3 attempts: endpoint answered 500",
        payload={"subscriber": subscriber, "alert": alert, "attempts": 3},
    )
    return Record(topic, 0, offset, int(time.time() * 1000), value, alert_id.encode())


def match_record(topic: str, offset: int, event_json: bytes) -> Record:
    return Record(topic, 0, offset, int(time.time() * 1000), event_json)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def as_json(raw: bytes) -> Any:
    return json.loads(raw)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1 (a free port), in a thread; yields its base URL."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY, as the server
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()

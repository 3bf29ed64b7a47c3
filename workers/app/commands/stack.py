"""`wirewatch stack up|down|status`: the embedded broker and Redis in the background, with pid and log
files under $WIREWATCH_STATE_DIR/stack (default .wirewatch/stack). Ports follow the defaults of
KAFKA_BOOTSTRAP_SERVERS and REDIS_URL, so the daemons find them without any setting.

``up`` returns only when each service answers (a Kafka TCP connect, a Redis PING) and prints where
it listens, its pid and its log; ``status`` exits 0 only when both are ready (usable in scripts);
``down`` stops them (SIGTERM, then SIGKILL after 10 s). A failure names the service and its log, exit 1.
A pid file is trusted only when its pid is still the process the stack started (same start time, same
command line: ``workers.devstack.stack.PidRecord``); otherwise it is stale: reported, removed, never
signalled, and ``up`` starts a new service. Redis runs with AOF (``appendonly yes``) in ``redis-data/``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workers.devstack.stack import (
    STATE_DIR,
    EmbeddedBroker,
    EmbeddedRedis,
    PidRecord,
    Service,
    StackError,
    port_open,
    start_time,
)
from workers.settings.env import Env
from workers.settings.redis_url import is_cluster_url, redacted


def _dir() -> Path:
    d = STATE_DIR / "stack"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _services() -> tuple[EmbeddedBroker, EmbeddedRedis]:
    env = Env.from_environ()
    kport = int(env.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
    if is_cluster_url(env.redis_url):  # the stack's one redis-server cannot be a cluster
        raise StackError(
            f"REDIS_URL={redacted(env.redis_url)} names a Redis Cluster; the dev stack runs one redis-server"
        )
    rport = urlsplit(env.redis_url).port or 6379
    d = _dir()
    # AOF, as the production advice: a stack restart keeps what was seen and delivered
    redis = EmbeddedRedis(rport, d / "redis.log", d / "redis-data", appendonly=True)
    return EmbeddedBroker(kport, d / "broker.log"), redis


def _running(svc: Service) -> int | None:
    """The pid of this stack's process for ``svc``, or None. A pid file naming any other process (gone, or a
    pid reused by a stranger) is stale: reported, removed, and its pid never signalled."""
    path = _dir() / f"{svc.name}.pid"
    if not path.exists():
        return None
    rec = PidRecord.read(path)
    if rec is not None and svc.owned(rec):
        return rec.pid
    what = f"pid {rec.pid} is not this stack's {svc.name}" if rec else "unreadable"
    print(f"{svc.name}: stale pid file {path} ({what}); removed, nothing signalled")
    path.unlink(missing_ok=True)
    return None


def up() -> int:
    print(f"state directory {_dir().resolve()}")
    for svc in _services():
        pid = _running(svc)
        if pid is not None:
            if not svc.ready():
                raise StackError(f"{svc.name}: running (pid {pid}) but not answering on 127.0.0.1:{svc.port}")
            print(f"{svc.name}: already running (pid {pid}) on 127.0.0.1:{svc.port}")
            continue
        svc.start()
        svc.record().write(_dir() / f"{svc.name}.pid")
        print(f"{svc.name}: ready on 127.0.0.1:{svc.port} (pid {svc.pid}, log {svc.log_path})")
    env = Env.from_environ()
    print(f"daemons connect with KAFKA_BOOTSTRAP_SERVERS={env.kafka_bootstrap} REDIS_URL={env.redis_url}")
    return 0


def _alive(pid: int, start: int | None) -> bool:
    return start is not None and start_time(pid) == start


def down() -> int:
    for svc in _services():
        pid = _running(svc)
        if pid is None:
            print(f"{svc.name}: not running")
            continue
        start = start_time(pid)  # checked before each signal: the pid is never taken for ours once it changed
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _alive(pid, start):
                break
            time.sleep(0.1)
        else:
            if _alive(pid, start):
                os.kill(pid, signal.SIGKILL)
        (_dir() / f"{svc.name}.pid").unlink(missing_ok=True)
        print(f"{svc.name}: stopped (pid {pid})")
    return 0


def status() -> int:
    code = 0
    for svc in _services():
        pid = _running(svc)
        ready = svc.ready() if pid else port_open(svc.port)
        state = "ready" if (pid and ready) else ("starting" if pid else "down")
        if state != "ready":
            code = 1
        print(f"{svc.name}: {state} 127.0.0.1:{svc.port}" + (f" pid {pid} log {svc.log_path}" if pid else ""))
    return code


def run(args: argparse.Namespace) -> int:
    try:
        return {"up": up, "down": down, "status": status}[args.action]()
    except StackError as exc:
        print(f"wirewatch stack: {exc}", file=sys.stderr)
        return 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "stack",
        help="start/stop the embedded broker and redis-server for development",
        description="The embedded Tansu broker and redis-server in the background.",
    )
    p.add_argument(
        "action",
        choices=["up", "down", "status"],
        help="up: start and wait until ready; down: stop; status: ready/starting/down (exit 0 only when ready)",
    )
    p.set_defaults(func=run)

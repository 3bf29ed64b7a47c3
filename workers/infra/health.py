"""The per-daemon HTTP port: ``/metrics`` (Prometheus text), ``/healthz`` (alive) and ``/readyz``.

Liveness is only "this process answers": restarting a daemon because Kafka is down would not help.
Readiness runs every registered check on each request (each check bounded by its own short timeout)
and answers 200 only when all pass, else 503 with the failing ones, so Kubernetes stops routing and
operators see why. Both bodies are small JSON documents.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from workers.infra import metrics

logger = logging.getLogger(__name__)

Check = Callable[[], bool]


class Readiness:
    """Named checks; a name set with ``mark`` is a fixed state (e.g. config loaded, clients built)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.lock = threading.Lock()
        self.checks: dict[str, Check] = {}
        self.details: dict[str, Callable[[], Any]] = {}

    def mark(self, name: str, ok: bool) -> None:
        self.add(name, lambda: ok)

    def add(self, name: str, check: Check) -> None:
        with self.lock:
            self.checks[name] = check

    def detail(self, name: str, fn: Callable[[], Any]) -> None:
        """Figures ``/readyz`` reports beside the checks (e.g. the alerter's queue depths); they never fail it."""
        with self.lock:
            self.details[name] = fn

    def described(self) -> dict[str, Any]:
        with self.lock:
            details = dict(self.details)
        out: dict[str, Any] = {}
        for name, fn in details.items():
            try:
                out[name] = fn()
            except Exception as exc:  # a figure that cannot be read is shown as missing, never a crash
                logger.debug("readiness detail failed detail=%s error=%s", name, type(exc).__name__)
                out[name] = None
        return out

    def evaluate(self) -> dict[str, bool]:
        with self.lock:
            checks = dict(self.checks)
        out = {}
        for name, check in checks.items():
            try:
                out[name] = bool(check())
            except Exception as exc:  # a failing check is "not ready", never a crashed endpoint
                logger.debug("readiness check failed check=%s error=%s", name, type(exc).__name__)
                out[name] = False
        ready = bool(out) and all(out.values())
        metrics.READY.labels(role=self.role).set(1 if ready else 0)
        return out


class HealthServer:
    def __init__(self, readiness: Readiness, host: str = "0.0.0.0", port: int = 0) -> None:
        self.readiness = readiness
        self.host = host
        self.port = port
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        """Bind and serve in a daemon thread; return the bound port (useful with port 0)."""
        readiness = self.readiness

        class Handler(BaseHTTPRequestHandler):
            # headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    self._json(200, {"status": "alive", "role": readiness.role})
                elif path == "/readyz":
                    checks = readiness.evaluate()
                    ok = bool(checks) and all(checks.values())
                    body = {"ready": ok, "role": readiness.role, "checks": checks}
                    if readiness.details:
                        body["details"] = readiness.described()
                    self._json(200 if ok else 503, body)
                else:
                    self._json(404, {"error": "not found", "paths": ["/metrics", "/healthz", "/readyz"]})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                pass  # probes every few seconds would drown the logs

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name="health").start()
        self.port = int(self.server.server_address[1])
        logger.info("health endpoints on http://%s:%d/ paths=/metrics,/healthz,/readyz", self.host, self.port)
        return self.port

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

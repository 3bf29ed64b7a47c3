"""A webhook receiver for the demo and the tests: verifies each Standard Webhooks signature,
drops repeats by webhook-id, records and prints every alert it accepts.

It is also the reference for subscribers: the verification is ``webhook.verify(secret, headers, body)``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workers.core.signing import verify

logger = logging.getLogger(__name__)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    """Records every POST; ``respond`` picks (status, delay) per request, for fault tests."""

    secret: str
    echo: bool = False
    respond: Callable[[Received], int] = lambda _r: 204
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> int:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec = Received(self.path, headers, body, verify(receiver.secret, headers, body))
                status = 401 if not rec.verified else receiver.respond(rec)
                if 200 <= status < 300:
                    receiver._accept(rec)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name="receiver").start()
        return int(self.server.server_address[1])

    def _accept(self, rec: Received) -> None:
        with self.lock:
            repeat = any(r.webhook_id == rec.webhook_id for r in self.received)
            self.received.append(rec)
        if self.echo:
            print(format_alert(rec, repeat), flush=True)

    def unique(self) -> dict[str, Received]:
        with self.lock:
            return {r.webhook_id: r for r in self.received}

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def format_alert(rec: Received, repeat: bool = False) -> str:
    try:
        a = rec.json
        if a.get("type") == "digest":
            titles = "\n".join(f"      - {x['story']['title']}  {x['story']['url']}" for x in a["alerts"])
            line = f"DIGEST {a['subscriber']} {a['count']} alert(s) (webhook-id {rec.webhook_id})\n{titles}"
            return line + ("  [repeat, dropped]" if repeat else "")
        story = a["story"]
        terms = "; ".join(f"{t}: {', '.join(v['terms'][:4])}" for t, v in a["topics"].items())
        line = (
            f"ALERT {a['subscriber']} [{story['language']}] {story['title']}\n"
            f"      {story['url']}\n      matched {terms}  (webhook-id {rec.webhook_id})"
        )
    except (ValueError, KeyError, TypeError):
        line = f"ALERT (unreadable payload) webhook-id {rec.webhook_id}"
    return line + ("  [repeat, dropped]" if repeat else "")

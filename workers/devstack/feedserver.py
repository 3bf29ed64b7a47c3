"""A small threaded HTTP server for feeds on 127.0.0.1: serves the demo's sample feeds, and in tests
real fault behaviours (status codes, delays). It answers conditional GETs with 304 like a polite
publisher, so the poller's validators are exercised for real.
"""

from __future__ import annotations

import hashlib
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs under a concurrent poller: each drop costs the
    # client a 1 s SYN retransmit, which a real publisher's server would never add
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that refused our certificate or hung up mid-request is the test, not a server fault
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    delay: float = 0.0  # seconds before answering (timeouts)
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # False: a publisher that sends no ETag and never answers 304

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @classmethod
    def from_directory(cls, directory: Path) -> FeedServer:
        return cls({f"/{p.name}": Route(p.read_bytes()) for p in sorted(directory.glob("*.xml"))})

    def url(self, path: str) -> str:
        assert self.server is not None
        scheme = "https" if isinstance(self.server.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> int:
        """Serve on 127.0.0.1:port (0: any free port), over TLS when given a server context."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.requests.append((self.path, headers))
                route = owner.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.validators and route.status == 200 and headers.get("if-none-match") == route.etag:
                    self.send_response(304)
                    self.send_header("etag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("content-type", route.content_type)
                self.send_header("content-length", str(len(route.body)))
                if route.status == 200 and route.validators:
                    self.send_header("etag", route.etag)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        if tls is not None:
            # handshake in the request's own thread, not in the accept loop that serves everyone
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="feedserver").start()
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

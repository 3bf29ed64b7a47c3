"""What the alerter reads of an endpoint's answer, with a real HTTP server on 127.0.0.1: a small body is read so
the connection is kept alive; a huge one is not read into memory (the connection is dropped instead)."""

from __future__ import annotations

import asyncio
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers.alerter.ssrf import webhook_session
from workers.alerter.webhook import deliver
from workers.core.signing import new_secret

HUGE = 30_000_000


class Endpoint(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[int] = set()

    def do_POST(self) -> None:  # noqa: N802
        Endpoint.connections.add(self.client_address[1])
        self.rfile.read(int(self.headers["content-length"]))
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("content-length", str(HUGE))
            self.end_headers()
            try:
                for _ in range(HUGE // 1_000_000):
                    self.wfile.write(b"x" * 1_000_000)
            except OSError:  # the alerter dropped the connection: what we expect
                pass
            return
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Endpoint.connections = set()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_huge_answer_is_not_read_and_small_ones_keep_the_connection(endpoint: str) -> None:
    secret = new_secret()

    async def run() -> tuple[int, int, list[int]]:
        async with webhook_session(local=True, max_connections=1) as session:
            tracemalloc.start()
            try:
                huge = await deliver(session, "s", f"{endpoint}/huge", secret, "msg_1", b"{}", timeout=5)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            small = [
                (await deliver(session, "s", f"{endpoint}/small", secret, f"msg_{i}", b"{}", timeout=5)).status
                for i in range(3)
            ]
            return huge.status, peak, small

    status, peak, small = asyncio.run(run())
    assert status == 200 and small == [200, 200, 200]
    assert peak < 5_000_000, f"{peak} bytes held while answering with {HUGE}"
    # the huge answer's connection was dropped; the three small ones shared one kept-alive connection
    assert len(Endpoint.connections) == 2

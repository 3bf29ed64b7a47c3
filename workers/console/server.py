"""Serving the console: build it from config and environment, then run uvicorn on a socket bound here, either in
the calling thread (`wirewatch web`) or in a thread of its own (`wirewatch run`).

The socket is bound before uvicorn starts, so a port in use is an OSError for the caller (one line, not uvicorn's
exit), and port 0 gives a free port the tests read back."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from workers.console.app import Console, build_app
from workers.console.live import Tail
from workers.console.security import check_bind
from workers.console.state import ConsoleState
from workers.console.trytext import TextTrial
from workers.infra.redis import RedisClient
from workers.settings import env as environment
from workers.settings.config import Config
from workers.settings.env import Env

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9470


def address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """--host/--port, else $WIREWATCH_WEB_HOST/$WIREWATCH_WEB_PORT, else 127.0.0.1:9470; checked against the token."""
    host = host or environment.web_host() or "127.0.0.1"
    chosen = port if port is not None else environment.number("WIREWATCH_WEB_PORT", int)
    check_bind(host, environment.web_token())
    return host, DEFAULT_PORT if chosen is None else chosen


class _Server(uvicorn.Server):
    """uvicorn's server, which on SIGTERM/SIGINT also ends the open event streams at once: uvicorn waits for
    open connections before the lifespan's shutdown runs, so they would otherwise hold the exit for its timeout."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop on SIGTERM/SIGINT and exit 0, as the daemons do (uvicorn's own re-raises the signal at exit, so a
        clean stop would report 143). Off the main thread (`wirewatch run`) the daemons' handlers stay."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class ConsoleServer:
    def __init__(self, cfg: Config, env: Env, redis: RedisClient, host: str, port: int) -> None:
        self.tail = Tail(env.kafka_bootstrap, cfg.names)
        self.trial = TextTrial(cfg.topics)
        self.console = Console(
            ConsoleState(cfg, redis, self.tail, env.kafka_bootstrap), environment.web_token(), self.trial
        )
        app = build_app(self.console, self._start_readers, self.tail.stop)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it every
        # answer waits out the client's delayed ACK (40 ms) between uvicorn's header and body writes
        self.sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))  # an OSError here names the port for the caller
        self.sock.listen(128)
        self.port = int(self.sock.getsockname()[1])
        self.host = host
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="on", proxy_headers=False
        )
        self.server = _Server(config, self.console.stopping)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _start_readers(self) -> None:
        self.tail.start()
        self.trial.start()
        state, stop = self.console.state, self.console.stopping
        threading.Thread(target=state.follow, args=(stop,), name="console-feeds", daemon=True).start()

    def serve(self) -> None:
        """In this thread until SIGTERM/SIGINT (uvicorn's own handlers)."""
        logger.info("web console on %s", self.url)
        self.server.run(sockets=[self.sock])

    def start(self) -> None:
        """In a thread of its own (`wirewatch run`): returns once it accepts connections."""
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="web", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        logger.info("web console on %s", self.url)

    def stop(self) -> None:
        self.console.stopping.set()  # open event streams end now, not at uvicorn's graceful timeout
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()
